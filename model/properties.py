"""The properties of the protocol, each a named predicate over encoded states.

Safety (kind "always"): Agreement, Validity, Integrity (a step property),
ledger consistency, Accountability, and no-false-accusation (a sanity check
of the evidence rules themselves). Reachability witnesses (kind "sometimes"):
a model in which nothing interesting happens passes every safety check, so
the checker also reports whether a decision, a round skip and a lock change
were reached.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from bftcheck.checker.interface import Action, Property
from bftcheck.model.state import HEIGHT, LOCAL_FIELDS, LOCKED_VALUE, NIL, ROUND, VALID_ROUND, Layout

if TYPE_CHECKING:
    from bftcheck.model.config import Config
    from bftcheck.model.tendermint import TendermintModel


def decisions(lay: Layout, s: bytes, h: int) -> list[int]:
    """Value codes decided at height h by the correct validators that decided."""
    return [c for c in (s[b + LOCAL_FIELDS + h] for b in lay.local) if c]


def agreement(lay: Layout, s: bytes) -> bool:
    """No two correct validators decide differently at any height."""
    for h in range(lay.H):
        if len(set(decisions(lay, s, h))) > 1:
            return False
    return True


def validity(lay: Layout, s: bytes) -> bool:
    """Every decided value is valid (the invalid value x is never decided)."""
    for b in lay.local:
        for h in range(lay.H):
            if s[b + LOCAL_FIELDS + h] == lay.invalid:
                return False
    return True


def integrity(lay: Layout, before: bytes, after: bytes) -> bool:
    """A decision, once made, never changes."""
    for b in lay.local:
        for h in range(lay.H):
            old = before[b + LOCAL_FIELDS + h]
            if old and after[b + LOCAL_FIELDS + h] != old:
                return False
    return True


def ledger(lay: Layout, s: bytes, b: int) -> list[int]:
    out = []
    for h in range(lay.H):
        c = s[b + LOCAL_FIELDS + h]
        if not c:
            break
        out.append(c)
    return out


def ledger_consistency(lay: Layout, s: bytes) -> bool:
    """Of any two correct validators' ledgers, one is a prefix of the other."""
    ledgers = [ledger(lay, s, b) for b in lay.local]
    for i, a in enumerate(ledgers):
        for c in ledgers[i + 1 :]:
            k = min(len(a), len(c))
            if a[:k] != c[:k]:
                return False
    return True


# -- evidence of misbehaviour (for Accountability) ------------------------------
def votes(lay: Layout, s: bytes, kind: str, i: int, h: int, r: int) -> set[int]:
    """Vote codes validator i sent (and correct validators acted on) at (h, r)."""
    if lay.is_byz[i]:
        bi = i - lay.byzantine[0]
        off = lay.byz_prevote(bi, h, r) if kind == "prevote" else lay.byz_precommit(bi, h, r)
        mask = s[off]
        return {c for c in lay.byz_vote_codes if mask >> c & 1}
    ci = lay.correct.index(i)
    c = s[lay.prevote(ci, h, r) if kind == "prevote" else lay.precommit(ci, h, r)]
    return {c} if c else set()


def prevote_power(lay: Layout, s: bytes, h: int, r: int, code: int) -> int:
    return sum(lay.powers[i] for i in range(lay.n) if code in votes(lay, s, "prevote", i, h, r))


def equivocations(lay: Layout, s: bytes, i: int, h: int) -> Iterator[str]:
    """Two different prevotes, precommits or proposals in one round, each said
    in words (value names from the layout)."""
    for r in range(lay.R):
        for kind, did in (("prevote", "prevoted"), ("precommit", "precommitted")):
            codes = votes(lay, s, kind, i, h, r)
            if len(codes) > 1:
                yield f"{did} {_names(lay, codes)} in round {r} (equivocation)"
        if lay.is_byz[i] and lay.proposer(h, r) == i:
            base = lay.byz_proposal(h, r)
            bits = sum(bin(x).count("1") for x in s[base : base + lay.proposal_mask_bytes])
            if bits > 1:
                yield f"proposed {bits} different proposals in round {r}"


def amnesias(lay: Layout, s: bytes, i: int, h: int) -> Iterator[str]:
    """Precommitted v1 in round r1, later prevoted v2 != v1 in round r2 > r1,
    with no proof-of-lock (2f + 1 prevotes) for v2 in any round of [r1, r2):
    a correct validator, locked on v1 since r1, needs such a POL (line 29)."""
    quorum = 2 * lay.total
    for r1 in range(lay.R):
        for v1 in votes(lay, s, "precommit", i, h, r1):
            if v1 == NIL:
                continue
            for r2 in range(r1 + 1, lay.R):
                for v2 in votes(lay, s, "prevote", i, h, r2):
                    if v2 in (NIL, v1):
                        continue
                    if not any(
                        3 * prevote_power(lay, s, h, vr, v2) > quorum for vr in range(r1, r2)
                    ):
                        rounds = f"round {r1}" if r2 == r1 + 1 else f"rounds {r1}..{r2 - 1}"
                        yield (f"precommitted {lay.value_name(v1)} in round {r1}, then "
                               f"prevoted {lay.value_name(v2)} in round {r2} with no "
                               f"proof-of-lock for {lay.value_name(v2)} in {rounds} (amnesia)")


def _names(lay: Layout, codes: set[int]) -> str:
    return " and ".join(lay.value_name(c) for c in sorted(codes))


def equivocated(lay: Layout, s: bytes, i: int, h: int) -> bool:
    return any(True for _ in equivocations(lay, s, i, h))


def amnesic(lay: Layout, s: bytes, i: int, h: int) -> bool:
    return any(True for _ in amnesias(lay, s, i, h))


def evidence(lay: Layout, s: bytes, i: int, h: int) -> list[str]:
    """Why validator i is provably faulty at height h (empty: it is not)."""
    return list(equivocations(lay, s, i, h)) + list(amnesias(lay, s, i, h))


def accused(lay: Layout, s: bytes, i: int, h: int) -> bool:
    """Validator i is provably faulty at height h from the messages in the state."""
    return equivocated(lay, s, i, h) or amnesic(lay, s, i, h)


def faulty(lay: Layout, s: bytes, h: int) -> list[int]:
    """Validators provably faulty at height h from the messages in the state."""
    return [i for i in range(lay.n) if accused(lay, s, i, h)]


def accountability(lay: Layout, s: bytes) -> bool:
    """Where Agreement fails at a height, validators holding more than 1/3 of
    the power are provably faulty (equivocation or amnesia) at that height.

    The evidence is the messages correct validators acted on (Byzantine
    messages enter the state only then); with Byzantine power above 2/3 the
    property fails by nature: their precommits alone decide, leaving none."""
    for h in range(lay.H):
        if len(set(decisions(lay, s, h))) > 1:
            power = sum(lay.powers[i] for i in faulty(lay, s, h))
            if 3 * power <= lay.total:
                return False
    return True


def no_false_accusation(lay: Layout, s: bytes) -> bool:
    """No correct validator is ever provably faulty (checks the evidence rules)."""
    for h in range(lay.H):
        if any(accused(lay, s, i, h) for i in lay.correct):
            return False
    return True


def decision_reached(lay: Layout, s: bytes) -> bool:
    return any(s[b + LOCAL_FIELDS] for b in lay.local)


def lock_changed(lay: Layout, before: bytes, after: bytes) -> bool:
    for b in lay.local:
        old, new = before[b + LOCKED_VALUE], after[b + LOCKED_VALUE]
        if old and new and old != new:
            return True
    return False


# -- recovery after a partition (model/network.py) ------------------------------
def round_bounded(model: TendermintModel, s: bytes, ci: int) -> bool:
    """Correct validator ci would start round R, past the configured bound: it
    is in the last round of an undecided height and its OnTimeoutPrecommit
    guard (line 47: 2f + 1 precommits of the round) holds. With more rounds it
    would go on, so a run stopped here proves nothing either way."""
    lay = model.lay
    b = lay.local[ci]
    h = s[b + HEIGHT]
    return (h < lay.H and s[b + ROUND] == lay.R - 1
            and model.leaves_round(model._turn(s, ci, b, h)))


def recovered(model: TendermintModel, s: bytes) -> bool:
    """The target of Recovery: every correct validator has decided every height
    (or is stopped only by the round bound, see `round_bounded`), and those
    that decided every height hold the same ledger."""
    lay = model.lay
    full = None
    for ci, b in enumerate(lay.local):
        if s[b + HEIGHT] == lay.H:
            mine = s[b + LOCAL_FIELDS:b + LOCAL_FIELDS + lay.H]
            if full is None:
                full = mine
            elif mine != full:
                return False
        elif not round_bounded(model, s, ci):
            return False
    return True


def healed(lay: Layout, s: bytes) -> bool:
    """The network is whole (no split, or the last one healed)."""
    return s[lay.net] == 0


def mover(lay: Layout, before: bytes, after: bytes) -> int:
    """The correct validator whose local variables a step changed (every step of
    Algorithm 1 and block sync changes its taker's), or -1 for the network."""
    width = LOCAL_FIELDS + lay.H
    for ci, b in enumerate(lay.local):
        if before[b:b + width] != after[b:b + width]:
            return ci
    return -1


# The properties only a partitioned configuration has (recovery_properties).
PARTITION_ONLY = ("recovery", "fair-recovery")
# Judged only on configurations with GST; valid-block also only without
# partitions: a split open at GST moves the start of synchrony to its heal,
# which no round names.
TERMINATION, VALID_BLOCK = "termination", "valid-block"
GST_ONLY = (TERMINATION, VALID_BLOCK)


def why_not_judged(name: str, cfg: Config) -> str:
    """Why a GST-only property is not in this configuration's catalogue."""
    if cfg.gst is None:
        return (f"property {name!r} is judged after GST, and this configuration has none: "
                f"pass --gst ROUND (the round of height 0 from which the network is "
                f"synchronous)")
    return (f"property {name!r} is judged only without partitions (a split open at GST "
            f"moves the start of synchrony to its heal): drop --partitions")


def recovery_properties(model: TendermintModel) -> list[Property]:
    lay = model.lay
    fast = model.fast
    target = fast.recovered if fast is not None else (lambda s: recovered(model, s))
    return [
        Property(
            PARTITION_ONLY[0],
            "recovery",
            "state",
            target,
            "after the last heal, every reachable state can still reach one where all "
            "correct validators decided every height with the same ledger",
            region=lambda s: healed(lay, s),
            actor=lambda before, after: mover(lay, before, after),
        ),
        Property(
            PARTITION_ONLY[1],
            "liveness",
            "state",
            target,
            "after the last heal, every run with fair delivery and timeouts recovers",
            region=lambda s: healed(lay, s),
            actor=lambda before, after: mover(lay, before, after),
        ),
    ]


# -- termination after GST (model/synchrony.py) ----------------------------------
def decided_everything(lay: Layout, s: bytes) -> bool:
    """Every correct validator has decided every height."""
    return all(s[b + HEIGHT] == lay.H for b in lay.local)


def round_reached(lay: Layout, s: bytes) -> int:
    """The highest (height, round) an undecided correct validator is in, as
    height * rounds + round: the latency report's measure of a run."""
    return max((s[b + HEIGHT] * lay.R + s[b + ROUND] for b in lay.local
                if s[b + HEIGHT] < lay.H), default=0)


def valid_block(model: TendermintModel, s: bytes) -> bool:
    """The validValue property (arXiv:1807.04938, the lemma termination rests on;
    tendermint#2583): once a correct validator locks a value in a round r at or
    after GST, every correct validator that leaves round r of that height has
    recorded a valid value of round r or later."""
    assert model.cfg.gst is not None
    return valid_block_breach(model.lay, model.cfg.gst, s) is None


def valid_block_breach(lay: Layout, gst: int, s: bytes) -> tuple[int, int, list[int], int] | None:
    """The first breach of valid-block in s: (height, round, the correct
    validators that locked in it, a correct validator that left it without a
    valid value of it), or None. A correct precommit for a value in round r is
    that lock (line 36 in the prevote step sends it); validRound only grows
    within a height, so "validRound >= r" in a later round of the height says
    that line 36 fired for it in round r or after."""
    correct = range(len(lay.correct))
    for h in range(lay.H):
        for r in range(gst if h == 0 else 0, lay.R - 1):
            lockers = [ci for ci in correct if s[lay.precommit(ci, h, r)] > NIL]
            if not lockers:
                continue
            for ci, b in enumerate(lay.local):
                if s[b + HEIGHT] == h and s[b + ROUND] > r and s[b + VALID_ROUND] - 1 < r:
                    return h, r, lockers, ci
    return None


def termination_properties(model: TendermintModel) -> list[Property]:
    """Termination, on a configuration with GST: every maximal run of the
    synchronous region ends with every correct validator decided. The rules
    only ever move forward (rounds, steps, heights, the pool grow), so the
    state graph has no cycles and a maximal run ends in a state with no step:
    a violation is a reachable synchronous state with no step and someone
    undecided; a state with no step that the round bound caused, before the
    round in which Algorithm 1 guarantees a decision, makes the verdict
    unknown (`inconclusive`, synchrony.cut_by_bound)."""
    lay, fast = model.lay, model.fast
    assert model.sync is not None
    return [Property(
        TERMINATION,
        "liveness",
        "state",
        fast.decided_everything if fast is not None else lambda s: decided_everything(lay, s),
        "after GST (--gst), every run ends with every correct validator having decided every "
        "height",
        region=fast.synchronous if fast is not None else model.sync.synchronous,
        inconclusive=model.sync.cut_by_bound,
        measure=lambda s: round_reached(lay, s),
        cut_reason="the round bound ended it before the round in which Algorithm 1 "
                   "guarantees a decision; raise --rounds",
        actor=lambda before, after: mover(lay, before, after),
    )] + ([] if lay.partitioned else [Property(
        VALID_BLOCK,
        "always",
        "state",
        fast.valid_block if fast is not None else lambda s: valid_block(model, s),
        "after GST (--gst), once a correct validator locks a value in a round, every correct "
        "validator leaving that round has recorded a valid value of it (no partitions)",
    )])


def catalogue(model: TendermintModel) -> list[Property]:
    """The properties, checked by the compiled rules when they are built (the
    functions above are their reference; tests check that both agree)."""
    lay = model.lay
    fast = model.fast
    extra = recovery_properties(model) if lay.partitioned else []
    if model.sync is not None:
        extra += termination_properties(model)
    if fast is not None:
        return [
            Property(p.name, p.kind, p.scope, check, p.description)
            for p, check in zip(_catalogue(lay), (
                fast.agreement, fast.validity,
                lambda before, action, after: fast.integrity(before, after),
                fast.ledger_consistency, fast.accountability, fast.no_false_accusation,
                fast.decision_reached,
                lambda before, action, after: action == "RoundSkip",
                lambda before, action, after: fast.lock_changed(before, after),
            ), strict=True)
        ] + extra
    return _catalogue(lay) + extra


def _catalogue(lay: Layout) -> list[Property]:
    return [
        Property(
            "agreement",
            "always",
            "state",
            lambda s: agreement(lay, s),
            "no two correct validators decide differently at a height",
        ),
        Property(
            "validity",
            "always",
            "state",
            lambda s: validity(lay, s),
            "every decided value is valid",
        ),
        Property(
            "integrity",
            "always",
            "step",
            lambda before, action, after: integrity(lay, before, after),
            "a decision never changes (checked on every step)",
        ),
        Property(
            "ledger-consistency",
            "always",
            "state",
            lambda s: ledger_consistency(lay, s),
            "correct validators' ledgers are prefixes of one another",
        ),
        Property(
            "accountability",
            "always",
            "state",
            lambda s: accountability(lay, s),
            "if agreement fails, validators with more than 1/3 of the power are "
            "provably faulty (equivocation or amnesia)",
        ),
        Property(
            "no-false-accusation",
            "always",
            "state",
            lambda s: no_false_accusation(lay, s),
            "no correct validator is ever provably faulty",
        ),
        Property(
            "decision-reachable",
            "sometimes",
            "state",
            lambda s: decision_reached(lay, s),
            "some correct validator decides",
        ),
        Property(
            "round-skip-reachable",
            "sometimes",
            "step",
            lambda before, action, after: action == "RoundSkip",
            "some correct validator skips to a higher round (line 55)",
        ),
        Property(
            "lock-change-reachable",
            "sometimes",
            "step",
            lambda before, action, after: lock_changed(lay, before, after),
            "some correct validator changes its lock to another value",
        ),
    ]


__all__ = ["Action", "catalogue"]
