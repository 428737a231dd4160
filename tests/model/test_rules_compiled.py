"""The compiled rules (_rules_c.pyx) against the Python model, state by state:
same successors in the same order, same action names, same property values."""

from __future__ import annotations

import random

import pytest

from bftcheck import extensions_disabled
from bftcheck.checker.bfs import check
from bftcheck.model import MUTANTS, TendermintModel
from bftcheck.model import compiled as compiled_mod
from bftcheck.model import properties as P
from bftcheck.model.config import Config
from bftcheck.trace import from_path

CONFIGS = {
    "n3-r1": Config(powers=(1, 1, 1), rounds=1, values=2),
    "n4-f2": Config(byzantine=2, byz_budget=6),
    "n4-f1-h2": Config(byzantine=1, byz_budget=2, heights=2, rounds=2, values=1),
    "weighted": Config(powers=(4, 1, 1, 1), byzantine=1, byz_budget=2),
    "byz-proposer": Config(powers=(2, 1, 1), byzantine=1, byz_budget=3, rounds=3, values=2),
    "two-byz-proposers": Config(powers=(1, 1, 1, 1, 1), byzantine=2, byz_budget=3, rounds=3,
                                values=1),
    **{f"mutant-{name}": Config(**m.catch, mutant=name) for name, m in MUTANTS.items()},
    # partial synchrony (model/synchrony.py): the timeout guards after GST,
    # with a Byzantine validator, with partitions (no split from GST on)
    "gst-byzantine": Config(byzantine=1, byz_budget=2, rounds=5, gst=1),
    "gst-split": Config(heights=2, rounds=2, values=1, partitions=("halves", "isolate-one"),
                        max_partitions=2, gst=1),
    # Byzantine votes for the invalid value (drawn only under accept-invalid),
    # where Agreement can fail and Accountability must read those votes
    "accept-invalid-f2": Config(byzantine=2, byz_budget=9, rounds=3, values=1,
                                mutant="accept-invalid"),
}
LIMIT = 6_000  # states per configuration, breadth-first
TRACKED = {"agreement", "validity", "accountability", "integrity", "valid-block"}


def test_compiled_rules_loaded():
    if extensions_disabled():
        assert not compiled_mod.COMPILED
        pytest.skip("BFTCHECK_NO_EXTENSIONS is set: the Python rules are in use by request")
    assert compiled_mod.COMPILED, "the compiled rules _rules_c did not build or import"
    assert TendermintModel(Config()).fast is not None


@pytest.mark.parametrize("name", sorted(CONFIGS))
def test_compiled_rules_agree_with_python(name):
    if not compiled_mod.COMPILED:
        pytest.skip("compiled rules not in use")
    model = TendermintModel(CONFIGS[name])
    broken: set[str] = set()  # properties seen failing on a compared state
    seen = set(model.init_states())
    queue = list(seen)
    checked = 0
    while queue and checked < LIMIT:  # every state near the start
        s = queue.pop(0)
        checked += 1
        for t in compare(model, s, broken):
            if t not in seen:
                seen.add(t)
                queue.append(t)
    assert checked == min(LIMIT, len(seen)) and checked > 20
    rng = random.Random(name)  # and deep states, by seeded random walks
    for _ in range(150):
        s = rng.choice(model.init_states())
        for _ in range(60):
            succ = compare(model, s, broken)
            if not succ:
                break
            s = rng.choice(succ)
    # and every state along the shortest path to a violation, where there is one
    expected_broken = {"n4-f2": "agreement"}
    # (the properties `compare` tracks; Recovery is a graph property, not a state's)
    expected_broken.update({f"mutant-{n}": m.breaks for n, m in MUTANTS.items()
                            if not m.control and m.breaks in TRACKED})
    if name in expected_broken:
        prop = expected_broken[name]
        result = check(model, [p for p in model.properties() if p.name == prop])
        trace = from_path(model, model.cfg, result.paths[prop], prop)
        for step in trace.steps:
            compare(model, step.state, broken)
        assert prop in broken, broken


def compare(model: TendermintModel, s: bytes, broken: set[str]) -> list[bytes]:
    fast, lay = model.fast, model.lay
    expected = list(model.next_states(s))
    states, names = model.successor_states(s)
    assert states == [t for _, t in expected], f"successors differ at {s.hex()}"
    assert names == [a.name for a, _ in expected]
    assert fast.agreement(s) == P.agreement(lay, s)
    assert fast.validity(s) == P.validity(lay, s)
    assert fast.ledger_consistency(s) == P.ledger_consistency(lay, s)
    assert fast.accountability(s) == P.accountability(lay, s)
    assert fast.no_false_accusation(s) == P.no_false_accusation(lay, s)
    assert fast.decision_reached(s) == P.decision_reached(lay, s)
    if model.sync is not None:
        assert fast.synchronous(s) == model.sync.synchronous(s)
        assert fast.decided_everything(s) == P.decided_everything(lay, s)
        if not lay.partitioned:
            valid_block = P.valid_block(model, s)
            assert fast.valid_block(s) == valid_block
            if not valid_block:
                broken.add("valid-block")
        for ci in range(len(lay.correct)):
            assert fast.round_bounded(s, ci) == P.round_bounded(model, s, ci)
    for prop, holds in (("agreement", P.agreement(lay, s)), ("validity", P.validity(lay, s)),
                        ("accountability", P.accountability(lay, s))):
        if not holds:
            broken.add(prop)
    for t in states:
        if not P.integrity(lay, s, t):
            broken.add("integrity")
        assert fast.integrity(s, t) == P.integrity(lay, s, t)
        assert fast.lock_changed(s, t) == P.lock_changed(lay, s, t)
    return states


def test_byzantine_votes_for_x_are_kept_under_accept_invalid():
    """Regression: with valid(x) true, drawn Byzantine votes for x must be part of
    the view (round trip) and of the evidence, in both implementations."""
    model = TendermintModel(Config(byzantine=2, byz_budget=9, rounds=3, values=1,
                                   mutant="accept-invalid"))
    plan = [("p1", "Prevote", ""), ("p1", "Precommit", ""), ("p1", "Decide", ""),
            ("p2", "RoundSkip", "round 2"), ("p2", "Prevote", "x on proposal x"),
            ("p2", "Precommit", ""), ("p2", "Decide", "x in round 2")]
    s = model.init_states()[0]
    for who, name, detail in plan:
        s = next(t for a, t in model.next_states(s)
                 if a.validator == who and a.name == name and detail in a.detail)
    view = model.decode(s)
    assert view["decision"] == {"p1": ["v0"], "p2": ["x"]}
    assert {"height": 0, "round": 2, "src": "p3", "value": "x"} in view["prevotes"]
    assert model.encode(view) == s
    lay = model.lay
    assert P.faulty(lay, s, 0) == [2, 3]  # p3, p4: amnesia (precommitted v0, prevoted x)
    assert P.accountability(lay, s) and (model.fast is None or model.fast.accountability(s))
