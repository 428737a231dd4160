"""The compiled search engine against the readable reference loop (bfs.check),
and against itself on 1, 2 and 4 workers: the same distinct and generated
counts, depths, verdicts, depths of findings and counterexample paths, on
every preset (whole, or cut by a state limit where the whole is too big for
the suite), every variant, early stops, spilled levels and the example
plug-in with only Python rules."""

from __future__ import annotations

import pytest

from bftcheck.checker import bfs, search
from bftcheck.checker.bfs import Limits
from bftcheck.model import TendermintModel
from bftcheck.model.config import Config
from bftcheck.model.mutants import MUTANTS
from bftcheck.presets import PRESETS, preset

pytestmark = pytest.mark.skipif(not search.available(), reason="compiled engine not built")

# Presets the reference loop finishes in seconds; the others are cut at a limit.
WHOLE = ("n4-f1", "n4-f2", "n3-f0", "weighted", "n4-f1-split")
CUT = {"n4-f0": 150_000, "bench": 150_000, "n4-split": 120_000, "n7-f2-split": 120_000}


def safety(model: TendermintModel) -> list:
    return [p for p in model.properties() if p.kind not in bfs.GRAPH_KINDS]


def answer(result) -> tuple:
    return (result.distinct_states, result.generated_states, result.depth, result.verdicts,
            result.found_at, result.paths, result.complete, result.stopped)


def compiled(model, props, limits=search.NO_LIMITS, workers=1):
    result = search.check(model, props, limits, place=search.Placement(workers=workers))
    assert result.search_engine == "compiled"
    return result


def test_every_preset_is_covered():
    assert set(WHOLE) | set(CUT) == set(PRESETS)


@pytest.mark.parametrize("name", WHOLE)
def test_whole_presets_equal_the_reference(name):
    m = TendermintModel(preset(name))
    props = safety(m)
    assert answer(compiled(m, props)) == answer(bfs.check(m, props))


@pytest.mark.parametrize("name", sorted(CUT))
def test_cut_presets_equal_the_reference(name):
    m = TendermintModel(preset(name))
    props = safety(m)
    limits = Limits(max_states=CUT[name])
    mine = compiled(m, props, limits)
    assert not mine.complete and mine.stopped == f"state limit of {CUT[name]} reached"
    assert answer(mine) == answer(bfs.check(m, props, limits))


@pytest.mark.parametrize("workers", [2, 4])
@pytest.mark.parametrize("name", ["n4-f2", "n4-f1-split"])
def test_workers_give_the_same_answer(name, workers):
    m = TendermintModel(preset(name))
    props = safety(m)
    assert answer(compiled(m, props, workers=workers)) == answer(compiled(m, props))


@pytest.mark.parametrize("workers", [1, 2, 4])
@pytest.mark.parametrize("name, limits, chosen", [
    ("n4-f2", Limits(), ["agreement"]),                        # decided inside a level
    ("n4-f2", Limits(max_depth=6), None),                      # cut before the fork (7)
    ("n4-f2", Limits(max_depth=7), None),                      # the fork is at the limit
    ("n4-f1", Limits(max_depth=9), None),
    ("n4-f2", Limits(stop_at_first_violation=True), None),
    ("n4-f1", Limits(max_states=54_321), None),                 # a limit inside a level
    ("bench", Limits(max_states=70_001), ["agreement", "decision-reachable"]),
])
def test_early_stops_match_the_reference(name, limits, chosen, workers):
    m = TendermintModel(preset(name))
    props = [p for p in safety(m) if chosen is None or p.name in chosen]
    assert answer(compiled(m, props, limits, workers)) == answer(bfs.check(m, props, limits))


@pytest.mark.parametrize("mutant", sorted(MUTANTS))
def test_every_variant_equals_the_reference(mutant):
    m = TendermintModel(Config(**MUTANTS[mutant].catch, mutant=mutant))
    props = safety(m)
    limits = Limits(max_states=200_000)
    expected = answer(bfs.check(m, props, limits))
    assert answer(compiled(m, props, limits)) == expected
    assert answer(compiled(m, props, limits, workers=2)) == expected


def test_spilled_levels_give_the_same_answer(monkeypatch):
    """Levels far beyond their RAM share go through their files."""
    monkeypatch.setattr(search, "frontier_share", lambda budget: 4096)
    m = TendermintModel(preset("n4-f2"))
    props = safety(m)
    expected = answer(bfs.check(m, props))
    assert answer(compiled(m, props)) == expected
    assert answer(compiled(m, props, workers=2)) == expected


def test_a_plugin_with_python_rules_runs_on_the_engine():
    """The example model has no C entry: the engine calls its Python successors
    and properties, with the same answer as the reference loop."""
    from bftcheck import plugins

    plugin = plugins.load("examples/bracha.py:PLUGIN")
    for settings in ({}, {"variant": "quorum-off-by-one"}):
        m = plugins.build(plugin, "examples/bracha.py:PLUGIN",
                          plugins.configure(plugin, settings, "test"))
        props = m.properties()
        expected = answer(bfs.check(m, props))
        assert answer(compiled(m, props)) == expected
        assert answer(compiled(m, props, workers=2)) == expected


def test_graph_properties_run_on_the_reference_loop_and_say_so():
    m = TendermintModel(preset("n4-f1-split"))
    props = [p for p in m.properties() if p.name == "recovery"]
    result = search.check(m, props, Limits(max_states=5_000))
    assert result.search_engine.startswith("reference loop (graph properties (recovery)")


def test_a_python_check_that_raises_is_an_error_not_a_verdict():
    m = TendermintModel(preset("n4-f2"))

    def broken(state: bytes) -> bool:
        raise RuntimeError("a bug in the property")

    from bftcheck.checker.interface import Property

    with pytest.raises(RuntimeError, match="a bug in the property"):
        compiled(m, [Property("broken", "always", "state", broken, "raises")])


def test_memory_limit_below_need_is_incomplete():
    from bftcheck.memory import rss_bytes

    m = TendermintModel(preset("n4-f0"))
    result = search.check(m, safety(m), Limits(max_memory=rss_bytes() + 24 * 2**20))
    assert not result.complete
    assert result.stopped.startswith("memory limit of")
    assert result.exit_code() == 3
    assert set(result.verdicts.values()) <= {"unknown", "witnessed"}


def test_a_depth_limit_checks_the_last_level_and_expands_none_of_it():
    m = TendermintModel(preset("n4-f2"))
    props = safety(m)
    cut = compiled(m, props, Limits(max_depth=6))
    assert cut.stopped == "depth limit of 6 reached" and not cut.complete
    assert cut.depth == 6 and cut.verdicts["agreement"] == "unknown"
    at_fork = compiled(m, props, Limits(max_depth=7))
    assert at_fork.verdicts["agreement"] == "violated" and at_fork.found_at["agreement"] == 7
    whole = compiled(m, props)
    assert cut.distinct_states < at_fork.distinct_states <= whole.distinct_states
