"""Z3 engines cross-checked with the explicit-state checker: BMC finds each
mutant's violation at exactly the checker's shortest depth and nothing on
safe configurations; the shipped invariant is inductive on the real
protocol, fails on every mutant at the rule the mutant breaks, and needs
every one of its conjuncts."""

from __future__ import annotations

import pytest

from bftcheck.checker.bfs import Limits, check
from bftcheck.checker.smt import bmc, induct
from bftcheck.config import Config
from bftcheck.model import TendermintModel
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
