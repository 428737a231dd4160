"""The Z3 transcription of the rules (model/symbolic.py) is the same state
machine as the Python rules: same initial states, and from every sampled
reachable state exactly the same successors (partitions, gossip, block
sync included); the Z3 properties agree with the Python ones on states
where they hold and where they fail."""

from __future__ import annotations

import random

import pytest
import z3

from bftcheck.model import TendermintModel
from bftcheck.model.config import Config
from bftcheck.model.mutants import MUTANTS
from bftcheck.model.symbolic import SymbolicRules
from bftcheck.presets import preset

# the liveness variants need GST, which the Z3 rules refuse (tests/shared/test_cli_liveness.py)
CONFIGS = ["n4-f1", "n4-f2", "n3-f0", "weighted", "n4-split", "n4-f1-split",
           *(n for n, m in MUTANTS.items() if "gst" not in m.catch)]


def _config(name: str) -> Config:
    if name in MUTANTS:
        return Config(**MUTANTS[name].catch, mutant=name, name=name)
    return preset(name)


def _reachable(m: TendermintModel, limit: int) -> list[bytes]:
    seen = set(m.init_states())
    order, frontier = list(seen), list(seen)
    while frontier and len(order) < limit:
        nxt = []
        for s in frontier:
            for _, t in m.next_states(s):
                if t not in seen:
                    seen.add(t)
                    nxt.append(t)
                    order.append(t)
        frontier = nxt
    return order


def _z3_successors(sym: SymbolicRules, s: bytes) -> set[bytes]:
    """Evaluate every instance on a concrete state: guards and writes are
    ground terms, so simplify decides them."""
    out = set()
    for inst in sym.instances(sym.constant(s)):
        guard = z3.simplify(z3.And(inst.guards))
        assert z3.is_true(guard) or z3.is_false(guard)
        if z3.is_true(guard):
            out.add(bytes(z3.simplify(x).as_long() for x in sym.successor(inst)))
    return out


def _trans_successors(sym: SymbolicRules, s: bytes) -> set[bytes]:
    """Every t with trans(s, t), enumerated by Z3 (blocking each one found)."""
    t = sym.fresh("t")
    solver = z3.Solver()
    solver.add(sym.trans(sym.constant(s), t))
    found = set()
    while solver.check() == z3.sat:
        nxt = sym.value(solver.model(), t)
        found.add(nxt)
        solver.add(z3.Or([a != b for a, b in zip(t, sym.constant(nxt), strict=True)]))
    return found


def _sample(m: TendermintModel, per_action: int, seed: int) -> tuple[list[bytes], set[str]]:
    """Reachable states from which each kind of action fires, a few per kind
    (so block sync, split and heal are covered, not only the early steps)."""
    by_action: dict[str, list[bytes]] = {}
    rng = random.Random(seed)
    for _ in range(400):  # seeded random runs, to the end: deep states too
        s = rng.choice(m.init_states())
        for _ in range(60):  # decide-stays-in-height may decide forever
            succ = list(m.next_states(s))
            if not succ:
                break
            for a, _t in succ:
                by_action.setdefault(a.name, []).append(s)
            s = rng.choice(succ)[1]
    sample = []
    for name in sorted(by_action):
        states = list(dict.fromkeys(by_action[name]))
        sample += rng.sample(states, min(per_action, len(states)))
    return sample, set(by_action)


@pytest.mark.parametrize("name", CONFIGS)
def test_same_initial_states_and_successors(name):
    m = TendermintModel(_config(name))
    sym = SymbolicRules(m)
    s = sym.fresh("s")
    solver = z3.Solver()
    solver.add(sym.init(s))
    inits = set()
    while solver.check() == z3.sat:
        t = sym.value(solver.model(), s)
        inits.add(t)
        solver.add(z3.Or([a != b for a, b in zip(s, sym.constant(t), strict=True)]))
    assert inits == set(m.init_states())
    sample, actions = _sample(m, 2, seed=len(name))
    if m.lay.partitioned:
        assert {"Split", "Heal"} <= actions
        assert ("SyncBlock" in actions) == (name != "no-block-sync")
    for state in sample:
        assert _z3_successors(sym, state) == {t for _, t in m.next_states(state)}, \
            m.decode(state)


def test_the_transition_relation_formula_matches_the_instances():
    """`trans` (selector encoding) allows exactly the instance successors."""
    m = TendermintModel(_config("n4-f2"))
    sym = SymbolicRules(m)
    for state in _sample(m, 1, seed=3)[0]:
        assert _trans_successors(sym, state) == {x for _, x in m.next_states(state)}


@pytest.mark.parametrize("name", ["n4-f2", "decide-stays-in-height", "accept-invalid"])
def test_properties_agree_where_they_hold_and_where_they_fail(name):
    m = TendermintModel(_config(name))
    sym = SymbolicRules(m)
    props = {p.name: p for p in m.properties()}
    states = _reachable(m, 20000)
    verdicts_seen: dict[str, set[bool]] = {}
    for prop, formula in sym.state_properties().items():
        fn = props[prop].check
        bad = [s for s in states if not fn(s)][:20]
        good = random.Random(1).sample(states, 30)
        for s in bad + good:
            z = z3.is_true(z3.simplify(formula(sym.constant(s))))
            assert z == fn(s), (prop, m.decode(s))
            verdicts_seen.setdefault(prop, set()).add(z)
    # the comparison saw both outcomes of the property each mutant breaks
    broken = {"n4-f2": "agreement", "accept-invalid": "validity"}.get(name)
    if broken:
        assert verdicts_seen[broken] == {True, False}


def test_the_partitioned_transition_relation_matches_the_instances():
    """With partitions `trans` also closes the successor under gossip."""
    m = TendermintModel(_config("unverified-sync"))
    sym = SymbolicRules(m)
    sample, _ = _sample(m, 1, seed=5)
    for state in sample[::3]:
        assert _trans_successors(sym, state) == {x for _, x in m.next_states(state)}
