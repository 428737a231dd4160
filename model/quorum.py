"""Quorum intersection with Z3: the arithmetic lemma behind Agreement.

Claim: any two quorums share more voting power than the faulty validators
hold, so some correct validator is in both and, following the rules, cannot
vote for two values. A quorum is a set of validators whose power passes the
threshold (Tendermint: more than 2/3 of the total).

- For a concrete validator set, each validator's membership in the two
  quorums is a Boolean, and Z3 looks for two quorums whose common power is at
  most the faulty power. None means the claim is proved for that set.
- For every N and every power assignment: any two subsets split the
  validators into four regions (only in Q1, only in Q2, in both, in neither),
  and only the regions' total powers matter. So four non-negative integers
  stand for every N and every assignment at once, and Z3 proves the claim
  for all of them, given faulty power below 1/3 of the total.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import z3


@dataclass(frozen=True)
class Threshold:
    """`power * den > num * total` (strict) or `>=` when not strict."""

    num: int = 2
    den: int = 3
    strict: bool = True
    name: str = "more than 2/3 of the power"

    def holds(self, power, total):  # works on ints and on Z3 terms
        lhs, rhs = power * self.den, total * self.num
        return lhs > rhs if self.strict else lhs >= rhs


TENDERMINT = Threshold()
WEAK = Threshold(1, 2, strict=False, name="at least half of the power (weak-quorum)")


@dataclass
class QuorumResult:
    proved: bool
    claim: str
    powers: list[int] = field(default_factory=list)
    faulty_power: int | None = None
    quorum1: list[int] = field(default_factory=list)  # validator indices
    quorum2: list[int] = field(default_factory=list)
    faulty: list[int] = field(default_factory=list)
    unknown: str = ""  # Z3 answered neither sat nor unsat: its reason; no claim either way


def _answer(s: z3.Solver, claim: str) -> QuorumResult | None:
    """A proof on unsat, an undecided result on unknown, None on sat (a model)."""
    answer = s.check()
    if answer == z3.unsat:
        return QuorumResult(True, claim)
    if answer == z3.unknown:
        return QuorumResult(False, claim, unknown=s.reason_unknown() or "unknown")
    return None


def prove_concrete(powers: list[int], faulty_power: int,
                   threshold: Threshold = TENDERMINT) -> QuorumResult:
    """Do any two quorums of `powers` share more than `faulty_power`?"""
    total = sum(powers)
    q1 = [z3.Bool(f"q1_{i}") for i in range(len(powers))]
    q2 = [z3.Bool(f"q2_{i}") for i in range(len(powers))]

    def power(members):
        return z3.Sum([z3.If(m, p, 0) for m, p in zip(members, powers, strict=True)])

    both = [z3.And(a, b) for a, b in zip(q1, q2, strict=True)]
    s = z3.Solver()
    s.add(threshold.holds(power(q1), total), threshold.holds(power(q2), total))
    s.add(power(both) <= faulty_power)
    claim = (f"any two quorums ({threshold.name}) of powers {powers} share more than "
             f"{faulty_power} of {total}")
    decided = _answer(s, claim)
    if decided is not None:
        decided.powers, decided.faulty_power = powers, faulty_power
        return decided
    m = s.model()
    in1 = [i for i, v in enumerate(q1) if z3.is_true(m.eval(v, model_completion=True))]
    in2 = [i for i, v in enumerate(q2) if z3.is_true(m.eval(v, model_completion=True))]
    common = sorted(set(in1) & set(in2))
    return QuorumResult(False, claim, powers, faulty_power, in1, in2, common)


def prove_parametric(threshold: Threshold = TENDERMINT,
                     faulty_fraction: tuple[int, int] = (1, 3)) -> QuorumResult:
    """For every N and every power assignment with faulty power below
    `faulty_fraction` of the total: any two quorums share more than it."""
    a, b, c, d, f = z3.Ints("only_q1 only_q2 both neither faulty")
    total = a + b + c + d
    fn, fd = faulty_fraction
    s = z3.Solver()
    s.add(a >= 0, b >= 0, c >= 0, d >= 0, f >= 0, total >= 1)
    s.add(f * fd < total * fn)  # faulty power below the fraction
    s.add(threshold.holds(a + c, total), threshold.holds(b + c, total))
    s.add(c <= f)  # negated claim: the common power could all be faulty
    claim = (f"for every N and power assignment with faulty power below {fn}/{fd} of the "
             f"total, any two quorums ({threshold.name}) share more than the faulty power")
    decided = _answer(s, claim)
    if decided is not None:
        return decided
    m = s.model()
    regions = [m.eval(x, model_completion=True).as_long() for x in (a, b, c, d)]
    # a concrete witness: one validator per non-empty region, holding its power
    powers, in1, in2 = [], [], []
    for region, p in enumerate(regions):
        if p > 0:
            idx = len(powers)
            powers.append(p)
            if region in (0, 2):
                in1.append(idx)
            if region in (1, 2):
                in2.append(idx)
    common = sorted(set(in1) & set(in2))
    return QuorumResult(False, claim, powers, m.eval(f, model_completion=True).as_long(),
                        in1, in2, common)
