"""Quorum intersection with Z3 agrees with brute force, and refutations are real."""

from __future__ import annotations

from itertools import product

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bftcheck.model.quorum import TENDERMINT, WEAK, prove_concrete, prove_parametric


def brute_force(powers, faulty, threshold):
    """True iff every two quorums share more than `faulty` (enumerating subsets)."""
    total = sum(powers)
    subsets = [s for s in product((0, 1), repeat=len(powers))
               if threshold.holds(sum(p for p, x in zip(powers, s, strict=True) if x), total)]
    return all(sum(p for p, x, y in zip(powers, a, b, strict=True) if x and y) > faulty
               for a in subsets for b in subsets)


def check_counterexample(r, threshold):
    total = sum(r.powers)
    p1 = sum(r.powers[i] for i in r.quorum1)
    p2 = sum(r.powers[i] for i in r.quorum2)
    assert threshold.holds(p1, total) and threshold.holds(p2, total)
    assert r.faulty == sorted(set(r.quorum1) & set(r.quorum2))
    assert sum(r.powers[i] for i in r.faulty) <= r.faulty_power


def test_parameterised_lemma_is_proved_for_tendermint():
    assert prove_parametric().proved


@pytest.mark.parametrize("threshold,fraction", [(WEAK, (1, 3)), (TENDERMINT, (1, 2)),
                                                (TENDERMINT, (2, 5))])
def test_parameterised_lemma_refuted_with_a_concrete_counterexample(threshold, fraction):
    r = prove_parametric(threshold, fraction)
    assert not r.proved
    check_counterexample(r, threshold)
    num, den = fraction
    assert r.faulty_power * den < sum(r.powers) * num  # within the assumption
    assert not brute_force(r.powers, r.faulty_power, threshold)


def test_concrete_examples():
    assert prove_concrete([1, 1, 1, 1], 1).proved
    r = prove_concrete([1, 1, 1, 1], 2)
    assert not r.proved
    check_counterexample(r, TENDERMINT)
    assert not prove_concrete([1, 1, 1, 1], 0, WEAK).proved  # two disjoint halves


@settings(max_examples=60, deadline=None)
@given(st.lists(st.integers(1, 5), min_size=1, max_size=6), st.integers(0, 12),
       st.sampled_from([TENDERMINT, WEAK]))
def test_z3_agrees_with_brute_force(powers, faulty, threshold):
    faulty = min(faulty, sum(powers))
    r = prove_concrete(powers, faulty, threshold)
    assert r.proved == brute_force(powers, faulty, threshold)
    if not r.proved:
        check_counterexample(r, threshold)


def test_an_unknown_answer_is_neither_proof_nor_refutation(monkeypatch):
    import z3

    from bftcheck.model import quorum as q

    monkeypatch.setattr(z3.Solver, "check", lambda self, *a: z3.unknown)
    monkeypatch.setattr(z3.Solver, "reason_unknown", lambda self: "canceled")
    for result in (q.prove_parametric(), q.prove_concrete([1, 1, 1, 1], 1)):
        assert not result.proved and result.unknown == "canceled"
        assert result.quorum1 == result.quorum2 == []


def test_prove_quorum_exits_3_on_an_unknown_answer(monkeypatch, capsys):
    import z3

    from helpers import run_cli

    monkeypatch.setattr(z3.Solver, "check", lambda self, *a: z3.unknown)
    monkeypatch.setattr(z3.Solver, "reason_unknown", lambda self: "timeout")
    code, out, err = run_cli(capsys, "prove", "quorum")
    assert code == 3
    assert out.splitlines()[-1] == ("result: unknown: Z3 answered neither proof nor "
                                    "counterexample (timeout) (exit 3)")
    assert "counterexample:" not in out
