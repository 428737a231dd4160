"""An inductive strengthening of Agreement, as Z3 formulas over the state.

Agreement alone is not inductive: a state where two validators have not yet
decided but hold conflicting precommit quorums satisfies it and steps into
a violation. The invariant below adds the facts the safety argument of
Tendermint rests on (the lock and certificate facts of the paper's Lemma 2
and of the published TendermintAccInv spec), each about one correct
validator, so that Agreement follows by quorum arithmetic alone:

* `types`: every byte holds a value of its kind (the states the rules are
  written for; with partitions, also the network state and reach bytes).
* `local`: a validator has sent nothing in rounds after its current one or
  at later heights, its messages of the current round match its step, and
  it has decided exactly the heights below its current one.
* `lock`: its lock is its latest non-nil precommit of the current height.
* `decision-certificate`: a decided value has a precommit quorum (more than
  2/3 of the power) in some round of that height.
* `precommit-certificate`: a non-nil precommit has a prevote quorum for
  the same value in its round (line 36).
* `no-amnesia`: after precommitting v in round r1, a prevote for another
  value w in a later round r2 has a proof-of-lock: a prevote quorum for w in
  some round of [r1, r2) (lines 28-29).
* `no-invalid`: no correct validator votes for, locks on, proposes or
  decides the invalid value (valid(v), lines 23, 29, 36, 50).

Why these imply Agreement when faulty power is below 1/3: two precommit
quorums of one round share a correct validator, which precommits once.
For decisions in rounds r1 < r2, the precommit quorum of r2 has a correct
member whose precommit has a prevote quorum for w in r2, which shares a
correct validator with the precommit quorum for v in r1; by no-amnesia
there is a prevote quorum for w in some round of [r1, r2); descending, one
reaches r1, where prevote quorums for v and w share a correct validator.
Z3 checks that argument (and that each fact is preserved by every step)
for the configuration at hand; the quorum thresholds are the real ones, so
a mutant that weakens a rule breaks one of these facts.
"""

from __future__ import annotations

from collections.abc import Callable

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
)
from bftcheck.model.symbolic import State, SymbolicRules, Term

Conjuncts = list[tuple[str, z3.BoolRef]]


def _among(x: Term, codes: tuple[int, ...] | list[int]) -> z3.BoolRef:
    return z3.Or([x == c for c in codes])


def agreement_invariant(sym: SymbolicRules) -> Callable[[State], Conjuncts]:
    """The shipped strengthening: named conjuncts over a state."""
    lay = sym.lay
    codes = (NIL,) + lay.proposable
    values = lay.proposable

    def conjuncts(s: State) -> Conjuncts:
        types, local, lock, dec_cert, pc_cert, amnesia, invalid = ([] for _ in range(7))
        types.append(z3.ULE(s[lay.budget_used], sym.budget))
        if lay.partitioned:  # network.py: the network state, and reach of unsent messages
            types.append(z3.ULE(s[lay.net], len(lay.splits)))
            types.append(z3.ULE(s[lay.events], lay.cfg.max_partitions))
            everyone = (1 << lay.n) - 1
            for value_at, reach_at, _, _ in lay.message_slots():
                types.append(z3.Implies(s[value_at] == 0, s[reach_at] == 0))
                types.append(s[reach_at] & ~everyone & 0xFF == 0)
        for bi in range(len(lay.byzantine)):
            for h in range(lay.H):
                for r in range(lay.R):
                    # vote codes, and x: a POL for a correct proposer's x
                    # proposal would draw x votes (excluded by no-invalid)
                    allowed = sum(1 << c for c in lay.byz_vote_codes) | 1 << lay.invalid
                    for off in (lay.byz_prevote(bi, h, r), lay.byz_precommit(bi, h, r)):
                        types.append(s[off] & ~allowed & 0xFF == 0)
        for h in range(lay.H):
            for r in range(lay.R):
                q = lay.proposer(h, r)
                if lay.is_byz[q]:
                    base = lay.byz_proposal(h, r)
                    for k in range(lay.proposal_mask_bytes):
                        legal = 0
                        for bit in range(8 * k, min(8 * k + 8, lay.proposal_bits)):
                            v, vr = lay.proposal_of_bit(bit)
                            if vr < r and (vr == -1 or v != lay.invalid or lay.accepts_invalid):
                                legal |= 1 << (bit - 8 * k)
                        types.append(s[base + k] & ~legal & 0xFF == 0)
                    continue
                at, vr = s[lay.proposal(h, r)], s[lay.proposal_vr(h, r)]
                types.append(z3.Or(z3.And(at == 0, vr == 0),
                                   z3.And(_among(at, values), z3.ULE(vr, r))))
                invalid.append(at != lay.invalid)
        for ci, i in enumerate(lay.correct):
            b = lay.local[ci]
            height, rnd, step = s[b + HEIGHT], s[b + ROUND], s[b + STEP]
            lv, lr = s[b + LOCKED_VALUE], s[b + LOCKED_ROUND]
            vv, vr = s[b + VALID_VALUE], s[b + VALID_ROUND]
            types.append(z3.ULE(height, lay.H))
            types.append(z3.Implies(height == lay.H, z3.And(
                rnd == 0, step == PROPOSE, lv == 0, lr == 0, vv == 0, vr == 0)))
            types.append(z3.ULT(rnd, lay.R))
            types.append(z3.ULE(step, PRECOMMIT))
            types.append(z3.Or(lv == 0, _among(lv, values)))
            types.append(z3.Or(vv == 0, _among(vv, values)))
            types.append(z3.ULE(lr, rnd + 1))
            types.append(z3.ULE(vr, rnd + 1))
            types.append((vv == 0) == (vr == 0))
            invalid.extend([lv != lay.invalid, vv != lay.invalid])
            lock.append((lv == 0) == (lr == 0))
            for h in range(lay.H):
                dec = s[b + LOCAL_FIELDS + h]
                types.append(z3.Or(dec == 0, _among(dec, values)))
                invalid.append(dec != lay.invalid)
                local.append(z3.UGT(height, h) == (dec != 0))
                dec_cert.append(z3.Implies(dec != 0, z3.Or(
                    [z3.And([dec == v, sym.strong_quorum(s, PRECOMMIT_KIND, h, rd, v)])
                     for rd in range(lay.R) for v in values])))
                for r in range(lay.R):
                    pv, pc = s[lay.prevote(ci, h, r)], s[lay.precommit(ci, h, r)]
                    types.append(z3.Or(pv == 0, _among(pv, codes)))
                    types.append(z3.Or(pc == 0, _among(pc, codes)))
                    invalid.extend([pv != lay.invalid, pc != lay.invalid])
                    later = z3.Or(z3.ULT(height, h), z3.And(height == h, z3.ULT(rnd, r)))
                    silent = [pv == 0, pc == 0]
                    if lay.proposer(h, r) == i:
                        silent.append(s[lay.proposal(h, r)] == 0)
                    local.append(z3.Implies(later, z3.And(silent)))
                    now = z3.And(height == h, rnd == r)
                    local.append(z3.Implies(now, z3.And(
                        (pv != 0) == z3.UGE(step, PREVOTE), (pc != 0) == (step == PRECOMMIT))))
                    if lay.proposer(h, r) == i:
                        local.append(z3.Implies(now, s[lay.proposal(h, r)] != 0))
                    here = height == h
                    lock.append(z3.Implies(z3.And(here, lr == r + 1), pc == lv))
                    lock.append(z3.Implies(z3.And(here, pc != 0, pc != NIL), z3.UGE(lr, r + 1)))
                    pc_cert.append(z3.Implies(z3.And(pc != 0, pc != NIL), z3.Or(
                        [z3.And(pc == v, sym.strong_quorum(s, PREVOTE_KIND, h, r, v))
                         for v in values])))
                    for r2 in range(r + 1, lay.R):
                        pv2 = s[lay.prevote(ci, h, r2)]
                        for v in values:
                            for w in values:
                                if w == v:
                                    continue
                                pol = z3.Or([sym.strong_quorum(s, PREVOTE_KIND, h, vr_, w)
                                             for vr_ in range(r, r2)])
                                amnesia.append(z3.Implies(z3.And(pc == v, pv2 == w), pol))
        out = [("types", types), ("local", local), ("lock", lock),
               ("decision-certificate", dec_cert), ("precommit-certificate", pc_cert),
               ("no-amnesia", amnesia), ("no-invalid", invalid)]
        return [(name, z3.And(fs) if fs else z3.BoolVal(True)) for name, fs in out]

    return conjuncts


INVARIANT_NAME = "agreement-inductive"
INVARIANT_TEXT = ("the shipped strengthening of Agreement: types, local, lock, "
                  "decision-certificate, precommit-certificate, no-amnesia, no-invalid")
