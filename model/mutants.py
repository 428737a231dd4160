"""Known-unsafe variants of Algorithm 1, each breaking one rule.

A mutant is a named switch the rules consult; `catch` is the smallest
configuration (as Config fields) on which the checker must find a violation of
`breaks`, while the real protocol stays safe there. Every back-end declares the
variants it implements and `require` refuses the others (see BACKENDS).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from bftcheck.model.config import ConfigError


@dataclass(frozen=True)
class Mutant:
    name: str
    rule: str
    description: str
    breaks: str
    catch: dict[str, Any] = field(default_factory=dict)
    # A control is a variant that is *not* a bug: it must stay safe (and recover)
    # wherever the real protocol does; `breaks` names what it must keep.
    control: bool = False
    # Back-ends (BACKENDS) that leave this variant out on purpose, with the
    # reason; every other back-end must declare it (tests/model/test_variants.py).
    left_out: tuple[tuple[str, str], ...] = ()
    # The configuration the cross-validation matrix (bftcheck against TLC on
    # the twin) runs it on, small enough for TLC in seconds; None: `catch`.
    crossval: dict[str, Any] | None = None

    def crossval_config(self) -> dict[str, Any]:
        return {**(self.catch if self.crossval is None else self.crossval), "mutant": self.name}


# The cross-validation configurations: 3 validators, 1 height, 2 rounds.
def _small(powers: tuple[int, ...], budget: int) -> dict[str, Any]:
    return {"powers": powers, "byzantine": 1, "byz_budget": budget, "heights": 1, "rounds": 2,
            "values": 2}


# The n4-f1 preset: 3 correct validators and 1 Byzantine with a budget of 2,
# on which the real protocol is safe (Byzantine power 1/4 < 1/3).
_N4 = {"powers": (1, 1, 1, 1), "heights": 1, "rounds": 2, "values": 2, "byzantine": 1,
       "byz_budget": 2}
# Partitions: 4 correct validators, one validator cut off and healed, 1 height
# (a validator still at height 0 when the others have decided it is a height behind).
_SPLIT = {"powers": (1, 1, 1, 1), "heights": 1, "rounds": 1, "values": 1, "byzantine": 0,
          "byz_budget": 0, "partitions": ("isolate-one",), "max_partitions": 2}
# For cross-validation (TLC on _SPLIT takes minutes): 3 validators, 2 heights.
_SMALL_SPLIT = {**_SPLIT, "powers": (1, 1, 1), "heights": 2}

# Termination after GST: 3 correct + 1 Byzantine, GST at round 1 (round 0
# asynchronous, where a validator locks), and enough rounds that Algorithm 1
# terminates on every run (synchrony.py, "The round bound"): 5, with a silent
# Byzantine validator or one that may send one message.
_GST = {"powers": (1, 1, 1, 1), "byzantine": 1, "byz_budget": 0, "heights": 1, "rounds": 5,
        "values": 2, "gst": 1}
_GST_BYZ = {**_GST, "byz_budget": 1}
# An equivocating proposer (p4, round 3): two proposals and its prevote.
_GST_BYZ3 = {**_GST, "byz_budget": 3}
# Why the Z3 rules leave the liveness variants out.
_NO_GST = (("z3", "partial synchrony (gst) and termination are judged only by the explicit "
                  "checker: BMC has no maximal-run check"),)
# Their cross-validation (TLC counts the same states; termination, a property
# of the state graph, is bftcheck's): 2 correct validators of power 2 and 1 and
# a Byzantine one, proposer of round 2, 3 rounds, GST at round 1.
_GST_SMALL = {**_small((2, 1, 1), 1), "rounds": 3, "gst": 1}

MUTANTS: dict[str, Mutant] = {
    m.name: m
    for m in (
        Mutant(
            "weak-quorum",
            "quorum threshold",
            "a quorum is half of the power instead of more than two thirds",
            "agreement",
            _N4,
            crossval=_small((2, 1, 1), 1),
        ),
        Mutant(
            "no-lock",
            "lines 23 and 29",
            "prevote ignores the lock: any valid proposal gets a prevote",
            "agreement",
            _N4,
            crossval=_small((2, 1, 1), 1),
        ),
        Mutant(
            "decide-on-prevotes",
            "line 49",
            "decide on a proposal plus a prevote quorum, skipping precommits",
            "agreement",
            _N4,
            crossval=_small((1, 1, 1), 2),
        ),
        Mutant(
            "unlock-on-new-round",
            "lines 11-13",
            "StartRound releases the lock (lockedValue/lockedRound reset every round)",
            "agreement",
            _N4,
            crossval=_small((2, 1, 1), 1),
        ),
        Mutant(
            "accept-invalid",
            "lines 23, 29, 36 and 50",
            "valid(v) always holds: an invalid proposal is voted for and decided",
            "validity",
            {
                "powers": (3, 1),
                "byzantine": 1,
                "byz_budget": 1,
                "heights": 1,
                "rounds": 2,
                "values": 1,
            },
        ),
        Mutant(
            "decide-stays-in-height",
            "lines 49-54",
            "deciding does not end the height: decision[h] may be decided again",
            "integrity",
            {**_N4, "byzantine": 2, "byz_budget": 6},
            crossval=_small((1, 3), 3),
        ),
        Mutant(
            "no-block-sync",
            "block sync",
            "a validator a height behind cannot fetch decided blocks: it never catches up",
            "recovery",
            _SPLIT,
            crossval=_SMALL_SPLIT,
        ),
        Mutant(
            "unverified-sync",
            "commit certificate verification",
            "block sync accepts a certificate of more than 1/3 of the power instead of 2/3",
            "agreement",
            # one split, p4 (the Byzantine peer) cut off; the fork needs no split
            {**_N4, "components": (((0, 1, 2), (3,)),), "max_partitions": 2},
            # a Byzantine peer's block sync on a 1/3 certificate, 2 heights
            crossval={"powers": (1, 1, 1), "byzantine": 1, "byz_budget": 1, "heights": 2,
                      "rounds": 1, "values": 1, "partitions": ("isolate-one",),
                      "max_partitions": 2},
        ),
        Mutant(
            "ignore-lock-round",
            "lines 28-29",
            "prevote a proof-of-lock value from a round older than one's own lock "
            "(lockedRound <= vr dropped)",
            "agreement",
            # 3 rounds: a lock in round 1 and an older proof-of-lock from round 0
            # re-proposed in round 2; safe with 2 rounds even with the mutant
            {**_small((2, 1, 1), 1), "rounds": 3},
        ),
        Mutant(
            "propose-any-value",
            "lines 14-16",
            "the original Tendermint: a proposer proposes any value, never its validValue, and "
            "a lock is released only by a later proof-of-lock (Cachin and Vukolic 2017; "
            "tendermint#1047, #9251; fixed by validValue/validRound in PR #1142)",
            "termination",
            _GST,
            left_out=_NO_GST,
            crossval=_GST_SMALL,
        ),
        Mutant(
            "prevote-nil-on-pol",
            "lines 22 and 28-29",
            "line 22 also applies to a proposal with a validRound, so a locked validator may "
            "always prevote nil instead of taking the proof-of-lock rule (Dissecting "
            "Tendermint; tendermint/spec#37, fixed in spec#38)",
            "termination",
            _GST_BYZ,
            left_out=_NO_GST,
            crossval=_GST_SMALL,
        ),
        Mutant(
            "skip-timeout-precommit",
            "lines 47-48 and 65-67",
            "a validator leaves the round on 2f + 1 precommits at once, without waiting for "
            "timeoutPrecommit (tendermint#1690, explained in #5009 and #7900; fixed in PR "
            "#2493)",
            "termination",
            # synchronous from the start: the real protocol decides in round 0;
            # the variant needs the last round's proposer to be the Byzantine one
            {**_GST_BYZ, "rounds": 4, "gst": 0},
            left_out=_NO_GST,
            crossval={**_GST_SMALL, "gst": 0},
        ),
        Mutant(
            "first-proposal-only",
            "line 36",
            "a validator holds only the first proposal of a round it received, so under an "
            "equivocating proposer it does not record the value that gathered 2f + 1 prevotes "
            "as its validValue (tendermint#2583)",
            "valid-block",
            _GST_BYZ3,
            left_out=_NO_GST,
            # the Byzantine proposer of round 2 equivocates: two proposals, a prevote
            crossval={**_GST_SMALL, "byz_budget": 3},
        ),
        Mutant(
            "regossip-all-heights",
            "gossip",
            "peers re-gossip messages of every height, not just their current one "
            "(a control: not a bug, must stay safe and recover)",
            "recovery",
            _SPLIT,
            control=True,
            crossval=_SMALL_SPLIT,
        ),
    )
}


# The back-ends that run a configuration, and what each is called in messages.
# Each declares the variants it implements (its own constant, derived from its
# own code where it can be); building one for a variant it does not declare is
# refused, never silently run as the real protocol.
BACKENDS = {
    "python": "the Python rules (model/tendermint.py)",
    "compiled": "the compiled rules (model/_rules_c.pyx)",
    "z3": "the Z3 rules (model/symbolic.py)",
    "tla": "the TLA+ twin (spec/Tendermint.tla)",
}
FIXES = {
    "python": "implement it there first: the Python rules are the source of truth",
    "compiled": "implement it there, or run on the Python rules with BFTCHECK_NO_EXTENSIONS=1",
    "z3": "implement it there, or check it with 'bftcheck check' instead",
    "tla": "implement it there, or check it with 'bftcheck check' instead",
}


class VariantUnsupported(ConfigError):
    """A back-end asked to run a variant it does not implement; one line, exit 2."""


def require(backend: str, declared: Iterable[str], mutant: str | None) -> None:
    """Refuse `mutant` unless `backend` declares it (None, the real protocol,
    every back-end runs)."""
    if mutant is None:
        return
    implemented = sorted(declared)
    if mutant not in implemented:
        raise VariantUnsupported(
            f"{BACKENDS[backend]} do not implement variant {mutant!r} (they implement "
            f"{', '.join(implemented) or 'none'}): {FIXES[backend]}")
