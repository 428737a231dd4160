"""The rules of tendermint.py as Z3 formulas over the same byte state.

A state is one 8-bit vector per byte of the `Layout`, so a Z3 model decodes
to exactly the bytes the Python model uses, and every symbolic step can be
matched against `TendermintModel.next_states` (that is how a BMC trace gets
its action labels, and how tests/model/test_symbolic.py shows the two agree:
the Z3 successors of a state are exactly the Python successors).

The transcription is literal. Where tendermint.py branches on a value it
reads from the state (the validator's height, round and step, which
proposals exist, which Byzantine messages were drawn), this module
enumerates the cases and turns each branch into a guard; where it computes
a value (a prevote for v or nil, a lock), the value stays a term. One step
of the model is then an *instance*: the guards under which it fires and the
bytes it writes. Byzantine draws are the same minimal draws as in
byzantine.py: a set D of Byzantine senders not yet recorded for the value,
whose power lifts the count to the threshold while no proper subset does,
within the budget.

Partitions are transcribed too (network.py, blocksync.py): a correct
message's reach byte is set to the sender's component when it is sent,
rules read only what reached the validator, every successor is closed under
gossip (`settle`, the fixpoint unrolled: each productive round adds a
correct holder, so n + 1 rounds reach it), and Split, Heal and SyncBlock are
instances like the rules' own.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import reduce
from itertools import combinations
from typing import TYPE_CHECKING

import z3

from bftcheck.model.byzantine import PRECOMMIT_KIND, PREVOTE_KIND
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
    validator_name,
)

if TYPE_CHECKING:
    from bftcheck.model.tendermint import TendermintModel

Term = z3.BitVecRef
State = list[Term]


def byte(x: int) -> Term:
    return z3.BitVecVal(x, 8)


class Buffer:
    """A state being built: the bytes of a base state plus the writes so far."""

    def __init__(self, base: State, writes: dict[int, Term] | None = None) -> None:
        self.base = base
        self.writes = dict(writes or {})

    def __getitem__(self, off: int) -> Term:
        return self.writes.get(off, self.base[off])

    def __setitem__(self, off: int, value: Term | int) -> None:
        self.writes[off] = byte(value) if isinstance(value, int) else value

    def copy(self) -> Buffer:
        return Buffer(self.base, self.writes)

    def bit(self, off: int, mask: int) -> z3.BoolRef:
        return self[off] & mask != 0


@dataclass
class Instance:
    """One way a step may fire: guards over the current state, the bytes it
    writes (as terms over the current state) and a readable label."""

    label: str
    guards: list[z3.BoolRef]
    buf: Buffer


# A draw: guards plus (offset, bit) additions, as in byzantine.Draw.
Draw = tuple[list[z3.BoolRef], list[tuple[int, int]]]


# Variants decided by the Python model's own pieces that this encoding calls
# (`model.valid`, the Network of network.py): one description serves both.
SHARED = frozenset({"accept-invalid", "regossip-all-heights"})
# The variants this encoding implements: at its own `mutant ==` comparisons,
# and the shared ones; tests/model/test_variants.py checks both.
VARIANTS = frozenset({"weak-quorum", "no-lock", "decide-on-prevotes", "unlock-on-new-round",
                      "decide-stays-in-height", "no-block-sync", "unverified-sync",
                      "ignore-lock-round"}) | SHARED


class SymbolicRules:
    """Init, the transition relation and the safety properties of one
    configuration as Z3 formulas."""

    def __init__(self, model: TendermintModel) -> None:
        from bftcheck.model.mutants import require
        from bftcheck.model.synchrony import refuse_gst

        require("z3", VARIANTS, model.mutant)
        refuse_gst("z3", model.cfg.gst)
        self.model = model
        self.lay = lay = model.lay
        self.net = model.net  # network.Network, or None without partitions
        self.mutant = model.mutant
        total = lay.total
        # power sums never overflow: 3 * total fits
        self.width = max(8, (3 * total).bit_length() + 1)
        self.total = total
        if self.mutant == "weak-quorum":
            self.quorum: Callable[[z3.BitVecRef], z3.BoolRef] = (
                lambda p: z3.UGE(2 * p, self._pw(total)))
        else:
            self.quorum = lambda p: z3.UGT(3 * p, self._pw(2 * total))
        self.strong = lambda p: z3.UGT(3 * p, self._pw(2 * total))  # 2f + 1, always
        self.skip = lambda p: z3.UGT(3 * p, self._pw(total))
        self.correct_power = tuple(lay.powers[i] for i in lay.correct)
        self.byz_power = tuple(lay.powers[i] for i in lay.byzantine)
        self.budget = lay.cfg.byz_budget
        if self.mutant == "unverified-sync":  # blocksync accepts f + 1
            self.certifies: Callable[[z3.BitVecRef], z3.BoolRef] = self.skip
        else:
            self.certifies = self.quorum

    # -- states ------------------------------------------------------------------
    def fresh(self, name: str) -> State:
        return [z3.BitVec(f"{name}_{i}", 8) for i in range(self.lay.size)]

    def constant(self, s: bytes) -> State:
        return [byte(x) for x in s]

    @staticmethod
    def value(m: z3.ModelRef, s: State) -> bytes:
        return bytes(m.eval(x, model_completion=True).as_long() for x in s)

    def _pw(self, x: int) -> z3.BitVecRef:
        return z3.BitVecVal(x, self.width)

    def _sum(self, parts: list[tuple[z3.BoolRef, int]], base: int = 0) -> z3.BitVecRef:
        return reduce(lambda acc, cp: acc + z3.If(cp[0], self._pw(cp[1]), self._pw(0)),
                      parts, self._pw(base))

    def valid(self, code: int) -> bool:
        return self.model.valid(code)

    # -- the formulas -------------------------------------------------------------
    def init(self, s: State) -> z3.BoolRef:
        """Line 10: the initial states, one disjunct per proposal choice."""
        zero = [byte(0)] * self.lay.size
        branches = [([], Buffer(zero))]
        for ci in range(len(self.lay.correct)):
            branches = [(g + g2, b2) for g, b in branches
                        for g2, b2 in self._start_round(b, ci, 0, 0)]
        return z3.Or([z3.And(g + [s[i] == b[i] for i in range(self.lay.size)])
                      for g, b in branches])

    def instances(self, s: State) -> list[Instance]:
        """Every step instance from `s` (guards and writes as terms over `s`;
        with partitions, `settle` of the written state is the successor)."""
        out = []
        for ci in range(len(self.lay.correct)):
            out.extend(self._validator_instances(s, ci))
            if self.net is not None and self.mutant != "no-block-sync":
                out.extend(self._sync_instances(s, ci))
        if self.net is not None:
            out.extend(self._network_instances(s))
        return out

    def successor(self, inst: Instance) -> State:
        """The state an instance leads to (closed under gossip)."""
        return self.settle([inst.buf[i] for i in range(self.lay.size)])

    def trans(self, s: State, t: State, name: str | None = None) -> z3.BoolRef:
        """The transition relation: `t` is a successor of `s`.

        One selector per step picks the instance; each byte of `t` is the
        value the selected instance writes there, else the byte of `s`. This
        is far smaller than a disjunction of whole-state equalities, because
        an instance writes only a few bytes."""
        insts = self.instances(s)
        bits = max(1, len(insts).bit_length())
        sel = z3.BitVec(name or f"act_{t[0]}", bits)
        parts = [z3.ULT(sel, len(insts))]
        writers: dict[int, list[tuple[int, Term]]] = {}
        for k, inst in enumerate(insts):
            parts.append(z3.Implies(sel == k, z3.And(inst.guards)))
            for off, value in inst.buf.writes.items():
                writers.setdefault(off, []).append((k, value))
        written = []
        for i in range(self.lay.size):
            nxt = s[i]
            for k, value in writers.get(i, []):
                nxt = z3.If(sel == k, value, nxt)
            written.append(nxt)
        parts.extend(a == b for a, b in zip(t, self.settle(written), strict=True))
        return z3.And(parts)

    # -- the network (network.py) ------------------------------------------------------
    def _peers(self, net: Term, i: int) -> Term:
        """peers[net][i]: who shares a component with validator i."""
        assert self.net is not None
        out = byte(self.net.peers[0][i])
        for k in range(1, len(self.net.peers)):
            out = z3.If(net == k, byte(self.net.peers[k][i]), out)
        return out

    def _sees(self, buf: Buffer, at: int, viewer: int | None) -> z3.BoolRef:
        if viewer is None:
            return z3.BoolVal(True)
        return buf[self.lay.reach(at)] & (1 << viewer) != 0

    def _send(self, buf: Buffer, at: int, code: Term | int, sender: int) -> None:
        buf[at] = code
        if self.net is not None:
            buf[self.lay.reach(at)] = self._peers(buf[self.lay.net], sender)

    def settle(self, t: State) -> State:
        """Network.settle: close every sent message's reach under gossip by the
        correct holders at its height, then forget reach of left heights."""
        if self.net is None:
            return t
        lay = self.lay
        out = list(t)
        peers = [self._peers(t[lay.net], q) for q in lay.correct]
        heights = [t[b + HEIGHT] for b in lay.local]
        everyone = byte(self.net.everyone)
        for value_at, reach_at, h, _ in self.net.slots:
            reach = t[reach_at]
            for _ in range(len(lay.correct) + 1):
                grown = reach
                for q in range(len(lay.correct)):
                    holder = reach & (1 << q) != 0
                    if not self.net.regossip_all_heights:
                        holder = z3.And(holder, heights[q] == h)
                    grown = grown | z3.If(holder, peers[q], byte(0))
                reach = grown
            sent = t[value_at] != 0
            left = z3.And([z3.UGT(x, h) for x in heights])
            out[reach_at] = z3.If(sent, z3.If(left, everyone, reach), t[reach_at])
        return out

    def _network_instances(self, s: State) -> Iterator[Instance]:
        """Split a whole network, or heal a split one, within --max-partitions."""
        lay = self.lay
        assert self.net is not None
        budget = z3.ULT(s[lay.events], self.model.cfg.max_partitions)
        for k in range(1, len(lay.splits) + 1):
            buf = Buffer(s)
            buf[lay.net] = k
            buf[lay.events] = s[lay.events] + 1
            yield Instance(f"Split({self.net.split_name(k)})", [budget, s[lay.net] == 0], buf)
        buf = Buffer(s)
        buf[lay.net] = 0
        buf[lay.events] = s[lay.events] + 1
        yield Instance("Heal", [budget, s[lay.net] != 0], buf)

    def _sync_instances(self, s: State, ci: int) -> Iterator[Instance]:
        """Block sync (tendermint._sync_steps): from a peer in the component,
        the decided block of the validator's height with a certificate of the
        precommits the peer holds, verified, then Decide."""
        lay = self.lay
        me = lay.correct[ci]
        b = lay.local[ci]
        src = Buffer(s)
        for h in range(lay.H):
            here = s[b + HEIGHT] == h
            for j in range(lay.n):
                if j == me:
                    continue
                linked = self._peers(s[lay.net], me) & (1 << j) != 0
                if lay.is_byz[j]:
                    offers = [(v, []) for v in lay.byz_vote_codes[1:]]
                else:
                    decided = s[lay.local[lay.correct.index(j)] + LOCAL_FIELDS + h]
                    offers = [(v, [decided == v]) for v in lay.proposable]
                for v, offered in offers:
                    if not self.valid(v):
                        continue
                    for rd in range(lay.R):
                        for draw in self.for_value(src, PRECOMMIT_KIND, h, rd, v,
                                                   enough=self.certifies, viewer=j):
                            guards, adds = self._combine(src, [draw])
                            buf = src.copy()
                            self._apply(buf, adds)
                            held = []  # the peer's certificate: the precommits it holds
                            for ck, i in enumerate(lay.correct):
                                at = lay.precommit(ck, h, rd)
                                held.append((z3.And(s[at] == v, self._sees(src, at, j)),
                                             lay.powers[i], at))
                            signed = [(buf.bit(lay.byz_precommit(bi, h, rd), 1 << v), pw)
                                      for bi, pw in enumerate(self.byz_power)]
                            power = self._sum([(c, pw) for c, pw, _ in held] + signed)
                            for c, _, at in held:  # the receiver now holds it
                                reach = lay.reach(at)
                                buf[reach] = buf[reach] | z3.If(c, byte(1 << me), byte(0))
                            for g, nb in self._decide(buf, ci, h, v):
                                yield Instance(
                                    f"SyncBlock({validator_name(me)}, h{h} from "
                                    f"{validator_name(j)})",
                                    [here, linked] + offered + guards
                                    + [self.certifies(power)] + g, nb)

    # -- Algorithm 1, transcribed ---------------------------------------------------
    def _budget_ok(self, buf: Buffer, n: int) -> z3.BoolRef:
        return z3.ULE(z3.ZeroExt(8, buf[self.lay.budget_used]) + n,
                      z3.BitVecVal(self.budget, 16))

    def _apply(self, buf: Buffer, additions: list[tuple[int, int]]) -> None:
        for off, bit in additions:
            buf[off] = buf[off] | bit
        if additions:
            buf[self.lay.budget_used] = buf[self.lay.budget_used] + len(additions)

    def _votes_for(self, buf: Buffer, kind: int, h: int, r: int, code: int,
                   viewer: int | None) -> tuple[z3.BitVecRef, list[tuple[int, int]]]:
        """Power of `kind` messages for `code` at (h, r) that reached `viewer`,
        and the free Byzantine slots as (offset, power)."""
        lay = self.lay
        parts = []
        for ci, pw in enumerate(self.correct_power):
            at = lay.prevote(ci, h, r) if kind == PREVOTE_KIND else lay.precommit(ci, h, r)
            parts.append((z3.And(buf[at] == code, self._sees(buf, at, viewer)), pw))
        byz = []
        for bi, pw in enumerate(self.byz_power):
            off = lay.byz_prevote(bi, h, r) if kind == PREVOTE_KIND else lay.byz_precommit(bi, h, r)
            parts.append((buf.bit(off, 1 << code), pw))
            byz.append((off, pw))
        return self._sum(parts), byz

    def strong_quorum(self, s: State, kind: int, h: int, r: int, code: int) -> z3.BoolRef:
        """More than 2/3 of the power (the real threshold, whatever the mutant)
        has sent `kind` messages for `code` at (h, r), counted as the rules count."""
        return self.strong(self._votes_for(Buffer(s), kind, h, r, code, None)[0])

    def for_value(self, buf: Buffer, kind: int, h: int, r: int, code: int,
                  enough: Callable[[z3.BitVecRef], z3.BoolRef] | None = None,
                  viewer: int | None = None) -> list[Draw]:
        """byzantine.Tally.for_value: the draws as guarded additions."""
        enough = enough or self.quorum
        have, byz = self._votes_for(buf, kind, h, r, code, viewer)
        bit = 1 << code
        out: list[Draw] = [([enough(have)], [])]
        for k in range(1, len(byz) + 1):
            for combo in combinations(byz, k):
                gained = have + self._pw(sum(pw for _, pw in combo))
                guards = [z3.Not(buf.bit(off, bit)) for off, _ in combo]
                guards.append(enough(gained))
                guards.extend(z3.Not(enough(gained - self._pw(pw))) for _, pw in combo)
                out.append((guards, [(off, bit) for off, _ in combo]))
        return out

    def _any_quorum(self, buf: Buffer, kind: int, h: int, r: int,
                    viewer: int | None) -> z3.BoolRef:
        lay = self.lay
        parts = []
        for ci, pw in enumerate(self.correct_power):
            at = lay.prevote(ci, h, r) if kind == PREVOTE_KIND else lay.precommit(ci, h, r)
            parts.append((z3.And(buf[at] != 0, self._sees(buf, at, viewer)), pw))
        return self.quorum(self._sum(parts, sum(self.byz_power)))

    def _round_skip(self, buf: Buffer, h: int, r: int, viewer: int | None) -> z3.BoolRef:
        lay = self.lay
        parts = []
        for ci, pw in enumerate(self.correct_power):
            ats = [lay.prevote(ci, h, r), lay.precommit(ci, h, r)]
            if lay.proposer(h, r) == lay.correct[ci]:
                ats.append(lay.proposal(h, r))
            parts.append((z3.Or([z3.And(buf[at] != 0, self._sees(buf, at, viewer))
                                 for at in ats]), pw))
        return self.skip(self._sum(parts, sum(self.byz_power)))

    def _start_round(self, buf: Buffer, ci: int, h: int,
                     r: int) -> list[tuple[list[z3.BoolRef], Buffer]]:
        """Lines 11-21 with one branch per proposal choice."""
        lay = self.lay
        b = lay.local[ci]
        buf = buf.copy()
        buf[b + HEIGHT] = h
        buf[b + ROUND] = r
        buf[b + STEP] = PROPOSE
        if self.mutant == "unlock-on-new-round":
            buf[b + LOCKED_VALUE] = 0
            buf[b + LOCKED_ROUND] = 0
        if lay.proposer(h, r) != lay.correct[ci]:
            return [([], buf)]
        out = []
        has_valid = buf[b + VALID_VALUE] != 0
        me = lay.correct[ci]
        nb = buf.copy()  # lines 15-16: propose validValue
        self._send(nb, lay.proposal(h, r), buf[b + VALID_VALUE], me)
        nb[lay.proposal_vr(h, r)] = buf[b + VALID_ROUND]
        out.append(([has_valid], nb))
        for v in lay.valid_codes:  # line 18: any valid value
            nb = buf.copy()
            self._send(nb, lay.proposal(h, r), v, me)
            nb[lay.proposal_vr(h, r)] = buf[b + VALID_ROUND]
            out.append(([z3.Not(has_valid)], nb))
        return out

    def _proposals(self, buf: Buffer, h: int, r: int, with_vr: bool,
                   viewer: int | None) -> list[tuple[int, int | None, list[z3.BoolRef], list]]:
        """(value, validRound, guards, additions) of the proposals of (h, r)
        that reached `viewer`; validRound is None when the rule ignores it."""
        lay = self.lay
        q = lay.proposer(h, r)
        out = []
        if not lay.is_byz[q]:
            at = lay.proposal(h, r)
            seen = self._sees(buf, at, viewer)
            for v in lay.proposable:
                if not with_vr:
                    out.append((v, None, [buf[at] == v, seen], []))
                    continue
                for vr in range(-1, r):
                    out.append((v, vr, [buf[at] == v, seen,
                                        buf[lay.proposal_vr(h, r)] == vr + 1], []))
            return out
        base = lay.byz_proposal(h, r)
        can_draw = z3.ULT(buf[lay.budget_used], self.budget)
        for v in lay.proposable:
            top = r if v != lay.invalid or lay.accepts_invalid else 0
            for vr in range(-1, top):
                bit = lay.proposal_bit(v, vr)
                off, mask = base + bit // 8, 1 << (bit % 8)
                out.append((v, vr, [buf.bit(off, mask)], []))
                out.append((v, vr, [z3.Not(buf.bit(off, mask)), can_draw], [(off, mask)]))
        return out

    def _by_value(self, buf: Buffer, h: int, r: int,
                  viewer: int | None) -> Iterator[tuple[int, list, list]]:
        """Lines 36 and 49 take one proposal per valid value: a recorded one
        when there is one (no draw), else each drawable (value, validRound)."""
        props = [p for p in self._proposals(buf, h, r, False, viewer) if self.valid(p[0])]
        for v in dict.fromkeys(p[0] for p in props):
            mine = [p for p in props if p[0] == v]
            present = z3.Or([z3.And(g) for _, _, g, add in mine if not add])
            yield v, [present], []
            for _, _, g, add in mine:
                if add:
                    yield v, [z3.Not(present)] + g, add

    def _combine(self, buf: Buffer, parts: list[Draw]) -> tuple[list, list]:
        guards, adds = [], []
        for g, a in parts:
            guards.extend(g)
            adds.extend(a)
        if adds:
            guards.append(self._budget_ok(buf, len(adds)))
        return guards, adds

    def _decide(self, buf: Buffer, ci: int, h: int,
                v: int) -> list[tuple[list[z3.BoolRef], Buffer]]:
        lay = self.lay
        b = lay.local[ci]
        buf[b + LOCAL_FIELDS + h] = v
        if self.mutant == "decide-stays-in-height":
            return [([], buf)]
        for f in (LOCKED_VALUE, LOCKED_ROUND, VALID_VALUE, VALID_ROUND):
            buf[b + f] = 0
        if h + 1 == lay.H:
            buf[b + HEIGHT] = lay.H
            buf[b + ROUND] = 0
            buf[b + STEP] = PROPOSE
            return [([], buf)]
        return self._start_round(buf, ci, h + 1, 0)

    def _validator_instances(self, s: State, ci: int) -> Iterator[Instance]:
        lay = self.lay
        b = lay.local[ci]
        p = validator_name(lay.correct[ci])
        for h in range(lay.H):
            for r in range(lay.R):
                here = [s[b + HEIGHT] == h, s[b + ROUND] == r]
                for inst in self._round_instances(Buffer(s), ci, b, h, r):
                    inst.guards = here + inst.guards
                    inst.label = f"{inst.label}({p}, h{h} r{r})"
                    yield inst

    def _round_instances(self, s: Buffer, ci: int, b: int, h: int,
                         r: int) -> Iterator[Instance]:
        lay, mutant = self.lay, self.mutant
        me = lay.correct[ci]
        viewer = me if self.net is not None else None
        step = s[b + STEP]
        locked_value, locked_round = s[b + LOCKED_VALUE], s[b + LOCKED_ROUND]
        prevote_at = lay.prevote(ci, h, r)
        precommit_at = lay.precommit(ci, h, r)
        at_propose, at_prevote = step == PROPOSE, step == PREVOTE

        # lines 22-33: prevote on a proposal
        for v, vr, pguards, padd in self._proposals(s, h, r, True, viewer):
            assert vr is not None
            if vr == -1:
                ok = z3.And(self.valid(v), z3.Or(locked_round == 0, locked_value == v,
                                                  mutant == "no-lock"))
                pols: list[Draw] = [([], [])]
            else:
                pols = self.for_value(s, PREVOTE_KIND, h, vr, v, viewer=viewer)
                ok = z3.And(self.valid(v), z3.Or(z3.ULE(locked_round, vr + 1),
                                                  locked_value == v, mutant == "no-lock",
                                                  mutant == "ignore-lock-round"))
            for pol in pols:
                guards, adds = self._combine(s, [(pguards, padd), pol])
                buf = s.copy()
                self._apply(buf, adds)
                self._send(buf, prevote_at, z3.If(ok, byte(v), byte(NIL)), me)
                buf[b + STEP] = PREVOTE
                yield Instance("Prevote", [at_propose] + guards, buf)
        if lay.proposer(h, r) != me:  # lines 57-60
            buf = s.copy()
            self._send(buf, prevote_at, NIL, me)
            buf[b + STEP] = PREVOTE
            yield Instance("TimeoutPropose", [at_propose], buf)

        # lines 36-43
        first_time = [z3.UGE(step, PREVOTE), z3.ULE(s[b + VALID_ROUND], r)]
        for v, pguards, padd in self._by_value(s, h, r, viewer):
            for pol in self.for_value(s, PREVOTE_KIND, h, r, v, viewer=viewer):
                guards, adds = self._combine(s, [(pguards, padd), pol])
                for name, at_step in (("Precommit", at_prevote),
                                      ("UpdateValid", step == PRECOMMIT)):
                    buf = s.copy()
                    self._apply(buf, adds)
                    if name == "Precommit":
                        buf[b + LOCKED_VALUE] = v
                        buf[b + LOCKED_ROUND] = r + 1
                        self._send(buf, precommit_at, v, me)
                        buf[b + STEP] = PRECOMMIT
                    buf[b + VALID_VALUE] = v
                    buf[b + VALID_ROUND] = r + 1
                    yield Instance(name, first_time + [at_step] + guards, buf)

        # lines 44-46, and 34-35 with 61-64
        for draw in self.for_value(s, PREVOTE_KIND, h, r, NIL, viewer=viewer):
            guards, adds = self._combine(s, [draw])
            buf = s.copy()
            self._apply(buf, adds)
            self._send(buf, precommit_at, NIL, me)
            buf[b + STEP] = PRECOMMIT
            yield Instance("Precommit", [at_prevote] + guards, buf)
        buf = s.copy()
        self._send(buf, precommit_at, NIL, me)
        buf[b + STEP] = PRECOMMIT
        yield Instance("TimeoutPrevote",
                       [at_prevote, self._any_quorum(s, PREVOTE_KIND, h, r, viewer)], buf)

        # lines 47-48 and 65-67
        if r + 1 < lay.R:
            quorum = self._any_quorum(s, PRECOMMIT_KIND, h, r, viewer)
            for g, nb in self._start_round(s, ci, h, r + 1):
                yield Instance("TimeoutPrecommit", [quorum] + g, nb)

        # lines 49-54
        kind = PREVOTE_KIND if mutant == "decide-on-prevotes" else PRECOMMIT_KIND
        for rd in range(lay.R):
            for v, pguards, padd in self._by_value(s, h, rd, viewer):
                extra = []
                if mutant == "decide-stays-in-height":
                    extra = [s[b + LOCAL_FIELDS + h] != v]
                for q in self.for_value(s, kind, h, rd, v, viewer=viewer):
                    guards, adds = self._combine(s, [(pguards, padd), q])
                    buf = s.copy()
                    self._apply(buf, adds)
                    for g, nb in self._decide(buf, ci, h, v):
                        yield Instance("Decide", extra + guards + g, nb)

        # lines 55-56
        for rr in range(r + 1, lay.R):
            skip = self._round_skip(s, h, rr, viewer)
            for g, nb in self._start_round(s, ci, h, rr):
                yield Instance("RoundSkip", [skip] + g, nb)

    # -- properties ------------------------------------------------------------------
    def decision(self, s: State, ci: int, h: int) -> Term:
        return s[self.lay.local[ci] + LOCAL_FIELDS + h]

    def agreement(self, s: State) -> z3.BoolRef:
        lay, out = self.lay, []
        k = len(lay.correct)
        for h in range(lay.H):
            for a in range(k):
                for c in range(a + 1, k):
                    da, dc = self.decision(s, a, h), self.decision(s, c, h)
                    out.append(z3.Or(da == 0, dc == 0, da == dc))
        return z3.And(out)

    def validity(self, s: State) -> z3.BoolRef:
        lay = self.lay
        return z3.And([self.decision(s, ci, h) != lay.invalid
                       for ci in range(len(lay.correct)) for h in range(lay.H)])

    def integrity(self, s: State, t: State) -> z3.BoolRef:
        lay = self.lay
        out = []
        for ci in range(len(lay.correct)):
            for h in range(lay.H):
                old = self.decision(s, ci, h)
                out.append(z3.Or(old == 0, self.decision(t, ci, h) == old))
        return z3.And(out)

    def ledger_consistency(self, s: State) -> z3.BoolRef:
        """Ledgers are prefixes of one another: at the first height where two
        ledgers differ, one of them has ended."""
        lay, out = self.lay, []
        k = len(lay.correct)
        for a in range(k):
            for c in range(a + 1, k):
                for h in range(lay.H):
                    da, dc = self.decision(s, a, h), self.decision(s, c, h)
                    same_before = z3.And([self.decision(s, a, g) == self.decision(s, c, g)
                                          for g in range(h)])
                    prefix_a = z3.And([self.decision(s, a, g) != 0 for g in range(h + 1)])
                    prefix_c = z3.And([self.decision(s, c, g) != 0 for g in range(h + 1)])
                    out.append(z3.Implies(z3.And(same_before, prefix_a, prefix_c), da == dc))
        return z3.And(out)

    # evidence, as in properties.py
    def _vote_codes(self, s: State, kind: str, i: int, h: int,
                    r: int) -> list[tuple[int, z3.BoolRef]]:
        """(code, whether validator i sent a `kind` vote with it at (h, r))."""
        lay = self.lay
        if lay.is_byz[i]:
            bi = i - lay.byzantine[0]
            off = lay.byz_prevote(bi, h, r) if kind == "prevote" else lay.byz_precommit(bi, h, r)
            return [(c, s[off] & (1 << c) != 0) for c in lay.byz_vote_codes]
        ci = lay.correct.index(i)
        at = lay.prevote(ci, h, r) if kind == "prevote" else lay.precommit(ci, h, r)
        codes = (NIL,) + lay.proposable
        return [(c, s[at] == c) for c in codes]

    def _prevote_quorum(self, s: State, h: int, r: int, code: int) -> z3.BoolRef:
        parts = []
        for i in range(self.lay.n):
            sent = [b for c, b in self._vote_codes(s, "prevote", i, h, r) if c == code]
            parts.append((z3.Or(sent) if sent else z3.BoolVal(False), self.lay.powers[i]))
        return self.strong(self._sum(parts))

    def _two(self, flags: list[z3.BoolRef]) -> z3.BoolRef:
        return z3.Or([z3.And(a, c) for k, a in enumerate(flags) for c in flags[k + 1:]])

    def _accused(self, s: State, i: int, h: int) -> z3.BoolRef:
        lay = self.lay
        out = []
        for r in range(lay.R):
            for kind in ("prevote", "precommit"):
                out.append(self._two([b for _, b in self._vote_codes(s, kind, i, h, r)]))
            if lay.is_byz[i] and lay.proposer(h, r) == i:
                base = lay.byz_proposal(h, r)
                bits = [s[base + k // 8] & (1 << (k % 8)) != 0 for k in range(lay.proposal_bits)]
                out.append(self._two(bits))
        for r1 in range(lay.R):
            for v1, sent1 in self._vote_codes(s, "precommit", i, h, r1):
                if v1 == NIL:
                    continue
                for r2 in range(r1 + 1, lay.R):
                    for v2, sent2 in self._vote_codes(s, "prevote", i, h, r2):
                        if v2 in (NIL, v1):
                            continue
                        pol = z3.Or([self._prevote_quorum(s, h, vr, v2) for vr in range(r1, r2)])
                        out.append(z3.And(sent1, sent2, z3.Not(pol)))
        return z3.Or(out)

    def accountability(self, s: State) -> z3.BoolRef:
        lay, out = self.lay, []
        k = len(lay.correct)
        for h in range(lay.H):
            split = z3.Or([z3.And(self.decision(s, a, h) != 0, self.decision(s, c, h) != 0,
                                  self.decision(s, a, h) != self.decision(s, c, h))
                           for a in range(k) for c in range(a + 1, k)])
            power = self._sum([(self._accused(s, i, h), lay.powers[i]) for i in range(lay.n)])
            out.append(z3.Implies(split, self.skip(power)))
        return z3.And(out)

    def no_false_accusation(self, s: State) -> z3.BoolRef:
        lay = self.lay
        return z3.And([z3.Not(self._accused(s, i, h)) for h in range(lay.H) for i in lay.correct])

    def state_properties(self) -> dict[str, Callable[[State], z3.BoolRef]]:
        return {"agreement": self.agreement, "validity": self.validity,
                "ledger-consistency": self.ledger_consistency,
                "accountability": self.accountability,
                "no-false-accusation": self.no_false_accusation}

    def step_properties(self) -> dict[str, Callable[[State, State], z3.BoolRef]]:
        return {"integrity": self.integrity}
