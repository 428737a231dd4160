"""`bftcheck bmc` and `bftcheck induct`: verdicts, exit codes, traces that
replay, JSON, and bad input."""

from __future__ import annotations

import json

import pytest

from helpers import assert_usage_error
from helpers import run_cli as run


def test_bmc_finds_the_n4_f2_fork_and_its_trace_replays(tmp_path, capsys):
    path = tmp_path / "fork.itf.json"
    code, out, err = run(capsys, "bmc", "--preset", "n4-f2", "--depth", "7",
                         "--property", "agreement", "--trace-out", str(path))
    assert code == 1 and err == ""
    lines = out.splitlines()
    assert lines[1] == "unrolling the transition relation in Z3, up to 7 steps"
    assert [" ".join(ln.split(":")[0].split()) for ln in lines[2:10]] == [
        f"depth {d}" for d in range(8)]
    assert "  agreement  violated (depth 7)" in lines
    assert "Counterexample to agreement: 7 steps" in out
    assert lines[-1] == "result: violated: agreement (exit 1)"
    code, out, _ = run(capsys, "replay", str(path))
    assert code == 1
    assert "result: violation confirmed (the trace claims agreement) (exit 1)" in out


def test_bmc_json_and_bounded_verdicts(capsys):
    code, out, _ = run(capsys, "bmc", "--preset", "n4-f2", "--depth", "5", "--json")
    assert code == 0  # no violation within 5 steps is what was asked
    d = json.loads(out)
    assert d["engine"] == "z3-bmc" and d["checked_depth"] == 5 and not d["complete"]
    assert set(d["verdicts"].values()) == {"no violation within 5 steps"}
    assert len(d["seconds_per_depth"]) == 6 and d["trace"] is None


def test_bmc_complete_when_no_run_is_longer(capsys):
    code, out, _ = run(capsys, "bmc", "--preset", "n4-f1", "--rounds", "1", "--depth", "12")
    assert code == 0
    assert "search: complete: no run has more than 10 steps" in out
    assert "  agreement            holds" in out.splitlines()
    assert out.splitlines()[-1] == "result: no property can be violated (exit 0)"


def test_induct_proves_the_shipped_invariant_for_n4_f1(capsys):
    code, out, _ = run(capsys, "induct", "--preset", "n4-f1")
    assert code == 0
    assert ("invariant: types and local and lock and decision-certificate and "
            "precommit-certificate and no-amnesia and no-invalid") in out
    assert "  consecution: Inv and Next => Inv'        holds" in out.splitlines()
    assert out.splitlines()[-1].startswith("result: proved:")


def test_induct_prints_a_two_state_counterexample_to_induction(capsys):
    code, out, _ = run(capsys, "induct", "--mutant", "unlock-on-new-round")
    assert code == 1
    assert "counterexample to induction: the step breaks lock" in out
    assert "  0. a state satisfying the invariant (not necessarily reachable)" in out
    assert "Counterexample to lock: 1 step (" in out
    assert out.splitlines()[-1] == "result: not proved: consecution fails (exit 1)"


def test_induct_json_on_agreement_alone(capsys):
    code, out, _ = run(capsys, "induct", "--invariant", "agreement", "--json")
    d = json.loads(out)
    assert code == 1 and d["exit_code"] == 1
    assert d["invariant"] == ["types", "agreement"]
    assert d["initiation"] and not d["consecution"] and d["failed_conjunct"] == "agreement"
    assert len(d["counterexample"]) == 2
    assert d["counterexample"][0]["decision"] != d["counterexample"][1]["decision"]


def test_z3_engines_on_a_partitioned_configuration(capsys):
    code, out, _ = run(capsys, "induct", "--preset", "n4-split")
    assert code == 0 and out.splitlines()[-1].startswith("result: proved:")
    code, out, _ = run(capsys, "bmc", "--preset", "n4-split", "--depth", "3", "--json")
    d = json.loads(out)
    assert code == 0 and d["checked_depth"] == 3 and not d["found_at_depth"]


def test_induct_with_faulty_power_over_a_third(capsys):
    code, out, _ = run(capsys, "induct", "--preset", "n4-f2", "--property", "agreement")
    assert code == 1
    assert "a state satisfying the invariant where agreement fails:" in out


BAD = [
    (["bmc", "--preset", "n4-f2"], "required: --depth"),
    (["bmc", "--depth", "-1"], "--depth -1"),
    (["bmc", "--depth", "3", "--property", "recovery"], "'recovery' is not one"),
    (["bmc", "--depth", "3", "--property", "nope"], "unknown property 'nope'"),
    (["bmc", "--depth", "3", "--max-seconds", "0"], "--max-seconds 0"),
    (["bmc", "--depth", "3", "--max-seconds", "nan"], "--max-seconds nan: pass a finite"),
    (["bmc", "--depth", "3", "--max-seconds", "inf"], "--max-seconds inf: pass a finite"),
    (["bmc", "--depth", "3", "--z3-timeout", "0"], "--z3-timeout 0: pass a finite"),
    (["bmc", "--depth", "3", "--z3-timeout", "nan"], "--z3-timeout nan: pass a finite"),
    (["induct", "--z3-timeout", "-1"], "--z3-timeout -1: pass a finite"),
    (["induct", "--z3-timeout", "x"], "--z3-timeout x: "),
    (["bmc", "--depth", "3", "--trace-out", "/nonexistent/t.json"], "does not exist"),
    (["induct", "--invariant", "nope"], "unknown invariant 'nope'"),
    (["induct", "--property", "decision-reachable"], "is not one"),
]


@pytest.mark.parametrize("argv,needle", BAD, ids=[" ".join(a) for a, _ in BAD])
def test_bad_input_one_line_exit_2(capsys, argv, needle):
    assert_usage_error(capsys, argv, needle)


def test_mutant_matrix_with_induct(capsys):
    code, out, _ = run(capsys, "mutants", "--engines", "induct", "--json", "--quiet")
    d = json.loads(out)
    assert code == 0 and d["all_caught_and_control_clean"] is True
    rows = {r["mutant"]: r["engines"]["induct"] for r in d["rows"]}
    assert rows["real protocol (n4-f1)"]["caught"] is False
    assert rows["unlock-on-new-round"]["caught"] is True
    assert rows["unlock-on-new-round"]["prop"] == "lock"
    assert rows["unverified-sync"]["prop"] == "decision-certificate"
    assert rows["no-block-sync"]["caught"] is None  # Recovery is not a Z3 property
    assert rows["regossip-all-heights"]["caught"] is False
    assert rows["real protocol (split)"]["caught"] is False


def test_matrix_bmc_cell():
    from bftcheck.matrix import run_bmc
    from bftcheck.model.config import Config
    from bftcheck.model.mutants import MUTANTS

    cell = run_bmc(Config(**MUTANTS["weak-quorum"].catch, mutant="weak-quorum"), 9)
    assert (cell.caught, cell.prop, cell.length) == (True, "agreement", 9)
    cell = run_bmc(Config(**MUTANTS["weak-quorum"].catch, mutant="weak-quorum"), 8)
    assert cell.caught is False and cell.detail == "up to depth 8"


def test_mutants_bmc_depth_must_be_positive(capsys):
    assert_usage_error(capsys, ["mutants", "--bmc-depth", "0"], "--bmc-depth 0")


def _unwritable_after_the_work(monkeypatch):
    """The output probe passes; the write after the work fails."""
    from bftcheck import itf
    from bftcheck.outcome import OutputError

    def fail(path, *a, **k):
        raise OutputError(f"could not write the trace to {path} (No space left on device); "
                          f"nothing was written there")

    monkeypatch.setattr(itf, "write_itf", fail)


def test_bmc_trace_write_failure_after_the_verdicts_exits_2(tmp_path, capsys, monkeypatch):
    _unwritable_after_the_work(monkeypatch)
    path = tmp_path / "fork.itf.json"
    code, out, err = run(capsys, "bmc", "--preset", "n4-f2", "--depth", "7",
                         "--property", "agreement", "--trace-out", str(path))
    assert code == 2
    assert "  agreement  violated (depth 7)" in out
    assert "trace written" not in out
    assert out.splitlines()[-1] == "result: violated: agreement (exit 2)"
    assert err.count("\n") == 1 and f"could not write the trace to {path}" in err
    code, out, err = run(capsys, "bmc", "--preset", "n4-f2", "--depth", "7",
                         "--property", "agreement", "--trace-out", str(path), "--json")
    d = json.loads(out)
    assert code == 2 and d["exit_code"] == 2 and d["found_at_depth"] == {"agreement": 7}
    assert str(path) in err


def test_bmc_max_seconds_is_incomplete(capsys):
    code, out, _ = run(capsys, "bmc", "--preset", "n4-f1", "--depth", "30",
                       "--max-seconds", "0.001")
    assert code == 3
    assert "search: INCOMPLETE (time limit of 0.001 s at depth 0) after depth 0, " in out
    assert out.splitlines()[-1] == ("result: no violation found up to depth 0, but the "
                                    "search is incomplete (exit 3)")


def test_induct_json_of_a_proof_is_complete(capsys):
    code, out, _ = run(capsys, "induct", "--preset", "n4-f1", "--json")
    d = json.loads(out)
    assert code == 0 and d["exit_code"] == 0
    assert d["outcome"] == "proved" and d["complete"] is True and d["proved"] is True
    assert d["stopped"] == "" and d["unknown"] == {}
    assert set(d["obligations"].values()) == {"holds"}


def test_induct_json_of_a_failure_names_the_rest_not_checked(capsys):
    code, out, _ = run(capsys, "induct", "--mutant", "unlock-on-new-round", "--json")
    d = json.loads(out)
    assert code == 1 and d["outcome"] == "failed" and d["complete"] is True
    assert d["obligations"]["initiation"] == "holds"
    assert d["obligations"]["consecution"] == "FAILS"
    assert d["obligations"]["implies agreement"] == "not checked (an earlier obligation failed)"


def test_induct_timeout_in_process(capsys):
    code, out, _ = run(capsys, "induct", "--z3-timeout", "0.001")
    assert code == 3
    assert "  initiation: Init => Inv                  unknown (Z3: timeout)" in out.splitlines()
    assert out.splitlines()[-1].endswith("nothing is proved (exit 3)")


def test_an_abort_inside_ctypes_is_an_abort_not_an_internal_error():
    import ctypes

    from bftcheck import stop
    from bftcheck.cli_z3 import _run_engine

    def engine():
        raise ctypes.ArgumentError("argument 3: Abort: SIGINT again")

    stop.reset()
    try:
        stop.request("interrupted (SIGINT)")
        with pytest.raises(stop.Abort, match="SIGINT again"):
            _run_engine(engine)
    finally:
        stop.reset()
    with pytest.raises(ctypes.ArgumentError):  # without a stop it is a real error
        _run_engine(engine)
