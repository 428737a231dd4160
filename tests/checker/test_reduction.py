"""Symmetry reduction keeps every verdict: on the presets and variants small
enough for the suite, the reduced search gives the verdicts and the depths of
the unreduced one, its counterexamples are real runs that replay, the
compiled engine on 1 and 2 workers equals the reduced reference loop, and the
reduction is off (and says why) where it would be unsound. The larger presets
are compared in benchmarks/reductions.py (RESULTS.md)."""

from __future__ import annotations

import json

import pytest

from bftcheck.checker import bfs, reduction, search
from bftcheck.checker.symmetry import canonical_function
from bftcheck.cli import main
from bftcheck.model import MUTANTS, TendermintModel
from bftcheck.model.config import Config
from bftcheck.presets import preset
from bftcheck.replay import replay
from bftcheck.trace import from_path

pytestmark = pytest.mark.skipif(not search.available(), reason="compiled engine not built")

# Unreduced, these finish in seconds; (preset, reduced distinct states).
SMALL = {"n4-f1": 200_263, "n4-f2": 21_788, "weighted": 570_867, "n3-f0": 864_277}


def safety(model: TendermintModel) -> list:
    return [p for p in model.properties() if p.kind not in bfs.GRAPH_KINDS]


def run(model, props, reduce=None, workers=1, limits=search.NO_LIMITS):
    chosen = reduction.choose(model, props, reduce)
    return search.check(model, props, limits, place=search.Placement(workers=workers),
                        reduction=chosen)


def replays(model, cfg, result, name: str) -> None:
    """The counterexample or witness is a real run: replay confirms its claim."""
    prop = next(p for p in model.properties() if p.name == name)
    kind = "witness" if prop.kind == "sometimes" else "violation"
    trace = from_path(model, cfg, result.paths[name], name, kind)
    assert len(trace) == result.found_at[name]  # still a shortest one
    steps = [(st.action, model.decode(st.state)) for st in trace.steps]
    assert replay(model, cfg, steps, name, kind=kind).confirmed


@pytest.mark.parametrize("name", sorted(SMALL))
def test_presets_keep_their_verdicts_and_depths(name):
    cfg = preset(name)
    model = TendermintModel(cfg)
    props = safety(model)
    full, reduced = run(model, props, []), run(model, props)
    assert reduced.reductions["used"] == ["symmetry"] and full.reductions["used"] == []
    assert reduced.complete and full.complete
    assert reduced.verdicts == full.verdicts
    assert reduced.found_at == full.found_at and reduced.depth == full.depth
    assert reduced.distinct_states == SMALL[name] < full.distinct_states
    for found in reduced.paths:
        replays(model, cfg, reduced, found)


VARIANTS = sorted(n for n, m in MUTANTS.items() if n not in ("no-block-sync",
                                                               "regossip-all-heights")
                  and m.breaks != "termination")  # liveness: no symmetry (reduction.py)


@pytest.mark.parametrize("mutant", VARIANTS)
def test_every_variant_keeps_its_verdicts(mutant):
    """Each safety variant on its catch configuration: the same verdicts and
    depths reduced and unreduced, and the reduced counterexample replays."""
    cfg = Config(**MUTANTS[mutant].catch, mutant=mutant)
    model = TendermintModel(cfg)
    props = safety(model)
    full, reduced = run(model, props, []), run(model, props)
    assert reduced.verdicts == full.verdicts and reduced.found_at == full.found_at
    assert reduced.verdicts[MUTANTS[mutant].breaks] == "violated"
    replays(model, cfg, reduced, MUTANTS[mutant].breaks)


@pytest.mark.parametrize("workers", [1, 2])
def test_the_engine_equals_the_reduced_reference_loop(workers):
    model = TendermintModel(preset("n4-f2"))
    props = safety(model)
    canonical = canonical_function(model.symmetry, model.lay.size)
    reference = bfs.check(model, props, canonical=canonical)
    mine = run(model, props, workers=workers)
    assert (mine.distinct_states, mine.generated_states, mine.depth, mine.verdicts,
            mine.found_at) == (reference.distinct_states, reference.generated_states,
                               reference.depth, reference.verdicts, reference.found_at)


@pytest.mark.parametrize("mutant", ["no-block-sync", "regossip-all-heights"])
def test_recovery_on_the_quotient_graph(mutant):
    """AG EF (recovery) is kept by the quotient: the same verdict with and
    without symmetry, and the counterexample of no-block-sync replays."""
    cfg = Config(**MUTANTS[mutant].catch, mutant=mutant)
    model = TendermintModel(cfg)
    props = [p for p in model.properties() if p.name in ("agreement", "recovery")]
    full, reduced = run(model, props, []), run(model, props)
    assert reduced.reductions["used"] == ["symmetry"]
    assert reduced.verdicts == full.verdicts and reduced.found_at == full.found_at
    assert reduced.distinct_states < full.distinct_states
    if mutant == "no-block-sync":
        assert reduced.verdicts["recovery"] == "violated"
        replays(model, cfg, reduced, "recovery")
    else:
        assert reduced.verdicts["recovery"] == "holds"


def test_symmetry_is_off_for_liveness_and_refused_when_asked_for():
    model = TendermintModel(Config(**MUTANTS["no-block-sync"].catch))
    props = model.properties()
    auto = reduction.choose(model, props, None)
    assert auto.used == [] and "fair-recovery" in dict(auto.off)["symmetry"]
    with pytest.raises(reduction.ReductionRefused, match="fair-recovery"):
        reduction.choose(model, props, ["symmetry"])
    plain = TendermintModel(preset("n4-f1-split"))  # p1, p2 propose; p4 is Byzantine
    safe = safety(plain)
    assert "no symmetry" in dict(reduction.choose(plain, safe, None).off)["symmetry"]


def test_cli_reduce_option(capsys):
    assert main(["check", "--preset", "n4-f2", "--json", "--workers", "1"]) == 1
    out = json.loads(capsys.readouterr().out)
    assert out["reductions"]["used"] == ["symmetry"] and out["distinct_states"] == 21_788
    assert "validators {p3 p4}" in out["reductions"]["symmetry"]
    assert main(["check", "--preset", "n4-f2", "--json", "--reduce", "none"]) == 1
    assert json.loads(capsys.readouterr().out)["distinct_states"] == 61_656
    assert main(["check", "--preset", "n4-f2", "--reduce", "por"]) == 2
    assert "--reduce 'por': choose from symmetry" in capsys.readouterr().err
    code = main(["check", "--preset", "n4-f1", "--partitions", "isolate-one",
                 "--reduce", "symmetry", "--max-states", "10"])
    assert code == 2 and "unsound for fair-recovery" in capsys.readouterr().err
