"""The command line of liveness after GST: check --gst --property termination,
--latency (text and JSON), the trace of a livelock and its replay, and the
refusals of back-ends without partial synchrony."""

from __future__ import annotations

import json

import pytest

from tests.helpers import assert_usage_error, run_cli

SILENT = ["--powers", "1,1,1,1", "--byzantine", "1", "--byz-budget", "0", "--rounds", "5",
          "--gst", "1"]


def test_termination_and_latency_as_json(capsys) -> None:
    code, out, _ = run_cli(capsys, "check", *SILENT, "--property", "termination", "--latency",
                           "--json", "--quiet")
    d = json.loads(out)
    assert code == 0 and d["verdicts"] == {"termination": "holds"}
    lat = d["latency"]
    assert lat["gst"] == 1
    assert lat["worst"] == {"height": 0, "round": 4, "rounds_from_gst": 4,
                            "steps": lat["worst"]["steps"]}
    assert lat["best"]["round"] == 0 and lat["best"]["rounds_from_gst"] == 0
    assert lat["worst"]["steps"] > lat["best"]["steps"]
    # the trace is the worst run: from the start, through GST, to every decision
    assert lat["worst_run_steps"] == lat["worst"]["steps"] + lat["worst_run_gst_at_step"]
    assert len(d["trace"]["states"]) == lat["worst_run_steps"] + 1
    assert d["config"]["gst"] == 1


def test_a_livelock_reads_round_after_round_and_replays(capsys, tmp_path) -> None:
    trace = tmp_path / "livelock.itf.json"
    code, out, _ = run_cli(capsys, "check", "--mutant", "propose-any-value", "--property",
                           "termination", "--quiet", "--trace-out", str(trace))
    assert code == 1
    assert "the rounds go on without a decision (a livelock)" in out
    assert "round 1 (GST), proposer p2: proposal" in out
    assert "locks on leaving" in out
    code, out, _ = run_cli(capsys, "replay", str(trace))
    assert code == 1 and "termination fails at step" in out


def test_an_equivocating_proposer_breaks_valid_block_and_the_trace_replays(capsys,
                                                                          tmp_path) -> None:
    trace = tmp_path / "valid-block.itf.json"
    code, out, _ = run_cli(capsys, "check", "--mutant", "first-proposal-only", "--property",
                           "valid-block", "--quiet", "--trace-out", str(trace))
    assert code == 1 and "valid-block  violated (depth 30)" in out
    assert ("At height 0, round 3 (at or after GST): p1 locked v0, p2 locked v0; p3 left the "
            "round with valid value nil/-1 (it prevoted v1 in round 3)") in out
    code, out, _ = run_cli(capsys, "replay", str(trace))
    assert code == 1 and "valid-block fails at step 30" in out


def test_the_round_bound_before_the_guarantee_is_unknown(capsys) -> None:
    code, out, _ = run_cli(capsys, "check", *SILENT[:-4], "--rounds", "4", "--gst", "1",
                           "--property", "termination", "--quiet")
    assert code == 3
    assert "termination  unknown (a run of" in out and "raise --rounds" in out
    assert "result: no violation found, but a bound of the model cut a run short (exit 3)" in out


@pytest.mark.parametrize("argv, needle", [
    (["check", "--preset", "n4-f1", "--property", "termination"],
     "property 'termination' is judged after GST"),
    (["check", "--preset", "n4-f1", "--gst", "2"], "--gst 2 is not a round of the bound"),
    (["check", "--preset", "n4-f1", "--property", "valid-block"],
     "property 'valid-block' is judged after GST"),
    (["check", "--preset", "n4-split", "--gst", "0", "--property", "valid-block"],
     "property 'valid-block' is judged only without partitions"),
    (["check", *SILENT, "--property", "agreement", "--latency"],
     "--latency measures the runs termination judges"),
    (["bmc", "--preset", "n4-f1", "--gst", "1", "--depth", "2"],
     "do not implement partial synchrony (gst 1)"),
    (["tlc", "--preset", "n4-f1", "--property", "valid-block"],
     "property 'valid-block' is judged after GST"),
    (["tlc", "--preset", "n4-f1", "--gst", "1", "--property", "termination"],
     "'termination' is a property of the state graph, which TLC on the twin does not check"),
    (["fuzz", "--preset", "n4-f1", "--property", "termination"],
     "property 'termination' is judged after GST"),
    (["fuzz", *SILENT, "--property", "recovery"], "unknown or non-safety property 'recovery'"),
])
def test_bad_liveness_input_is_one_line(capsys, argv, needle) -> None:
    assert_usage_error(capsys, argv, needle)
