"""`bftcheck fuzz` under faults: an exact budget, one result per seed with or
without the database, nothing written with --db none, bad numbers refused,
SIGINT/SIGTERM on a real process, output files, memory."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from bftcheck import stop
from bftcheck.cli import main
from bftcheck.fuzz import fuzz
from bftcheck.model import TendermintModel
from bftcheck.outcome import OutputError
from bftcheck.presets import preset

# the installed command, as a user runs it (the module if there is no script)
_SCRIPT = Path(sys.executable).with_name("bftcheck")
BFTCHECK = [str(_SCRIPT)] if _SCRIPT.exists() else [sys.executable, "-m", "bftcheck.cli"]
LONG = ["fuzz", "--preset", "n4-f1", "--max-examples", "1000000"]  # runs until stopped
# the n4-f2 fork: found after 50 examples, then shrunk in a few hundred runs
FORK = ["fuzz", "--preset", "n4-f2", "--max-steps", "8", "--seed", "3"]


def run(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def essentials(d: dict) -> tuple:
    return (d["examples"], d["steps"], d["distinct_states"], d["verdicts"], d["stopped"],
            d["depth"], d["trace"] and d["trace"]["states"], d["exit_code"])


# ---------------------------------------------------------------- the budget

def test_max_examples_is_exactly_the_runs_of_the_machine(monkeypatch, capsys):
    runs = []
    original = TendermintModel.init_states

    def init_states(self):  # called once per run, by the machine's initial rule
        runs.append(1)
        return original(self)

    monkeypatch.setattr(TendermintModel, "init_states", init_states)
    code, out, _ = run(capsys, "fuzz", "--preset", "n4-f1", "--max-examples", "50",
                       "--db", "none", "--json", "--quiet")
    d = json.loads(out)
    assert code == 0 and d["examples"] == 50 and d["shrink_runs"] == 0
    assert len(runs) == 50 and d["stopped"] == "example budget used"
    runs.clear()
    outcome = fuzz(preset("n4-f1"), max_examples=137, seed=4)
    assert outcome.examples == len(runs) == 137


# ------------------------------------------------ one result per seed and budget

def test_same_seed_same_result_with_no_db_a_fresh_db_and_an_existing_one(tmp_path, capsys):
    db = tmp_path / "db"
    results = []
    for where in ("none", str(db), str(db)):  # none, fresh, then holding the failure
        code, out, _ = run(capsys, *FORK, "--db", where, "--json", "--quiet")
        results.append(json.loads(out))
        assert code == 1
    none, fresh, existing = results
    assert essentials(none) == essentials(fresh) == essentials(existing)
    # the 50th run failed; its shrinking took more runs, not counted in the budget
    assert none["examples"] == 50 and none["shrink_runs"] > 0 and none["shrunk"] is True
    assert (none["replayed"], fresh["replayed"], existing["replayed"]) == (0, 0, 1)
    assert existing["replay_violated"] == "agreement" and fresh["stored"] is True
    # a clean run is the same too, whatever the database holds
    clean = [json.loads(run(capsys, "fuzz", "--preset", "n4-f2", "--max-examples", "40",
                            "--property", "validity", "--db", where, "--json",
                            "--quiet")[1]) for where in ("none", str(db))]
    assert essentials(clean[0]) == essentials(clean[1])


def test_the_installed_command_gives_the_library_result_and_writes_nothing(tmp_path):
    """In an empty directory, as a user runs it: the result of the seed is the one
    the library gives inside pytest (no "local constants" from the loaded
    modules), and --db none leaves the directory empty (no .hypothesis/)."""
    proc = subprocess.run([*BFTCHECK, "fuzz", "--preset", "n4-f1", "--max-examples", "60",
                           "--seed", "3", "--db", "none", "--json", "--quiet"],
                          cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    d = json.loads(proc.stdout)
    lib = fuzz(preset("n4-f1"), max_examples=60, seed=3)
    assert (d["examples"], d["steps"], d["distinct_states"]) == (
        lib.examples, lib.steps, lib.distinct_states)
    assert list(tmp_path.iterdir()) == []


# ------------------------------------------------------------------ bad numbers

@pytest.mark.parametrize("argv", [
    ["--max-seconds", "nan"], ["--max-seconds", "inf"], ["--max-seconds", "0"],
    ["--max-seconds", "-1"], ["--max-examples", "0"], ["--max-examples", "2.5"],
    ["--max-steps", "0"], ["--max-steps", "nan"], ["--seed", "-1"], ["--seed", "1.5"],
], ids=lambda a: " ".join(a))
def test_bad_numbers_are_refused_before_the_work(capsys, tmp_path, monkeypatch, argv):
    monkeypatch.chdir(tmp_path)
    code, out, err = run(capsys, "fuzz", *argv)
    assert code == 2 and out == "" and err.count("\n") == 1
    assert err.startswith(f"bftcheck: error: {argv[0]} {argv[1]}")
    assert list(tmp_path.iterdir()) == []


# ------------------------------------------------------------------ output files

def test_unwritable_trace_out_is_refused_before_the_work(capsys, tmp_path):
    code, out, err = run(capsys, *FORK, "--db", "none", "--trace-out",
                         str(tmp_path / "missing" / "t.json"))
    assert code == 2 and out == "" and "--trace-out" in err and err.count("\n") == 1


@pytest.mark.parametrize("json_out", [False, True], ids=["text", "json"])
def test_a_trace_that_cannot_be_written_after_the_work(capsys, tmp_path, monkeypatch,
                                                       json_out):
    from bftcheck import html

    target = tmp_path / "t.html"

    def fail(path, model, trace):
        raise OutputError(f"could not write the HTML trace to {path} (disk full); "
                          f"nothing was written there")

    monkeypatch.setattr(html, "write_html", fail)
    code, out, err = run(capsys, *FORK, "--db", "none", "--quiet", "--trace-html",
                         str(target), *(["--json"] if json_out else []))
    assert code == 2 and err.count("\n") == 1 and str(target) in err
    assert not target.exists()
    if json_out:
        d = json.loads(out)
        assert d["verdicts"]["agreement"] == "violated" and d["exit_code"] == 2
    else:
        assert "Counterexample to agreement" in out and "trace written" not in out
        assert out.splitlines()[-1].startswith("result: violated: agreement")
        assert out.rstrip().endswith("(exit 2)")


# ------------------------------------------------------------------------ memory

def test_memory_error_inside_hypothesis_is_exit_3(capsys, monkeypatch):
    calls = []
    original = TendermintModel.successor_states

    def successor_states(self, s):
        calls.append(1)
        if len(calls) > 300:
            raise MemoryError
        return original(self, s)

    monkeypatch.setattr(TendermintModel, "successor_states", successor_states)
    with pytest.raises(MemoryError):  # not shrunk, not wrapped in a group
        fuzz(preset("n4-f1"), max_examples=1000, seed=0)
    calls.clear()
    code, out, err = run(capsys, "fuzz", "--preset", "n4-f1", "--db", "none", "--quiet")
    assert code == 3 and "out of memory" in err and "Traceback" not in err + out


# ------------------------------------------------------------------- interrupts

def test_a_stop_request_ends_the_library_run_with_what_it_did():
    def progress(info):
        stop.request("interrupted (test)")

    try:
        out = fuzz(preset("n4-f1"), max_examples=1_000_000, seed=0, progress=progress)
    finally:
        stop.reset()
    assert out.interrupted == "interrupted (test)" and out.incomplete
    assert 0 < out.examples < 1000 and out.violated is None


def _start(argv: list[str], cwd: Path) -> subprocess.Popen:
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    return subprocess.Popen([*BFTCHECK, *argv], cwd=cwd, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env=env)


def _wait_for(proc: subprocess.Popen, needle: str, timeout: float = 60) -> list[str]:
    """stderr lines up to the first containing `needle` (the rest is left to read)."""
    lines: list[str] = []
    done = threading.Event()

    def read() -> None:
        for line in proc.stderr:
            lines.append(line)
            if needle in line:
                break
        done.set()

    threading.Thread(target=read, daemon=True).start()
    assert done.wait(timeout), f"no {needle!r} on stderr: {lines}"
    return lines


def _signal_and_finish(proc: subprocess.Popen, sig: int) -> tuple[float, str, str]:
    sent = time.perf_counter()
    proc.send_signal(sig)
    out, err = proc.communicate(timeout=30)
    return time.perf_counter() - sent, out, err


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
@pytest.mark.parametrize("when", ["first progress", "a second in"])
def test_signal_during_the_search_gives_the_summary_and_exit_3(tmp_path, sig, when):
    proc = _start([*LONG, "--db", str(tmp_path / "db"), "--trace-out",
                   str(tmp_path / "t.json")], tmp_path)
    _wait_for(proc, "examples")
    if when == "a second in":
        time.sleep(1.0)
    latency, out, err = _signal_and_finish(proc, sig)
    name = signal.Signals(sig).name
    assert proc.returncode == 3, (out, err)
    assert latency < 3, latency
    assert "Traceback" not in out + err
    assert f"search: INCOMPLETE (interrupted ({name})): " in out
    assert out.splitlines()[-1].endswith("the work is incomplete (exit 3)")
    assert not (tmp_path / "t.json").exists()  # no violation, so no trace
    assert not [p for p in tmp_path.rglob("*") if p.name.endswith((".tmp", ".probe"))]


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_signal_under_json_gives_complete_false_and_exit_3(tmp_path, sig):
    proc = _start([*LONG, "--db", "none", "--json"], tmp_path)
    _wait_for(proc, "examples")
    latency, out, err = _signal_and_finish(proc, sig)
    d = json.loads(out)
    assert proc.returncode == 3 and d["exit_code"] == 3 and latency < 3
    assert d["complete"] is False and d["trace"] is None
    assert d["interrupted"] == f"interrupted ({signal.Signals(sig).name})"
    assert d["examples"] > 0 and d["steps"] > 0
    assert "Traceback" not in err


def test_signal_at_once_after_the_start(tmp_path):
    """Before the first run, possibly while Hypothesis sets up: still a summary."""
    proc = _start([*LONG, "--db", "none"], tmp_path)
    assert proc.stdout.readline().startswith("bftcheck fuzz: ")
    latency, out, err = _signal_and_finish(proc, signal.SIGINT)
    assert proc.returncode == 3 and latency < 3 and "Traceback" not in out + err
    assert "INCOMPLETE (interrupted (SIGINT))" in out


@pytest.mark.parametrize("delay", [0.0, 0.5])
def test_signal_while_shrinking_keeps_the_real_counterexample(tmp_path, capsys, delay):
    """The failing run is complete, so it is reported (exit 1) and its trace
    replays, shrunk or not; or the run had finished: the same, shrunk."""
    trace = tmp_path / "t.json"
    proc = _start([*FORK, "--db", "none", "--trace-out", str(trace)], tmp_path)
    _wait_for(proc, "shrinking")
    time.sleep(delay)
    latency, out, err = _signal_and_finish(proc, signal.SIGTERM)
    assert proc.returncode == 1 and latency < 3 and "Traceback" not in out + err
    last = out.splitlines()[-1]
    assert last.startswith("result: violated: agreement after 50 examples")
    assert "not shrunk (interrupted (SIGTERM))" in last or "not shrunk" not in last
    code, replayed, _ = run(capsys, "replay", str(trace))
    assert code == 1 and "agreement fails at step" in replayed


def test_second_signal_stops_at_once_without_a_traceback(tmp_path):
    proc = _start([*LONG, "--db", "none"], tmp_path)
    _wait_for(proc, "examples")
    proc.send_signal(signal.SIGINT)
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=30)
    assert proc.returncode == 3 and "Traceback" not in out + err


# ---------------------------------------------------------------- benchmarks/run.py

RUN_PY = Path(__file__).resolve().parents[2] / "benchmarks" / "run.py"


def test_benchmarks_print_without_writing_results(tmp_path):
    results = RUN_PY.with_name("RESULTS.md")
    before = results.read_bytes() if results.exists() else None
    proc = subprocess.run([sys.executable, str(RUN_PY), "--smoke"], cwd=RUN_PY.parents[1],
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    assert "| n4-f2 fork (agreement only) | no |" in proc.stdout
    assert (results.read_bytes() if results.exists() else None) == before
    out = tmp_path / "R.md"
    proc = subprocess.run([sys.executable, str(RUN_PY), "--smoke", "--write", "--out", str(out)],
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0 and out.read_text().startswith("# Benchmark results")


def test_benchmarks_fail_with_one_line_naming_the_real_error(tmp_path):
    broken = tmp_path / "bftcheck"
    broken.mkdir()
    (broken / "__init__.py").write_text("raise ImportError('broken on purpose')\n")
    env = {**os.environ, "PYTHONPATH": str(tmp_path)}
    proc = subprocess.run([sys.executable, str(RUN_PY), "--smoke"], capture_output=True,
                          text=True, env=env, timeout=300)
    assert proc.returncode == 1 and proc.stdout == ""
    assert proc.stderr.count("\n") == 1 and "broken on purpose" in proc.stderr
    assert "JSONDecodeError" not in proc.stderr and "Traceback" not in proc.stderr


def test_a_time_limit_before_the_budget_is_incomplete_not_a_clean_run(capsys):
    from helpers import run_cli

    code, out, _ = run_cli(capsys, "fuzz", "--preset", "n4-f1", "--db", "none", "--quiet",
                           "--max-examples", "100000", "--max-seconds", "0.5")
    assert code == 3
    assert "search: INCOMPLETE (time limit of 0.5 s reached)" in out
    assert "of the budget's 100,000 examples before the time limit" in out
