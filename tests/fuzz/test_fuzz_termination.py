"""Fuzzing judges termination at the end of each run (fuzz/machine.py): the
historical liveness bugs are found with traces that replay, the real protocol
is never accused, and a run the round bound cut is counted, not judged."""

from __future__ import annotations

import pytest

from bftcheck.checker.bfs import check
from bftcheck.fuzz import fuzz, machine_for
from bftcheck.fuzz.machine import PropertyViolation
from bftcheck.model import MUTANTS, TendermintModel
from bftcheck.model.config import Config
from bftcheck.trace import from_path
from tests.helpers import replays, run_cli

# 3 correct + 1 silent Byzantine validator, GST at round 1 (test_synchrony.py)
SILENT = {"powers": (1, 1, 1, 1), "byzantine": 1, "byz_budget": 0, "rounds": 5, "gst": 1}
TERMINATION_BUGS = [n for n, m in MUTANTS.items() if m.breaks == "termination"]


@pytest.mark.parametrize("name", TERMINATION_BUGS)
def test_each_termination_bug_is_found_by_fuzzing_with_the_matrix_seed(name) -> None:
    """The matrix's seed and budget (seed 1, at most 10,000 examples), on
    termination alone (the matrix's fuzz cell of skip-timeout-precommit finds
    valid-block broken first, as the checker does)."""
    cfg = Config(**MUTANTS[name].catch, mutant=name)
    out = fuzz(cfg, max_examples=10_000, seed=1, properties=["termination"])
    assert out.violated == "termination", name
    assert out.ended_runs == out.examples and out.cut_runs == 0
    # a livelock is as long as its rounds: at least the checker's shortest run
    shortest = {"propose-any-value": 39, "prevote-nil-on-pol": 40, "skip-timeout-precommit": 28}
    assert replays(cfg, out) >= shortest[name]


def test_the_real_protocol_is_never_accused_and_every_run_is_judged() -> None:
    cfg = Config(**{**SILENT, "byz_budget": 1})
    out = fuzz(cfg, max_examples=300, seed=1, properties=["termination"])
    assert out.violated is None and out.examples == 300
    assert out.ended_runs == 300 and out.cut_runs == 0  # every run taken to its end


def _machine_at(cfg: Config, state: bytes):
    machine = machine_for(cfg, properties=["termination"])
    run = machine()
    run.state = state
    return run


def test_a_run_cut_by_the_round_bound_is_counted_not_judged() -> None:
    cfg = Config(**{**SILENT, "rounds": 4})  # the checker's verdict: unknown
    model = TendermintModel(cfg)
    result = check(model, [p for p in model.properties() if p.name == "termination"])
    cut = from_path(model, cfg, result.cut["termination"], "termination")
    run = _machine_at(cfg, cut.steps[-1].state)
    run.halted()  # no PropertyViolation
    assert run.ended and run.cut


def test_a_livelock_state_at_a_runs_end_is_a_violation() -> None:
    name = "propose-any-value"
    cfg = Config(**MUTANTS[name].catch, mutant=name)
    model = TendermintModel(cfg)
    result = check(model, [p for p in model.properties() if p.name == "termination"])
    trace = from_path(model, cfg, result.paths["termination"], "termination")
    run = _machine_at(cfg, trace.steps[-1].state)
    with pytest.raises(PropertyViolation, match="termination violated"):
        run.finish()  # takes the run to its end (it is there), then judges it
    assert run.ended and not run.cut


def test_the_cli_says_how_many_runs_were_judged_and_cut(capsys) -> None:
    base = ["fuzz", "--powers", "1,1,1,1", "--byzantine", "1", "--byz-budget", "0",
            "--gst", "1", "--property", "termination", "--seed", "1", "--db", "none",
            "--quiet", "--max-examples", "50"]
    code, out, _ = run_cli(capsys, *base, "--rounds", "5")
    assert code == 0
    assert "termination: 50 of 50 runs reached their end (a state with no step): 50 " \
           "judged, 0 cut" in out
    assert "fuzzing is not exhaustive, so this is not a proof (exit 0)" in out
    # two rounds: GST is the last round, and some runs end undecided in it
    code, out, _ = run_cli(capsys, *base, "--rounds", "2")
    assert code == 3
    assert "but the round bound cut" in out and "termination is unknown: raise --rounds " \
                                                  "(exit 3)" in out
