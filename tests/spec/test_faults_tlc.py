"""Faults around the TLA+ commands, on real subprocesses: SIGINT and SIGTERM
during `bftcheck tlc` and `bftcheck crossval` (during a TLC run, at the start
of the next one, during a counterexample replay in TLC, the terminal's Ctrl-C
reaching TLC too, a second signal) end within seconds with the summary so far,
exit 3, no traceback, the TLC temporary directory removed and no java process
left; output files that cannot be written are one line, exit 2."""

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
from bftcheck.checker.result import UNKNOWN, WITNESSED
from bftcheck.cli import main
from bftcheck.outcome import OutputError
from bftcheck.presets import preset
from bftcheck.spec import tlc
from helpers import seconds_to_exit

LATENCY = 3.0  # seconds from the signal to the exit, on a noisy 2-core machine
# one long TLC run (~70 s): agreement only on n4-f1 (400,526 states)
LONG = ("tlc", "--preset", "n4-f1", "--property", "agreement")
# four runs: decision-reachable (depth 5), round-skip (6), lock-change (11), then the rest
SERIES = ("tlc", "--preset", "n4-f1")
SMALL = ("--preset", "n4-f1", "--rounds", "1")  # 1,242 states, 2 TLC runs
# crossval where TLC runs long: bftcheck ~1.5 s, then TLC's first run (~3 s) and more
CROSSVAL_LONG = ("crossval", "--preset", "n4-f1")


class Running:
    """`bftcheck ARGS` in a subprocess whose temporary directory is `scratch`;
    stderr is read line by line as it comes."""

    def __init__(self, scratch: Path, *argv: str, new_session: bool = False) -> None:
        self.scratch = scratch
        env = {**os.environ, "TMPDIR": str(scratch), "PYTHONUNBUFFERED": "1"}
        self.proc = subprocess.Popen([sys.executable, "-m", "bftcheck.cli", *argv],
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                     env=env, start_new_session=new_session)
        self.err_lines: list[str] = []
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.proc.stderr is not None
        for line in self.proc.stderr:
            self.err_lines.append(line)

    def wait_for(self, needle: str, timeout: float = 60.0) -> None:
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            if any(needle in ln for ln in self.err_lines):
                return
            if self.proc.poll() is not None:
                pytest.fail(f"ended before {needle!r}: {''.join(self.err_lines)}")
            time.sleep(0.02)
        self.kill()
        pytest.fail(f"no {needle!r} on stderr within {timeout} s: {''.join(self.err_lines)}")

    def signal(self, sig: int, group: bool = False) -> float:
        """Send `sig` (to the process group: a terminal's Ctrl-C); wait for the
        exit; the seconds it took."""
        send = (lambda sig: os.killpg(self.proc.pid, sig)) if group else None
        try:
            return seconds_to_exit(self.proc, sig, send)
        finally:
            if self.proc.poll() is None:
                self.kill()

    def finish(self) -> tuple[int, str, str]:
        assert self.proc.stdout is not None
        out = self.proc.stdout.read()
        self.proc.wait()
        self._reader.join(5)
        return self.proc.returncode, out, "".join(self.err_lines)

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()


def java_left(scratch: Path) -> list[str]:
    """TLC processes of this test: their -Djava.io.tmpdir is under `scratch`.
    (Other tests run TLC at the same time: a bare `pgrep -f tlc2.TLC` would see them.)"""
    found = subprocess.run(["pgrep", "-af", "tlc2.TLC"], capture_output=True, text=True)
    return [ln for ln in found.stdout.splitlines() if str(scratch) in ln]


def assert_clean(scratch: Path, err: str) -> None:
    assert "Traceback" not in err, err
    assert "internal error" not in err, err
    deadline = time.monotonic() + 2.0  # a killed JVM takes a moment to leave the table
    while java_left(scratch) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert java_left(scratch) == []
    assert sorted(p.name for p in scratch.iterdir() if p.name.startswith("bftcheck-tlc-")) == []


@pytest.fixture
def scratch(tmp_path: Path) -> Path:
    path = tmp_path / "tmp"
    path.mkdir()
    return path


@pytest.fixture
def clean_stop():
    stop.reset()
    yield
    stop.reset()


# -- tlc ---------------------------------------------------------------------------
@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_signal_during_the_first_tlc_run(scratch, sig) -> None:
    run = Running(scratch, *LONG)
    run.wait_for("TLC run 1:")
    time.sleep(1.0)  # the JVM is up and searching
    seconds = run.signal(sig)
    code, out, err = run.finish()
    assert seconds < LATENCY, seconds
    assert code == 3, (out, err)
    name = signal.Signals(sig).name
    lines = out.splitlines()
    assert lines[1] == (f"search: INCOMPLETE (interrupted ({name})) during TLC run 1; no TLC "
                        f"run finished, 1 worker")
    assert lines[2] == "  agreement  unknown"
    assert lines[-1] == (f"result: incomplete: 1 of 1 properties undecided (interrupted "
                         f"({name})) (exit 3)")
    assert "search: complete" not in out and "crashed" not in err
    assert_clean(scratch, err)


def test_sigterm_during_a_tlc_run_json(scratch) -> None:
    run = Running(scratch, *LONG, "--json")
    deadline = time.monotonic() + 20
    while not java_left(scratch) and time.monotonic() < deadline:  # --json: no progress
        time.sleep(0.05)
    time.sleep(0.5)
    seconds = run.signal(signal.SIGTERM)
    code, out, err = run.finish()
    assert seconds < LATENCY and code == 3, (seconds, out, err)
    d = json.loads(out)
    assert d["complete"] is False and d["stopped"] == "interrupted (SIGTERM)"
    assert d["exit_code"] == 3 and d["tlc_runs"] == 0 and d["interrupted_run"] == 1
    assert d["verdicts"] == {"agreement": UNKNOWN}
    assert err == ""
    assert_clean(scratch, err)


def test_signal_as_the_next_tlc_run_starts(scratch) -> None:
    """Between runs (the signal lands as run 2 starts its JVM): run 1's witness
    stays, the rest is unknown."""
    run = Running(scratch, *SERIES)
    run.wait_for("TLC run 2:")
    seconds = run.signal(signal.SIGTERM)
    code, out, err = run.finish()
    assert seconds < LATENCY and code == 3, (seconds, out, err)
    assert "search: INCOMPLETE (interrupted (SIGTERM)) during TLC run 2; 1 TLC run finished" \
        in out
    assert "  decision-reachable     witnessed (depth 5)" in out
    assert "  agreement              unknown" in out
    assert "result: incomplete: 8 of 9 properties undecided" in out
    assert_clean(scratch, err)


def test_terminal_ctrl_c_reaches_tlc_too(scratch) -> None:
    """Ctrl-C goes to the whole process group: TLC dies of SIGINT at the same
    time. That is an interrupt with its summary, not 'TLC crashed'."""
    run = Running(scratch, *LONG, new_session=True)
    run.wait_for("TLC run 1:")
    time.sleep(1.0)
    seconds = run.signal(signal.SIGINT, group=True)
    code, out, err = run.finish()
    assert seconds < LATENCY and code == 3, (seconds, out, err)
    assert "INCOMPLETE (interrupted (SIGINT))" in out
    assert "stopped before finishing" not in err
    assert_clean(scratch, err)


def test_a_second_signal_stops_at_once(scratch) -> None:
    run = Running(scratch, *LONG)
    run.wait_for("TLC run 1:")
    time.sleep(0.5)
    start = time.monotonic()
    run.proc.send_signal(signal.SIGINT)
    run.proc.send_signal(signal.SIGINT)
    run.proc.wait(timeout=30)
    seconds = time.monotonic() - start
    code, out, err = run.finish()
    assert seconds < LATENCY and code == 3, (seconds, out, err)
    assert_clean(scratch, err)


def test_tlc_killed_by_sigint_alone_is_an_interrupt(capsys, tmp_path, monkeypatch, tools,
                                                    clean_stop) -> None:
    """TLC ended by SIGINT (someone's Ctrl-C) while bftcheck was not asked to stop."""
    bindir = tmp_path / "bin"
    bindir.mkdir()
    java = bindir / "java"
    java.write_text("#!/bin/sh\necho 'Starting... (fake)'\nkill -INT $$\n")
    java.chmod(0o755)
    monkeypatch.setenv("PATH", f"{bindir}{os.pathsep}{os.environ['PATH']}")
    code = main(["tlc", *SMALL, "--quiet", "--tla2tools", tools.jar])
    out, err = capsys.readouterr()
    assert code == 3 and err == ""
    assert "INCOMPLETE (TLC was interrupted (SIGINT)) during TLC run 1" in out


def test_a_stop_between_runs_keeps_the_finished_verdicts(monkeypatch, tools,
                                                         clean_stop) -> None:
    """The series polls the stop before each run: no JVM is started after it."""
    cfg = preset("n4-f1").with_changes(rounds=1)
    real = tlc.run_tlc
    calls = []

    def once(*args, **kwargs):
        calls.append(1)
        run = real(*args, **kwargs)
        stop.request("interrupted (SIGTERM)")
        return run

    monkeypatch.setattr(tlc, "run_tlc", once)
    out = tlc.check(cfg, ["agreement", "decision-reachable"], tools)
    assert len(calls) == 1 and out.runs == 1 and not out.complete
    assert out.stopped == out.result.stopped == "interrupted (SIGTERM)"
    assert out.result.verdicts == {"agreement": UNKNOWN, "decision-reachable": WITNESSED}
    assert out.result.exit_code() == 3 and out.result.complete is False


def test_trace_out_unwritable_before_the_work(capsys, tmp_path, scratch) -> None:
    code = main(["tlc", "--mutant", "accept-invalid", "--trace-out",
                 str(tmp_path / "missing" / "t.json")])
    out, err = capsys.readouterr()
    assert code == 2 and out == ""
    assert err.count("\n") == 1 and "--trace-out" in err and "does not exist" in err


def test_trace_out_failing_after_the_verdicts(capsys, tmp_path, monkeypatch) -> None:
    from bftcheck import itf

    def fail(path, model, trace):
        raise OutputError(f"could not write the ITF trace to {path} (disk full); nothing was "
                          f"written there")

    monkeypatch.setattr(itf, "write_itf", fail)
    target = tmp_path / "t.json"
    code = main(["tlc", "--mutant", "accept-invalid", "--quiet", "--trace-out", str(target)])
    out, err = capsys.readouterr()
    assert code == 2
    assert "  validity               violated (depth 6)" in out
    assert "trace written" not in out and out.splitlines()[-1] == "result: violated: validity " \
        "(exit 2)"
    assert err == f"bftcheck: error: could not write the ITF trace to {target} (disk full); " \
                  f"nothing was written there\n"
    assert not target.exists()


# -- crossval -----------------------------------------------------------------------
def test_crossval_interrupted_during_tlc(scratch) -> None:
    run = Running(scratch, *CROSSVAL_LONG)
    run.wait_for("TLC run 1:")
    time.sleep(0.5)
    seconds = run.signal(signal.SIGINT)
    code, out, err = run.finish()
    assert seconds < LATENCY, seconds
    assert code == 3, (out, err)
    assert "engines agree" not in out and "DISAGREE" not in out and "MISMATCH" not in out
    rows = {ln.split("  ")[1].strip(): ln.split() for ln in out.splitlines()[1:-1]}
    assert rows["agreement"] == ["agreement", "holds", "unknown", "undecided"]
    assert rows["distinct states"] == ["distinct", "states", "400,526", "-", "undecided"]
    assert out.splitlines()[-1].startswith(
        "result: INCOMPLETE (interrupted (SIGINT)): the comparison stopped before its end")
    assert_clean(scratch, err)


def test_crossval_json_interrupted(scratch) -> None:
    run = Running(scratch, *CROSSVAL_LONG, "--json")
    deadline = time.monotonic() + 20
    while not java_left(scratch) and time.monotonic() < deadline:
        time.sleep(0.02)
    seconds = run.signal(signal.SIGTERM)
    code, out, err = run.finish()
    assert seconds < LATENCY, seconds
    d = json.loads(out)
    assert code == d["exit_code"] == 3
    assert d["complete"] is False and d["agree"] is None
    assert d["stopped"] == "interrupted (SIGTERM)"
    assert d["engines"]["check"]["complete"] is True
    assert d["engines"]["tlc"]["complete"] is False
    assert {r["what"] for r in d["rows"] if not r["decided"]} >= {"distinct states", "agreement"}
    assert_clean(scratch, err)


def test_crossval_interrupted_while_tlc_follows_our_counterexample(scratch) -> None:
    run = Running(scratch, "crossval", "--mutant", "accept-invalid")
    run.wait_for("TLC follows bftcheck's validity counterexample")
    seconds = run.signal(signal.SIGTERM)
    code, out, err = run.finish()
    assert seconds < LATENCY, seconds
    assert code == 3, (out, err)
    assert "TLC -> bftcheck: validity counterexample (6 steps) confirmed" in out
    assert "bftcheck -> TLC: validity counterexample not replayed (undecided: interrupted " \
           "(SIGTERM))" in out
    assert "engines agree" not in out
    assert_clean(scratch, err)


# -- spec export --------------------------------------------------------------------
@pytest.mark.parametrize("where", ["/proc/twin", "/proc/self"])
def test_export_to_an_unwritable_place(capsys, where) -> None:
    code = main(["spec", "export", "--out", where, "--force"])
    out, err = capsys.readouterr()
    assert code == 2 and out == ""
    assert err.count("\n") == 1 and err.startswith("bftcheck: error: --out ")


def test_export_that_fails_midway_leaves_nothing(capsys, tmp_path, monkeypatch) -> None:
    from bftcheck import outputs

    real = outputs.write_atomic

    def second_fails(path, text, what="output"):
        if Path(path).name == "MC.tla":
            raise OutputError(f"could not write the {what} to {path} (No space left on "
                              f"device); nothing was written there")
        real(path, text, what)

    monkeypatch.setattr(outputs, "write_atomic", second_fails)
    out_dir = tmp_path / "twin"
    code = main(["spec", "export", "--out", str(out_dir)])
    out, err = capsys.readouterr()
    assert code == 2 and out == "" and err.count("\n") == 1 and "MC.tla" in err
    assert not out_dir.exists()
    # into an existing directory: its own files stay, ours go
    out_dir.mkdir()
    (out_dir / "notes.txt").write_text("mine")
    assert main(["spec", "export", "--out", str(out_dir)]) == 2
    assert sorted(p.name for p in out_dir.iterdir()) == ["notes.txt"]
