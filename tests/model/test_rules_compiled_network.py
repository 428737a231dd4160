"""The compiled rules (_rules_c.pyx) against the Python model with partitions
(model/network.py): reach bytes, gossip closure, block sync, split and heal.
As in test_rules_compiled.py, `model.next_states` is always the Python rules
and `model.successor_states` the compiled ones: same successors in the same
order, same action names, and the same Recovery target, state by state."""

from __future__ import annotations

import random

import pytest

from bftcheck.checker.bfs import check
from bftcheck.model import MUTANTS, TendermintModel
from bftcheck.model import compiled as compiled_mod
from bftcheck.model import properties as P
from bftcheck.model.config import Config

_ISOLATE_F1 = {"powers": (1, 1, 1, 1), "byzantine": 1, "byz_budget": 2, "heights": 1,
               "rounds": 2, "values": 2, "partitions": ("isolate-one",), "max_partitions": 1}

CONFIGS = {
    "halves-isolate-h2": Config(powers=(1, 1, 1, 1), heights=2, rounds=1, values=1,
                                partitions=("halves", "isolate-one"), max_partitions=2),
    **{f"isolate-f1-{m or 'real'}": Config(**_ISOLATE_F1, mutant=m)
       for m in (None, "unverified-sync", "no-block-sync", "regossip-all-heights")},
    # the network mutants on the configurations they are caught on
    **{f"mutant-{name}": Config(**MUTANTS[name].catch, mutant=name)
       for name in ("no-block-sync", "unverified-sync", "regossip-all-heights")},
    "bridge-f1-h2": Config(powers=(1, 1, 1, 1), byzantine=1, byz_budget=2, heights=2, rounds=1,
                           values=1, partitions=("bridge",), max_partitions=2),
    "bridge-n5": Config(powers=(1, 1, 1, 1, 1), heights=1, rounds=2, values=1,
                        partitions=("bridge", "majority-minority"), max_partitions=3),
    # explicit splits, weighted power, a Byzantine validator inside a component
    "components-weighted": Config(powers=(2, 1, 1, 1), byzantine=1, byz_budget=2, heights=2,
                                  rounds=2, values=1,
                                  components=(((0, 1), (2, 3)), ((0,), (1, 2, 3))),
                                  max_partitions=3),
    # overlapping explicit components, three heights (normalisation of left heights)
    "components-overlap-h3": Config(powers=(1, 1, 1), heights=3, rounds=1, values=1,
                                    components=(((0, 1), (1, 2)), ((0,), (1,), (2,))),
                                    max_partitions=4),
    "regossip-h3": Config(powers=(1, 1, 1), heights=3, rounds=1, values=1,
                          partitions=("isolate-one",), max_partitions=2,
                          mutant="regossip-all-heights"),
    # Byzantine block sync offers of the invalid value, accepted under accept-invalid
    "accept-invalid-sync": Config(**{**_ISOLATE_F1, "values": 1, "heights": 2, "rounds": 1},
                                  mutant="accept-invalid"),
    "weak-quorum-sync": Config(**{**_ISOLATE_F1, "heights": 2, "rounds": 1, "values": 1},
                               mutant="weak-quorum"),
    "decide-stays-sync": Config(**{**_ISOLATE_F1, "heights": 2, "rounds": 1, "values": 1},
                                mutant="decide-stays-in-height"),
    "two-byz": Config(powers=(1, 1, 1, 1, 1), byzantine=2, byz_budget=3, heights=1, rounds=2,
                      values=1, partitions=("halves",), max_partitions=2),
}
LIMIT = 4_000  # states per configuration, breadth-first
WALKS, DEPTH = 60, 60


def needs_compiled() -> None:
    if not compiled_mod.COMPILED:
        pytest.skip("compiled rules not in use")


def test_partitioned_layouts_use_the_compiled_rules():
    needs_compiled()
    model = TendermintModel(CONFIGS["halves-isolate-h2"])
    assert model.lay.partitioned and model.fast is not None
    assert {"SyncBlock", "Split", "Heal"} <= set(compiled_mod.KIND_NAMES)


@pytest.mark.parametrize("name", sorted(CONFIGS))
def test_compiled_network_rules_agree_with_python(name):
    needs_compiled()
    model = TendermintModel(CONFIGS[name])
    assert model.lay.partitioned
    kinds: set[str] = set()
    seen = set(model.init_states())
    queue = list(seen)
    checked = 0
    while checked < len(queue) and checked < LIMIT:  # every state near the start
        s = queue[checked]
        checked += 1
        for t in compare(model, s, kinds):
            if t not in seen:
                seen.add(t)
                queue.append(t)
    assert checked > 20
    rng = random.Random(name)  # and deep states, by seeded random walks
    for _ in range(WALKS):
        s = rng.choice(model.init_states())
        for _ in range(DEPTH):
            succ = compare(model, s, kinds)
            if not succ:
                break
            s = rng.choice(succ)
    # the network's actions were exercised (block sync needs a decided peer)
    assert {"Split"} <= kinds
    if model.cfg.max_partitions >= 2:
        assert "Heal" in kinds
    if model.mutant != "no-block-sync" and model.mutant != "decide-stays-in-height":
        assert "SyncBlock" in kinds, kinds
    if model.mutant == "no-block-sync":
        assert "SyncBlock" not in kinds


def compare(model: TendermintModel, s: bytes, kinds: set[str]) -> list[bytes]:
    fast, lay = model.fast, model.lay
    expected = list(model.next_states(s))
    states, names = model.successor_states(s)
    assert states == [t for _, t in expected], f"successors differ at {s.hex()}"
    assert names == [a.name for a, _ in expected], f"names differ at {s.hex()}"
    kinds.update(names)
    assert fast.recovered(s) == P.recovered(model, s), f"recovered differs at {s.hex()}"
    for ci in range(len(lay.correct)):
        assert fast.round_bounded(s, ci) == P.round_bounded(model, s, ci)
    assert fast.agreement(s) == P.agreement(lay, s)
    assert fast.accountability(s) == P.accountability(lay, s)
    assert fast.no_false_accusation(s) == P.no_false_accusation(lay, s)
    for t in states:
        assert fast.integrity(s, t) == P.integrity(lay, s, t)
    return states


def test_compiled_network_rules_explore_the_same_space():
    """A whole partitioned state space, by the checker, both ways: the same
    states, steps and verdicts."""
    needs_compiled()
    cfg = Config(powers=(1, 1, 1), heights=2, rounds=1, values=1,
                 partitions=("isolate-one",), max_partitions=2)
    fast = TendermintModel(cfg)
    slow = TendermintModel(cfg)
    slow.fast = None  # successor_states falls back to the Python rules
    results = []
    for model in (fast, slow):
        props = [p for p in model.properties() if p.kind in ("always", "sometimes")]
        results.append(check(model, props))
    a, b = results
    assert a.complete and b.complete and a.compiled_rules and not b.compiled_rules
    assert (a.distinct_states, a.generated_states, a.depth) == \
        (b.distinct_states, b.generated_states, b.depth)
    assert a.verdicts == b.verdicts


def test_unverified_sync_counterexample_agrees():
    """Every state along an unverified-sync Agreement violation (the checker's
    shortest one on this configuration, 13 steps: two block syncs on
    certificates of 2/4 power)."""
    needs_compiled()
    model = TendermintModel(Config(**_ISOLATE_F1, mutant="unverified-sync"))
    # (position among the successors, action): p2 proposes v1 in round 1
    plan = [(0, "Prevote(p1, h0 r0 v0"), (0, "Prevote(p2, h0 r0 v0"), (1, "TimeoutPrevote(p1"),
            (3, "Prevote(p3, h0 r0 v0"), (3, "Precommit(p3, h0 r0 v0"),
            (1, "TimeoutPrecommit(p1"), (5, "TimeoutPrecommit(p2"),
            (0, "Prevote(p1, h0 r1 v1"), (1, "Prevote(p2, h0 r1 v1"),
            (0, "Precommit(p1, h0 r1 v1"), (0, "SyncBlock(p1, h0 v0 from p4"),
            (0, "Precommit(p2, h0 r1 v1"), (1, "SyncBlock(p2, h0 v1 from p4")]
    kinds: set[str] = set()
    s = model.init_states()[0]
    for k, label in plan:
        states = compare(model, s, kinds)
        action, s = list(model.next_states(s))[k]
        assert str(action).startswith(label) and states[k] == s, (k, str(action))
    compare(model, s, kinds)
    assert not P.agreement(model.lay, s) and not model.fast.agreement(s)


def test_round_bounded_rejects_a_byzantine_index():
    needs_compiled()
    model = TendermintModel(CONFIGS["isolate-f1-real"])
    s = model.init_states()[0]
    with pytest.raises(ValueError):
        model.fast.round_bounded(s, len(model.lay.correct))
