"""Z3 engines cross-checked with the explicit-state checker: BMC finds each
mutant's violation at exactly the checker's shortest depth and nothing on
safe configurations; the shipped invariant is inductive on the real
protocol, fails on every mutant at the rule the mutant breaks, and needs
every one of its conjuncts."""

from __future__ import annotations

import threading
import time

import pytest
import z3

from bftcheck import stop
from bftcheck.checker import smt
from bftcheck.checker.bfs import Limits, check
from bftcheck.checker.smt import bmc, induct
from bftcheck.model import TendermintModel
from bftcheck.model.config import Config
from bftcheck.model.inductive import agreement_invariant
from bftcheck.model.mutants import MUTANTS
from bftcheck.model.symbolic import SymbolicRules
from bftcheck.presets import preset

SAFETY = ["agreement", "validity", "integrity", "ledger-consistency", "accountability",
          "no-false-accusation"]
# mutants that break a safety property (Recovery is a property of the state
# graph, not a Z3 one)
Z3_MUTANTS = [m for m in MUTANTS if MUTANTS[m].breaks in SAFETY and not MUTANTS[m].control]


def _mutant_model(name: str) -> TendermintModel:
    return TendermintModel(Config(**MUTANTS[name].catch, mutant=name, name=name))


def _checker_depth(model: TendermintModel, prop: str) -> int:
    chosen = [p for p in model.properties() if p.name == prop]
    result = check(model, chosen, Limits(None, None))
    return result.found_at[prop]


def _is_path(model: TendermintModel, states: list[bytes]) -> bool:
    if states[0] not in model.init_states():
        return False
    return all(b in {t for _, t in model.next_states(a)}
               for a, b in zip(states, states[1:], strict=False))


@pytest.mark.parametrize("name", Z3_MUTANTS)
def test_bmc_finds_each_mutant_at_the_checkers_depth(name):
    model = _mutant_model(name)
    prop = MUTANTS[name].breaks
    depth = _checker_depth(model, prop)
    result = bmc(SymbolicRules(model), [prop], depth)
    assert result.found == {prop: depth}
    path = result.paths[prop]
    assert len(path) == depth + 1 and _is_path(model, path)
    props = {p.name: p for p in model.properties()}
    if props[prop].scope == "state":
        assert not props[prop].check(path[-1])
        assert all(props[prop].check(s) for s in path[:-1])
    # depths are tried in order, so no shorter violation exists
    assert [t.depth for t in result.times] == list(range(depth + 1))


def test_bmc_finds_the_n4_f2_fork_at_depth_7():
    model = TendermintModel(preset("n4-f2"))
    assert _checker_depth(model, "agreement") == 7
    result = bmc(SymbolicRules(model), ["agreement", "accountability"], 7)
    assert result.found == {"agreement": 7}  # accountability holds: f > 1/3 is exposed
    assert _is_path(model, result.paths["agreement"])
    assert [t.depth for t in result.times] == list(range(8))


@pytest.mark.parametrize("name", ["n4-f1", "weighted"])
def test_bmc_on_safe_configurations_is_a_proof_past_the_checkers_depth(name):
    cfg = preset(name).with_changes(rounds=1)
    model = TendermintModel(cfg)
    full_depth = check(model, model.properties()[:1], Limits(None, None)).depth
    result = bmc(SymbolicRules(model), SAFETY, full_depth + 3)
    assert result.found == {}
    assert result.complete  # every run is shorter: no property fails at any depth
    assert full_depth <= result.depth < full_depth + 3


@pytest.mark.parametrize("name", ["n4-f1", "n4-f0", "n3-f0", "weighted", "n4-split",
                                  "n4-f1-split", "n7-f2-split"])
def test_shipped_invariant_is_inductive_on_the_real_protocol(name):
    sym = SymbolicRules(TendermintModel(preset(name)))
    result = induct(sym, agreement_invariant(sym), SAFETY)
    assert result.proved, (result.failed, result.failed_conjunct)
    assert result.implies == {p: True for p in SAFETY}


# the conjunct each mutant's rule change breaks
BROKEN = {
    "weak-quorum": "decision-certificate",
    "no-lock": "no-amnesia",
    "decide-on-prevotes": "decision-certificate",
    "unlock-on-new-round": "lock",
    "accept-invalid": "no-invalid",
    "decide-stays-in-height": "local",
    "unverified-sync": "decision-certificate",
    "ignore-lock-round": "no-amnesia",  # a prevote against one's lock looks like amnesia
}


@pytest.mark.parametrize("name", ["no-block-sync", "regossip-all-heights"])
def test_recovery_mutants_keep_the_invariant(name):
    """They change who catches up, not what anyone may decide."""
    sym = SymbolicRules(_mutant_model(name))
    assert induct(sym, agreement_invariant(sym), SAFETY).proved


@pytest.mark.parametrize("name", Z3_MUTANTS)
def test_shipped_invariant_fails_on_each_mutant_with_a_real_step(name):
    model = _mutant_model(name)
    sym = SymbolicRules(model)
    result = induct(sym, agreement_invariant(sym), SAFETY)
    assert not result.proved
    assert (result.failed, result.failed_conjunct) == ("consecution", BROKEN[name])
    before, after = result.states
    assert after in {t for _, t in model.next_states(before)}  # the step is the model's


def test_with_faulty_power_above_a_third_the_invariant_no_longer_implies_agreement():
    model = TendermintModel(preset("n4-f2"))
    sym = SymbolicRules(model)
    result = induct(sym, agreement_invariant(sym), ["agreement"])
    assert result.initiation and result.consecution  # the local facts still hold
    assert result.failed == "implies agreement"
    props = {p.name: p for p in model.properties()}
    assert not props["agreement"].check(result.states[0])


@pytest.mark.parametrize("drop", ["local", "lock", "decision-certificate",
                                  "precommit-certificate", "no-amnesia", "no-invalid"])
def test_every_conjunct_is_needed(drop):
    model = TendermintModel(preset("n4-f1"))
    sym = SymbolicRules(model)
    full = agreement_invariant(sym)
    result = induct(sym, lambda s: [(n, f) for n, f in full(s) if n != drop], SAFETY)
    assert not result.proved
    if result.failed == "consecution":
        before, after = result.states
        assert after in {t for _, t in model.next_states(before)}
    else:  # without no-invalid the rest is inductive, and implies all but validity
        assert result.failed == ("implies validity" if drop == "no-invalid"
                                 else "implies agreement")


def test_agreement_alone_is_not_inductive():
    model = TendermintModel(preset("n4-f1"))
    sym = SymbolicRules(model)
    typed = agreement_invariant(sym)

    def inv(s):
        return [c for c in typed(s) if c[0] == "types"] + [("agreement", sym.agreement(s))]

    result = induct(sym, inv, ["agreement"])
    assert (result.failed, result.failed_conjunct) == ("consecution", "agreement")
    before, after = result.states
    props = {p.name: p for p in model.properties()}
    assert props["agreement"].check(before) and not props["agreement"].check(after)
    assert after in {t for _, t in model.next_states(before)}


# Unknown answers: a timeout, an interrupt, a mocked "unknown" settle nothing.

@pytest.fixture
def clean_stop():
    stop.reset()
    yield
    stop.reset()


def _scripted(monkeypatch, answers: dict[int, str]) -> list[int]:
    """smt.check answers unknown ("canceled") on the given call numbers (1-based)
    and asks Z3 otherwise; returns the list of call numbers made."""
    calls: list[int] = []
    real = smt.check

    def check(solver):
        calls.append(len(calls) + 1)
        if calls[-1] in answers:
            return z3.unknown, answers[calls[-1]]
        return real(solver)

    monkeypatch.setattr(smt, "check", check)
    return calls


def test_check_answers_unknown_with_z3s_reason_on_a_tiny_timeout():
    sym = SymbolicRules(TendermintModel(preset("n4-f2")))
    a, b = sym.fresh("a"), sym.fresh("b")
    solver = smt._solver(timeout=0.001)
    solver.add(sym.init(a), sym.trans(a, b))
    assert smt.check(solver) == (z3.unknown, "timeout")


def test_bmc_tiny_timeout_is_incomplete_not_a_bounded_result():
    sym = SymbolicRules(TendermintModel(preset("n4-f2")))
    result = bmc(sym, ["agreement"], 7, timeout=0.001)
    assert not result.complete and result.found == {}
    assert result.unknown == "timeout"
    assert result.stopped == f"Z3 answered unknown at depth {result.depth + 1} (timeout)"
    assert result.depth < 7


def test_bmc_unknown_on_the_completeness_check_is_not_a_proof(monkeypatch):
    # call 1 is depth 0's property query, call 2 depth 1's "is there a 1-step run?"
    sym = SymbolicRules(TendermintModel(preset("n4-f1").with_changes(rounds=1)))
    _scripted(monkeypatch, {2: "canceled"})
    result = bmc(sym, SAFETY, 12)
    assert not result.complete and result.depth == 0 and result.found == {}
    assert result.stopped == "Z3 answered unknown at depth 1 (canceled)"


def test_bmc_unknown_on_the_property_query_leaves_the_depth_unchecked(monkeypatch):
    # depth 0: 1 query; depth d > 0: the run check, then the property query
    sym = SymbolicRules(TendermintModel(preset("n4-f2")))
    _scripted(monkeypatch, {5: "canceled"})  # depth 2's property query
    result = bmc(sym, ["agreement"], 7)
    assert result.depth == 1 and not result.complete and result.found == {}
    assert result.stopped == "Z3 answered unknown at depth 2 (canceled)"


def test_bmc_stops_promptly_on_a_stop_request_and_the_context_stays_usable(clean_stop):
    sym = SymbolicRules(TendermintModel(preset("n4-f1")))
    timer = threading.Timer(1.0, stop.request, ("interrupted (test)",))
    timer.start()
    t0 = time.perf_counter()
    result = bmc(sym, SAFETY, 30)
    took = time.perf_counter() - t0
    timer.join()
    assert result.stopped == "interrupted (test)" and result.unknown == ""
    assert not result.complete and result.found == {} and result.depth < 30
    assert took < 1.0 + 1.5  # the request, then well under a second (0.1 s measured)
    stop.reset()
    # the same (main) Z3 context answers the next question correctly
    again = bmc(SymbolicRules(TendermintModel(preset("n4-f2"))), ["agreement"], 7)
    assert again.found == {"agreement": 7} and again.stopped == ""


def test_bmc_with_a_stop_already_requested_checks_nothing(clean_stop):
    stop.request("interrupted (test)")
    result = bmc(SymbolicRules(TendermintModel(preset("n4-f1"))), SAFETY, 5)
    assert (result.depth, result.complete, result.stopped) == (-1, False, "interrupted (test)")


def test_induct_unknown_consecution_is_neither_proved_nor_failed(monkeypatch):
    sym = SymbolicRules(TendermintModel(preset("n4-f1")))
    _scripted(monkeypatch, {2: "canceled"})
    result = induct(sym, agreement_invariant(sym), SAFETY)
    assert result.initiation and not result.consecution
    assert result.unknown == {"consecution": "canceled"}
    assert not result.proved and result.outcome == "unknown" and result.failed == ""
    # the other obligations were still asked, and hold
    assert result.implies == {p: True for p in SAFETY}


def test_induct_unknown_implication_is_unknown(monkeypatch):
    sym = SymbolicRules(TendermintModel(preset("n4-f1")))
    _scripted(monkeypatch, {3: "memout"})  # Inv => agreement
    result = induct(sym, agreement_invariant(sym), SAFETY)
    assert result.unknown == {"implies agreement": "memout"}
    assert result.outcome == "unknown" and not result.proved
    assert "agreement" not in result.implies


def test_induct_failure_after_an_unknown_is_a_real_failure(monkeypatch):
    sym = SymbolicRules(_mutant_model("no-lock"))
    _scripted(monkeypatch, {1: "canceled"})  # initiation undecided, consecution fails
    result = induct(sym, agreement_invariant(sym), SAFETY)
    assert result.outcome == "failed" and result.failed == "consecution"
    assert result.unknown == {"initiation": "canceled"} and not result.proved


def test_induct_blame_falls_back_to_the_first_model(monkeypatch):
    """Per-conjunct blame queries undecided: the step Z3 found is still a real
    counterexample, with a conjunct it breaks named (never 'not proved:  fails')."""
    model = _mutant_model("no-lock")
    sym = SymbolicRules(model)
    _scripted(monkeypatch, {n: "canceled" for n in range(3, 20)})
    result = induct(sym, agreement_invariant(sym), SAFETY)
    assert result.failed == "consecution" and result.failed_conjunct
    assert "may not be the first" in result.note
    before, after = result.states
    assert after in {t for _, t in model.next_states(before)}
    names = dict(agreement_invariant(sym)(sym.fresh("x")))
    assert result.failed_conjunct in names


def test_induct_stop_request_leaves_the_rest_not_checked(clean_stop, monkeypatch):
    sym = SymbolicRules(TendermintModel(preset("n4-f1")))
    real = smt.check

    def check(solver):
        answer = real(solver)
        stop.request("interrupted (test)")  # arrives right after initiation's answer
        return answer

    monkeypatch.setattr(smt, "check", check)
    result = induct(sym, agreement_invariant(sym), SAFETY)
    assert result.initiation and not result.consecution and result.implies == {}
    assert result.stopped == "interrupted (test)" and result.unknown == {}
    assert result.outcome == "unknown"
