"""Faults around `bftcheck mutants`: SIGINT and SIGTERM during the matrix (in a
checker cell, as the next row starts) end within seconds with the rows so far
and the rest "not run", exit 3; an undecided cell (an interrupted search, a
Z3 unknown, a fuzz run stopped before its budget) is neither caught nor clean,
so the matrix exits 3, never 0 nor 1; numeric flags are checked at parse time."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from types import SimpleNamespace

import pytest

from bftcheck import matrix, stop
from bftcheck.model.config import Config
from bftcheck.model.mutants import MUTANTS
from helpers import seconds_to_exit

LATENCY = 3.0  # seconds from the signal to the exit, on a noisy 2-core machine


def start(*argv: str) -> tuple[subprocess.Popen, list[str]]:
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    proc = subprocess.Popen([sys.executable, "-m", "bftcheck.cli", *argv],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    lines: list[str] = []

    def read() -> None:
        assert proc.stderr is not None
        for line in proc.stderr:
            lines.append(line)

    threading.Thread(target=read, daemon=True).start()
    return proc, lines


def wait_for(proc: subprocess.Popen, lines: list[str], needle: str, timeout: float = 60) -> None:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if any(needle in ln for ln in lines):
            return
        if proc.poll() is not None:
            pytest.fail(f"ended before {needle!r}: {''.join(lines)}")
        time.sleep(0.01)
    proc.kill()
    pytest.fail(f"no {needle!r} within {timeout} s")


def interrupt(proc: subprocess.Popen, sig: int) -> float:
    return seconds_to_exit(proc, sig)


@pytest.fixture
def clean_stop():
    stop.reset()
    yield
    stop.reset()


# -- real subprocesses --------------------------------------------------------------
@pytest.mark.parametrize("sig,at", [(signal.SIGINT, "weak-quorum: check"),
                                    (signal.SIGTERM, "unverified-sync: check")])
def test_mutants_interrupted(sig, at) -> None:
    proc, lines = start("mutants", "--engines", "check")
    wait_for(proc, lines, at)
    seconds = interrupt(proc, sig)
    assert proc.stdout is not None
    out, err = proc.stdout.read(), "".join(lines)
    assert seconds < LATENCY, seconds
    assert proc.returncode == 3, (out, err)
    assert "Traceback" not in err and "internal error" not in err
    name = signal.Signals(sig).name
    last = out.splitlines()[-1]
    assert last.startswith(f"result: INCOMPLETE (interrupted ({name})): ") and "(exit 3)" in last
    table = {ln.split("  ")[0]: ln for ln in out.splitlines()[1:-1]}
    assert table["real protocol (split)"].endswith("not run")
    assert "clean" not in table["real protocol (split)"]
    if at.startswith("unverified-sync"):
        assert "caught: validity, 6 steps" in table["accept-invalid"]


def test_mutants_interrupted_json() -> None:
    proc, lines = start("mutants", "--engines", "check", "--json")
    time.sleep(2.0)  # no progress lines with --json: the first rows are running
    seconds = interrupt(proc, signal.SIGTERM)
    assert proc.stdout is not None
    out = proc.stdout.read()
    assert seconds < LATENCY
    if proc.returncode == 0:  # it finished first (a very fast machine): the whole answer
        assert json.loads(out)["complete"] is True
        return
    assert proc.returncode == 3, (out, "".join(lines))
    d = json.loads(out)
    assert d["complete"] is False and d["stopped"] == "interrupted (SIGTERM)"
    assert d["exit_code"] == 3 and d["all_caught_and_control_clean"] is False
    cells = [r["engines"]["check"] for r in d["rows"]]
    assert len(cells) == len(MUTANTS) + 2 and cells[-1]["undecided"] == matrix.NOT_RUN
    assert cells[-1]["caught"] is None
    assert d["rows_decided"] == sum(1 for c in cells if c["undecided"] is None)


# -- undecided cells ----------------------------------------------------------------
def _cfg(name: str) -> Config:
    return Config(**MUTANTS[name].catch, mutant=name, name=f"mutant-{name}")


def test_an_interrupted_check_cell_is_undecided(clean_stop) -> None:
    stop.request("interrupted (SIGINT)")
    cell = matrix.run_check(_cfg("weak-quorum"))
    assert cell.caught is None and cell.undecided == "interrupted (SIGINT)"
    assert matrix.describe(cell).startswith("UNDECIDED (incomplete (interrupted (SIGINT))")


def test_after_a_stop_the_rest_is_not_run(clean_stop) -> None:
    stop.request("interrupted (SIGTERM)")
    rows = matrix.matrix(["check", "fuzz"])
    assert all(c.undecided == matrix.NOT_RUN for r in rows for c in r["cells"].values())
    assert matrix.outcome(rows, stop.requested()) == 3 and not matrix.ok(rows)


def test_an_unknown_cell_makes_the_matrix_incomplete() -> None:
    def row(control: bool, **cells) -> dict:
        return {"mutant": "m", "breaks": None, "control": control, "cells": cells}

    caught = matrix.Cell("check", True, "agreement", 9, 0.1, "")
    clean = matrix.Cell("check", False, None, None, 0.1, "complete")
    unknown = matrix.Cell("bmc", None, None, None, 0.1, "Z3 answered unknown", "timeout")
    rows = [row(False, check=caught, bmc=unknown), row(True, check=clean)]
    assert matrix.undecided(rows) == ["m: bmc (timeout)"] and matrix.failures(rows) == []
    assert not matrix.ok(rows) and matrix.outcome(rows) == 3
    assert matrix.outcome([row(False, check=caught), row(True, check=clean)]) == 0
    # a decided escape is a failure even beside an unknown cell; an interrupt claims nothing
    escaped = row(False, check=clean, bmc=unknown)
    assert matrix.outcome([escaped]) == 1
    assert matrix.outcome([escaped], "interrupted (SIGINT)") == 3


def test_fuzz_bmc_and_induct_without_an_answer_are_undecided(monkeypatch, clean_stop) -> None:
    from bftcheck.checker import smt
    from bftcheck.fuzz import runner

    monkeypatch.setattr(runner, "fuzz", lambda cfg, **kw: SimpleNamespace(
        violated=None, path=None, examples=300, seconds=0.2,
        interrupted="interrupted (SIGINT)"))
    cell = matrix.run_fuzz(_cfg("no-lock"), 10_000, 1)
    assert cell.caught is None and cell.undecided == "interrupted (SIGINT)"
    monkeypatch.setattr(smt, "bmc", lambda *a, **kw: SimpleNamespace(
        found={}, complete=False, depth=5, seconds=1.0, stopped="Z3 answered unknown at "
        "depth 6 (timeout)", unknown="timeout"))
    cell = matrix.run_bmc(_cfg("weak-quorum"), 16)
    assert cell.caught is None and "unknown at depth 6" in cell.undecided
    monkeypatch.setattr(smt, "induct", lambda *a, **kw: SimpleNamespace(
        proved=False, failed="", failed_conjunct="", states=[], seconds=1.0, stopped="",
        unknown={"consecution": "timeout"}))
    cell = matrix.run_induct(_cfg("weak-quorum"))
    assert cell.caught is None and cell.undecided == "Z3 answered unknown: consecution (timeout)"


def test_the_cli_exits_3_on_an_undecided_cell(capsys, monkeypatch) -> None:
    from bftcheck.cli import main

    real = matrix.run_check

    def unknown_control(cfg, props_named=None):
        if cfg.name == "split":
            return matrix.Cell("check", None, None, None, 0.0, "limit", undecided="a limit")
        return real(cfg, props_named)

    monkeypatch.setattr(matrix, "run_check", unknown_control)
    # the reporting is under test, not the catalogue: one variant keeps it short
    code = main(["mutants", "--engines", "check", "--mutants", "weak-quorum", "--quiet"])
    out, _ = capsys.readouterr()
    assert code == 3
    assert out.splitlines()[-1] == ("result: INCOMPLETE: 1 cells undecided: real protocol "
                                    "(split): check (a limit) (exit 3)")


def test_mutants_runs_the_chosen_rows_and_always_the_two_controls(capsys) -> None:
    from bftcheck.cli import main

    code = main(["mutants", "--engines", "check", "--mutants", "no-lock,weak-quorum",
                 "--json", "--quiet"])
    d = json.loads(capsys.readouterr().out)
    assert code == 0 and d["all_caught_and_control_clean"] is True
    assert [r["mutant"] for r in d["rows"]] == [  # the catalogue's order, not the given one
        "weak-quorum", "no-lock", "real protocol (n4-f1)", "real protocol (split)"]
    assert all(r["engines"]["check"]["caught"] for r in d["rows"][:2])


@pytest.mark.parametrize("given, said", [
    ("weak-quorum,bogus", "--mutants: unknown mutant 'bogus': choose among the 14 that "
                          "'bftcheck list mutants' shows (comma-separated)"),
    (",", "--mutants ',' names no mutant: give one or more names of 'bftcheck list "
          "mutants', comma-separated"),
])
def test_a_bad_mutants_list_is_one_line_exit_2_before_any_work(capsys, given, said) -> None:
    from bftcheck.cli import main

    code = main(["mutants", "--mutants", given])
    out, err = capsys.readouterr()
    assert code == 2 and out == "" and err == f"bftcheck: error: {said}\n"


BAD = [
    (["--bmc-depth", "0"], "--bmc-depth 0: pass a whole number > 0"),
    (["--bmc-depth", "2.5"], "--bmc-depth 2.5: not a whole number"),
    (["--max-examples", "0"], "--max-examples 0: pass a whole number > 0"),
    (["--max-examples", "1e3"], "--max-examples 1e3: not a whole number"),
    (["--seed", "-1"], "--seed -1: pass a whole number >= 0"),
    (["--seed", "x"], "--seed x: not a whole number"),
]


@pytest.mark.parametrize("argv,needle", BAD, ids=[" ".join(a) for a, _ in BAD])
def test_numeric_flags(capsys, argv, needle) -> None:
    from bftcheck.cli import main

    code = main(["mutants", *argv])
    out, err = capsys.readouterr()
    assert code == 2 and out == "" and err.count("\n") == 1 and needle in err, err
