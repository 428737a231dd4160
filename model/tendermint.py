"""Tendermint consensus, Algorithm 1 of arXiv:1807.04938, as an executable model.

Line numbers in comments refer to Algorithm 1 ("The latest gossip on BFT
consensus", Buchman, Kwon, Milosevic, November 2019 revision). Note the paper's
known typo at line 58: OnTimeoutPropose fires while step = propose.

The network abstraction (why a pool of sent messages is exact)
--------------------------------------------------------------
The network is asynchronous: a message may reach any subset of validators, in
any order, or never. Every rule of Algorithm 1 is an "upon" guard that is
monotone in the set of messages received (a proposal is present, a threshold
of votes is reached), and whether and when an enabled rule fires is already a
nondeterministic choice of the model. So a validator that may act on any
message that has been sent behaves exactly like one whose received set is some
subset of the sent messages: whatever it could do on a subset it can do on the
whole pool (it is free not to act on the rest), and whatever it does on the
pool it could do after a delivery of the whole pool. The state therefore
holds one pool of sent messages instead of a received set per validator, and
there is no delivery action. tests/model/test_abstraction.py checks this
against a literal per-receiver model: same reachable joint local states.

Each rule fires on a threshold and records the decision it took, never the
subset of messages that justified it; the "schedule OnTimeout..." of lines 21,
35 and 48 need no state, because a timeout is an action enabled while its
trigger holds, and triggers only grow.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any, NamedTuple

from bftcheck.checker.interface import Action, NativeEntry, Property
from bftcheck.checker.symmetry import Symmetry
from bftcheck.model import blocksync
from bftcheck.model import properties as props
from bftcheck.model.blocksync import CommitCertificate
from bftcheck.model.byzantine import PRECOMMIT_KIND, PREVOTE_KIND, Draw, Tally, apply_draw
from bftcheck.model.compiled import KIND_NAMES, compiled_rules
from bftcheck.model.config import Config
from bftcheck.model.network import Network
from bftcheck.model.state import (
    HEIGHT,
    LOCAL_FIELDS,
    LOCKED_ROUND,
    LOCKED_VALUE,
    NIL,
    PRECOMMIT,
    PREVOTE,
    PROPOSE,
    ROUND,
    STEP,
    VALID_ROUND,
    VALID_VALUE,
    Layout,
    from_view,
    validator_name,
    view,
)
from bftcheck.model.story import TendermintVocabulary
from bftcheck.model.synchrony import Synchrony

# The variants (model/mutants.py) these rules implement, at the `mutant ==`
# comparisons below and in network.py; tests/model/test_variants.py checks this
# list against those comparisons.
VARIANTS = frozenset({"weak-quorum", "no-lock", "decide-on-prevotes", "unlock-on-new-round",
                      "accept-invalid", "decide-stays-in-height", "no-block-sync",
                      "unverified-sync", "regossip-all-heights",
                      "ignore-lock-round", "propose-any-value", "prevote-nil-on-pol",
                      "skip-timeout-precommit", "first-proposal-only"})


class _Turn(NamedTuple):
    """What the rules of one validator's turn read: the state, who moves (ci,
    the validator index me, its name p, whose view it reads), where its local
    state is (b) and what it holds, and where its votes of round r go."""

    s: bytes
    ci: int
    b: int
    h: int
    r: int
    step: int
    me: int
    p: str
    viewer: int | None
    locked_value: int
    locked_round: int
    prevote_at: int
    precommit_at: int


class TendermintModel:
    """The protocol model behind the `Model` interface (see checker/interface.py)."""

    vocabulary = TendermintVocabulary()  # how its traces read (model/story.py)

    def __init__(self, cfg: Config) -> None:
        from bftcheck.model.mutants import require

        require("python", VARIANTS, cfg.mutant)
        self.cfg = cfg.validated()
        self.lay = lay = Layout(self.cfg)
        self.mutant = cfg.mutant
        total = lay.total
        if self.mutant == "weak-quorum":

            def quorum(p: int) -> bool:
                return 2 * p >= total
        else:

            def quorum(p: int) -> bool:  # 2f + 1: more than 2/3 of the voting power
                return 3 * p > 2 * total

        self.quorum = quorum
        self.tally = Tally(lay, quorum)
        self.names = tuple(validator_name(i) for i in range(lay.n))
        # Partitions, gossip and block sync (network.py), when configured.
        self.net = Network(lay, self.mutant == "regossip-all-heights") if lay.partitioned else None
        total_power = lay.total
        if self.mutant == "unverified-sync":  # accepts f + 1 instead of 2f + 1
            self.certifies: Callable[[int], bool] = lambda p: 3 * p > total_power
        else:
            self.certifies = quorum
        # Partial synchrony (model/synchrony.py): the timeout guards after GST.
        self.sync = Synchrony(self) if cfg.gst is not None else None
        # The compiled transcription of these rules, used for exploration when built.
        self.fast = compiled_rules(lay, self.mutant)
        self._native: NativeEntry | None = None
        self._symmetry: Any = False  # computed when first asked for
        self._properties = props.catalogue(self)

    # -- the interface ---------------------------------------------------------
    def init_states(self) -> list[bytes]:
        """Line 10: every correct validator starts round 0 of height 0."""
        lay = self.lay
        starts = [bytearray(lay.size)]
        for ci in range(len(lay.correct)):
            nxt = []
            for buf in starts:
                nxt.extend(self._start_round(buf, ci, 0, 0))
            starts = nxt
        return [bytes(b) for b in starts]

    @property
    def compiled(self) -> bool:
        """Whether successor_states runs the compiled rules (a declared capability)."""
        return self.fast is not None

    @property
    def native(self) -> NativeEntry | None:
        """The compiled rules' C entry points for the compiled search engine (a
        declared capability), or None when they are not built."""
        if self.fast is None:
            return None
        if self._native is None:
            from bftcheck.model import _rules_c

            self._native = NativeEntry(self.fast.native(), _rules_c.STATE_PREDICATES,
                                       _rules_c.STEP_PREDICATES, KIND_NAMES)
        return self._native

    @property
    def symmetry(self) -> Symmetry | None:
        """The configuration's symmetry group (model/symmetry.py), a declared
        capability for symmetry reduction; None when it has only the identity."""
        if self._symmetry is False:
            from bftcheck.model.symmetry import symmetry

            self._symmetry = symmetry(self.lay)
        return self._symmetry

    def next_states(self, s: bytes) -> Iterator[tuple[Action, bytes]]:
        lay = self.lay
        if self.net is None:
            for ci in range(len(lay.correct)):
                base = lay.local[ci]
                h = s[base + HEIGHT]
                if h >= lay.H:
                    continue  # decided every height: nothing left to do
                yield from self._validator_steps(s, ci, base, h)
            return
        for ci in range(len(lay.correct)):
            base = lay.local[ci]
            h = s[base + HEIGHT]
            if h >= lay.H:
                continue
            for action, t in self._validator_steps(s, ci, base, h):
                yield action, self._settled(t)
            if self.mutant != "no-block-sync":
                yield from self._sync_steps(s, ci, h)
        yield from self._network_events(s)

    def successor_states(self, s: bytes) -> tuple[list[bytes], list[str]]:
        """Successor states and their action names, in `next_states` order: what
        a search needs, from the compiled rules when they are built."""
        if self.fast is not None:
            states, kinds = self.fast.successors(s)
            return states, [KIND_NAMES[k] for k in kinds]
        succ = list(self.next_states(s))
        return [t for _, t in succ], [a.name for a, _ in succ]

    def properties(self) -> list[Property]:
        return self._properties

    def encode(self, v: dict[str, Any]) -> bytes:
        return from_view(self.lay, v)

    def decode(self, s: bytes) -> dict[str, Any]:
        return view(self.lay, s)

    # -- the network: gossip, block sync, partition events ----------------------
    def _viewer(self, ci: int) -> int | None:
        """Whose view a rule of correct validator ci reads (None: no partitions)."""
        return self.lay.correct[ci] if self.net is not None else None

    def _send(self, buf: bytearray, at: int, code: int, sender: int) -> None:
        """Broadcast a correct validator's message stored at offset `at`."""
        buf[at] = code
        if self.net is not None:
            self.net.send(buf, self.lay.reach(at), sender)

    def _settled(self, t: bytes) -> bytes:
        buf = bytearray(t)
        assert self.net is not None
        self.net.settle(buf)
        return bytes(buf)

    def _sync_steps(self, s: bytes, ci: int, h: int) -> Iterator[tuple[Action, bytes]]:
        """Block sync (blocksync.py): validator ci, working on height h, asks a
        peer in its component for the decided block of h with its commit
        certificate -- the precommits for the block from one round that the
        peer holds: correct ones that reached it, Byzantine ones drawn within
        the budget -- and verifies it. A correct peer offers the block it
        decided; a Byzantine peer offers any block; an offer that does not
        verify changes nothing. On success the validator appends the block,
        now holds the certificate, and moves to the next height (lines 52-54)."""
        lay, net, tally = self.lay, self.net, self.tally
        assert net is not None
        me = lay.correct[ci]
        p = self.names[me]
        peers = net.peers[s[lay.net]][me]
        seen: set[bytes] = set()
        for j in range(lay.n):
            if j == me or not peers >> j & 1:
                continue
            if lay.is_byz[j]:
                offers = lay.byz_vote_codes[1:]  # any block with an id
            else:
                cj = lay.correct.index(j)
                decided = s[lay.local[cj] + LOCAL_FIELDS + h]
                offers = (decided,) if decided else ()
            for v in offers:
                if not self.valid(v):
                    continue  # the block itself is checked, as on line 50
                for rd in range(lay.R):
                    for draw in tally.for_value(s, PRECOMMIT_KIND, h, rd, v,
                                                enough=self.certifies, viewer=j):
                        buf = self._successor(s, (draw,))
                        if buf is None:
                            continue
                        # the peer's certificate: the precommits for v it holds
                        held = [i for ck, i in enumerate(lay.correct)
                                if s[lay.precommit(ck, h, rd)] == v
                                and tally.sees(s, lay.precommit(ck, h, rd), j)]
                        cert = CommitCertificate(h, rd, v, tuple(held) + tuple(
                            i for i in lay.byzantine if blocksync.signed(lay, buf, i, h, rd, v)))
                        if not blocksync.verify(lay, buf, cert, self.certifies):
                            continue
                        for i in held:  # the receiver now holds the certificate
                            buf[lay.reach(lay.precommit(lay.correct.index(i), h, rd))] |= 1 << me
                        for nb in self._decide(buf, ci, h, v):
                            t = self._settled(bytes(nb))
                            if t in seen:  # the same block from another peer or round
                                continue
                            seen.add(t)
                            yield (
                                Action("SyncBlock", p, f"h{h} {lay.value_name(v)} from "
                                       f"{self.names[j]}, {blocksync.describe(lay, cert)}"),
                                t,
                            )

    def _network_events(self, s: bytes) -> Iterator[tuple[Action, bytes]]:
        """The nemesis: split a whole network by one of the configured splits, or
        heal a split one; each event spends one of --max-partitions."""
        lay, net = self.lay, self.net
        assert net is not None
        if s[lay.events] >= self.cfg.max_partitions:
            return
        if s[lay.net] == 0:
            if self.sync is not None and not self.sync.splits_allowed(s):
                return  # no split from GST on
            for k in range(1, len(lay.splits) + 1):
                buf = bytearray(s)
                buf[lay.net] = k
                buf[lay.events] += 1
                net.settle(buf)
                yield Action("Split", "network", net.split_name(k)), bytes(buf)
        else:
            buf = bytearray(s)
            buf[lay.net] = 0
            buf[lay.events] += 1
            net.settle(buf)
            t = bytes(buf)
            yield Action("Heal", "network", net.describe_cut_off(t)), t

    # -- helpers ---------------------------------------------------------------
    def valid(self, code: int) -> bool:
        """valid(v) of Algorithm 1: the invalid value x is rejected."""
        return self.mutant == "accept-invalid" or code != self.lay.invalid

    def _start_round(self, buf: bytearray, ci: int, h: int, r: int) -> list[bytearray]:
        """Lines 11-21, StartRound(r), applied to a copy of `buf` per proposal choice."""
        lay = self.lay
        b = lay.local[ci]
        buf = bytearray(buf)
        buf[b + HEIGHT] = h
        buf[b + ROUND] = r  # line 12
        buf[b + STEP] = PROPOSE  # line 13
        if self.mutant == "unlock-on-new-round":
            buf[b + LOCKED_VALUE] = 0
            buf[b + LOCKED_ROUND] = 0
        if lay.proposer(h, r) != lay.correct[ci]:
            return [buf]  # line 21: the propose timeout is the TimeoutPropose action
        if buf[b + VALID_VALUE] and self.mutant != "propose-any-value":  # lines 15-16
            choices = (buf[b + VALID_VALUE],)
        else:  # line 18: getValue() may return any valid value
            choices = lay.valid_codes
        out = []
        for v in choices:  # line 19: broadcast <PROPOSAL, h, r, proposal, validRound>
            nb = bytearray(buf)
            self._send(nb, lay.proposal(h, r), v, lay.correct[ci])
            nb[lay.proposal_vr(h, r)] = 0 if self.mutant == "propose-any-value" else \
                buf[b + VALID_ROUND]  # the original Tendermint: no validRound to send
            out.append(nb)
        return out

    def _proposals(self, s: bytes, h: int, r: int,
                   viewer: int | None = None) -> list[tuple[int, int, Draw]]:
        """Proposals (value, validRound, draw) from proposer(h, r) a validator may act on."""
        lay = self.lay
        q = lay.proposer(h, r)
        if not lay.is_byz[q]:
            at = lay.proposal(h, r)
            v = s[at]
            if not v or not self.tally.sees(s, at, viewer):
                return []
            return [(v, s[lay.proposal_vr(h, r)] - 1, ())]
        base = lay.byz_proposal(h, r)
        can_draw = self.tally.budget_left(s) > 0
        out = []
        for v in lay.proposable:
            # an invalid value never has a prevote quorum (unless valid() accepts
            # it), so only vr = -1 matters
            top = r if v != lay.invalid or lay.accepts_invalid else 0
            for vr in range(-1, top):
                bit = lay.proposal_bit(v, vr)
                off, mask = base + bit // 8, 1 << (bit % 8)
                if s[off] & mask:
                    out.append((v, vr, ()))
                elif can_draw:
                    out.append((v, vr, ((off, mask),)))
        return out

    def _successor(self, s: bytes, draws: tuple[Draw, ...]) -> bytearray | None:
        """A copy of `s` with the drawn Byzantine messages, or None over budget."""
        n = sum(len(d) for d in draws)
        if n > self.tally.budget_left(s):
            return None
        buf = bytearray(s)
        for d in draws:
            apply_draw(buf, d, self.lay.budget_used)
        return buf

    def _decide(self, buf: bytearray, ci: int, h: int, v: int) -> list[bytearray]:
        """Lines 51-54: record the decision, move to the next height, StartRound(0)."""
        lay = self.lay
        b = lay.local[ci]
        buf[b + LOCAL_FIELDS + h] = v  # line 51
        if self.mutant == "decide-stays-in-height":
            return [buf]
        for f in (LOCKED_VALUE, LOCKED_ROUND, VALID_VALUE, VALID_ROUND):
            buf[b + f] = 0  # line 53
        if h + 1 == lay.H:  # every configured height decided: halt in a canonical state
            buf[b + HEIGHT] = lay.H
            buf[b + ROUND] = 0
            buf[b + STEP] = PROPOSE
            return [buf]
        return self._start_round(buf, ci, h + 1, 0)  # lines 52, 54

    # -- Algorithm 1, one validator --------------------------------------------
    def _validator_steps(self, s: bytes, ci: int, b: int, h: int) -> Iterator[tuple[Action, bytes]]:
        """Every step of correct validator ci (local state at offset b, working on
        height h), rule by rule in Algorithm 1's order."""
        t = self._turn(s, ci, b, h)
        step, r = t.step, t.r
        if step == PROPOSE:
            yield from self._propose_steps(t)  # lines 22-33, 57-60
        if step >= PREVOTE and s[b + VALID_ROUND] - 1 < r:
            # "for the first time" in round r: validRound < r until it fires
            yield from self._lock_steps(t)  # lines 36-43
        if step == PREVOTE:
            yield from self._prevote_quorum_steps(t)  # lines 34-35, 44-46, 61-64
        if r + 1 < self.lay.R:
            yield from self._precommit_quorum_steps(t)  # lines 47-48, 65-67
        yield from self._decide_steps(t)  # lines 49-54
        if r + 1 < self.lay.R:
            yield from self._round_skip_steps(t)  # lines 55-56

    def _turn(self, s: bytes, ci: int, b: int, h: int) -> _Turn:
        lay = self.lay
        r, me = s[b + ROUND], lay.correct[ci]
        return _Turn(s, ci, b, h, r, s[b + STEP], me, self.names[me], self._viewer(ci),
                     s[b + LOCKED_VALUE], s[b + LOCKED_ROUND] - 1, lay.prevote(ci, h, r),
                     lay.precommit(ci, h, r))

    def _propose_steps(self, t: _Turn) -> Iterator[tuple[Action, bytes]]:
        lay, tally, mutant = self.lay, self.tally, self.mutant
        s, ci, b, h, r = t.s, t.ci, t.b, t.h, t.r
        me, p, viewer, locked_value = t.me, t.p, t.viewer, t.locked_value
        locked_round, prevote_at = t.locked_round, t.prevote_at
        for v, vr, pdraw in self._proposals(s, h, r, viewer):
            if vr != -1 and mutant == "prevote-nil-on-pol":
                # tendermint/spec#37: line 22 also applies to a proposal with a
                # validRound, so a locked validator may prevote nil on it
                yield from self._prevote_on(t, v, vr, pdraw, [()], self.valid(v) and (
                    locked_round == -1 or locked_value == v), 22)
            if vr == -1:
                # lines 22-27
                ok = self.valid(v) and (
                    locked_round == -1 or locked_value == v or mutant == "no-lock"
                )
                pol_draws: list[Draw] = [()]
                line = 22
            elif vr < r:
                # lines 28-33: a proof-of-lock, 2f + 1 prevotes for v in round vr
                pol_draws = tally.for_value(s, PREVOTE_KIND, h, vr, v, viewer=viewer)
                ok = self.valid(v) and (
                    locked_round <= vr
                    or locked_value == v
                    or mutant == "no-lock"
                    or mutant == "ignore-lock-round"  # lines 28-29 without lockedRound <= vr
                )
                line = 28
            else:
                continue
            yield from self._prevote_on(t, v, vr, pdraw, pol_draws, ok, line)
        if lay.proposer(h, r) != lay.correct[ci] and (
                self.sync is None or self.sync.propose_due(t)):
            # lines 57-60: OnTimeoutPropose (guarded by step = propose)
            buf = bytearray(s)
            self._send(buf, prevote_at, NIL, me)
            buf[b + STEP] = PREVOTE
            yield Action("TimeoutPropose", p, f"h{h} r{r}: prevote nil", 57), bytes(buf)

    def _prevote_on(self, t: _Turn, v: int, vr: int, pdraw: Draw, pol_draws: list[Draw],
                    ok: bool, line: int) -> Iterator[tuple[Action, bytes]]:
        """Lines 24-27 or 30-33: prevote v if `ok`, else nil, on proposal (v, vr)."""
        vote = v if ok else NIL
        vname = self.lay.value_name
        for pol in pol_draws:
            buf = self._successor(t.s, (pdraw, pol))
            if buf is None:
                continue
            self._send(buf, t.prevote_at, vote, t.me)
            buf[t.b + STEP] = PREVOTE
            detail = f"h{t.h} r{t.r} {vname(vote)} on proposal {vname(v)} vr{vr}"
            yield Action("Prevote", t.p, detail, line), bytes(buf)

    def usable_proposal(self, t: _Turn, v: int) -> bool:
        """Whether this validator can use a proposal for v of its round in line
        36. In the variant first-proposal-only (tendermint#2583) it holds only
        the first proposal of the round it received: the one it prevoted for,
        if it prevoted a value (a nil prevote leaves any proposal usable)."""
        if self.mutant != "first-proposal-only":
            return True
        mine = t.s[t.prevote_at]
        return mine in (0, NIL) or mine == v

    def _lock_steps(self, t: _Turn) -> Iterator[tuple[Action, bytes]]:
        tally, vname = self.tally, self.lay.value_name
        s, b, h, r, step = t.s, t.b, t.h, t.r, t.step
        me, p, viewer, precommit_at = t.me, t.p, t.viewer, t.precommit_at
        # lines 36-43, "for the first time" in round r: validRound < r until it fires
        by_value: dict[int, list[Draw]] = {}
        for v, _vr, pdraw in self._proposals(s, h, r, viewer):
            if self.valid(v) and self.usable_proposal(t, v):
                by_value.setdefault(v, []).append(pdraw)
        for v, pdraws in by_value.items():
            if () in pdraws:
                pdraws = [()]  # a proposal for v is already there: draw none
            for pdraw in pdraws:
                for pol in tally.for_value(s, PREVOTE_KIND, h, r, v, viewer=viewer):
                    buf = self._successor(s, (pdraw, pol))
                    if buf is None:
                        continue
                    if step == PREVOTE:
                        buf[b + LOCKED_VALUE] = v  # line 38
                        buf[b + LOCKED_ROUND] = r + 1  # line 39
                        self._send(buf, precommit_at, v, me)  # line 40
                        buf[b + STEP] = PRECOMMIT  # line 41
                        what = f"h{h} r{r} {vname(v)}, lock {vname(v)}"
                        name = "Precommit"
                    else:
                        what = f"h{h} r{r} valid value {vname(v)}"
                        name = "UpdateValid"
                    buf[b + VALID_VALUE] = v  # line 42
                    buf[b + VALID_ROUND] = r + 1  # line 43
                    yield Action(name, p, what, 36), bytes(buf)

    def _prevote_quorum_steps(self, t: _Turn) -> Iterator[tuple[Action, bytes]]:
        tally = self.tally
        s, b, h, r = t.s, t.b, t.h, t.r
        me, p, viewer, precommit_at = t.me, t.p, t.viewer, t.precommit_at
        # lines 44-46: 2f + 1 nil prevotes
        for draw in tally.for_value(s, PREVOTE_KIND, h, r, NIL, viewer=viewer):
            buf = self._successor(s, (draw,))
            if buf is None:
                continue
            self._send(buf, precommit_at, NIL, me)
            buf[b + STEP] = PRECOMMIT
            yield Action("Precommit", p, f"h{h} r{r} nil on nil prevotes", 44), bytes(buf)
        # lines 34-35 and 61-64: OnTimeoutPrevote after 2f + 1 prevotes for anything
        if tally.any_quorum(s, PREVOTE_KIND, h, r, viewer) and (
                self.sync is None or self.sync.prevote_due(t)):
            buf = bytearray(s)
            self._send(buf, precommit_at, NIL, me)
            buf[b + STEP] = PRECOMMIT
            yield Action("TimeoutPrevote", p, f"h{h} r{r}: precommit nil", 61), bytes(buf)

    def _precommit_quorum_steps(self, t: _Turn) -> Iterator[tuple[Action, bytes]]:
        s, ci, h, r, p = t.s, t.ci, t.h, t.r, t.p
        # lines 47-48 and 65-67: OnTimeoutPrecommit after 2f + 1 precommits
        if self.leaves_round(t):
            for nb in self._start_round(bytearray(s), ci, h, r + 1):
                yield (
                    Action("TimeoutPrecommit", p, f"h{h} r{r}: start round {r + 1}", 65),
                    bytes(nb),
                )

    def leaves_round(self, t: _Turn) -> bool:
        """OnTimeoutPrecommit may fire: its trigger (line 47, 2f + 1 precommits
        of the round) holds and, after GST, its timeout is due."""
        return self.tally.any_quorum(t.s, PRECOMMIT_KIND, t.h, t.r, t.viewer) and (
            self.sync is None or self.sync.precommit_due(t))

    def _decide_steps(self, t: _Turn) -> Iterator[tuple[Action, bytes]]:
        lay, tally, mutant, vname = self.lay, self.tally, self.mutant, self.lay.value_name
        s, ci, b, h, p = t.s, t.ci, t.b, t.h, t.p
        viewer = t.viewer
        # lines 49-54: decide on a proposal plus 2f + 1 precommits, in any round
        kind = PREVOTE_KIND if mutant == "decide-on-prevotes" else PRECOMMIT_KIND
        for rd in range(lay.R):
            by_value = {}
            for v, _vr, pdraw in self._proposals(s, h, rd, viewer):
                if self.valid(v):  # line 50
                    by_value.setdefault(v, []).append(pdraw)
            for v, pdraws in by_value.items():
                if mutant == "decide-stays-in-height" and s[b + LOCAL_FIELDS + h] == v:
                    continue  # deciding the same value again changes nothing
                if () in pdraws:
                    pdraws = [()]
                for pdraw in pdraws:
                    for q in tally.for_value(s, kind, h, rd, v, viewer=viewer):
                        buf = self._successor(s, (pdraw, q))
                        if buf is None:
                            continue
                        for nb in self._decide(buf, ci, h, v):
                            yield (
                                Action("Decide", p, f"h{h} {vname(v)} in round {rd}", 49),
                                bytes(nb),
                            )

    def _round_skip_steps(self, t: _Turn) -> Iterator[tuple[Action, bytes]]:
        lay, tally = self.lay, self.tally
        s, ci, h, r, p = t.s, t.ci, t.h, t.r, t.p
        viewer = t.viewer
        # lines 55-56: f + 1 messages of a higher round: skip to it
        if self.sync is not None and not self.sync.skip_due(t):
            return
        for rr in range(r + 1, lay.R):
            if tally.round_skip(s, h, rr, viewer):
                for nb in self._start_round(bytearray(s), ci, h, rr):
                    yield Action("RoundSkip", p, f"h{h} r{r} to round {rr}", 55), bytes(nb)
