"""Checkpoint and resume: an interrupted search resumed from its checkpoint
ends with exactly the counts, verdicts and traces of an uninterrupted run; a
damaged checkpoint, or one of another run, is refused with one line."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import pytest

from bftcheck import stop
from bftcheck.checker import bfs, search
from bftcheck.model import TendermintModel
from bftcheck.presets import preset
from helpers import assert_usage_error, run_cli

pytestmark = pytest.mark.skipif(not search.available(), reason="compiled engine not built")


def answer(result) -> tuple:
    return (result.distinct_states, result.generated_states, result.depth, result.verdicts,
            result.found_at, result.paths, result.complete)


@pytest.mark.parametrize("workers", [1, 2])
def test_interrupted_then_resumed_equals_uninterrupted(tmp_path, workers):
    m = TendermintModel(preset("n4-f2"))
    props = [p for p in m.properties() if p.kind not in bfs.GRAPH_KINDS]
    expected = answer(bfs.check(m, props))
    place = search.Placement(workers=workers, checkpoint=str(tmp_path / "ck"))

    def interrupt_at_depth_8(progress: dict) -> None:
        if progress["depth"] >= 8:
            stop.request("interrupted (SIGINT)")

    with stop.signals_stop_work():
        first = search.check(m, props, progress=interrupt_at_depth_8, progress_every=0.0,
                             place=place)
    stop.reset()
    assert first.stopped == "interrupted (SIGINT)" and not first.complete
    assert first.checkpoint and first.checkpoint.startswith("written at level")
    resumed = search.check(m, props, place=search.Placement(
        workers=workers, checkpoint=str(tmp_path / "ck"), resume=True))
    assert answer(resumed) == expected


@pytest.mark.parametrize("workers", [1, 2])
def test_a_state_limit_with_a_checkpoint_reports_the_real_traces(tmp_path, workers):
    """The level is undone for the checkpoint after the answer's traces are read."""
    m = TendermintModel(preset("n4-f2"))
    props = [p for p in m.properties() if p.name in ("agreement", "validity")]
    limits = bfs.Limits(max_states=3499)
    plain = search.check(m, props, limits, place=search.Placement(workers=workers))
    saved = search.check(m, props, limits, place=search.Placement(
        workers=workers, checkpoint=str(tmp_path / "ck")))
    assert plain.paths["agreement"].steps == [0, 0, 1, 3, 0, 0, 1]
    assert answer(saved) == answer(plain) == answer(bfs.check(m, props, limits))
    assert saved.checkpoint.startswith("written at level")


def test_a_checkpoint_every_level_resumes_and_covers_the_whole_log(tmp_path, capsys):
    """Checkpoints at every level (their parent-log CRCs go on from the last
    one's) still cover the log from its first byte."""
    m = TendermintModel(preset("n4-f2"))
    props = [p for p in m.properties() if p.kind not in bfs.GRAPH_KINDS]
    folder = str(tmp_path / "ck")
    limited = search.check(m, props, bfs.Limits(max_states=40_000), place=search.Placement(
        workers=1, checkpoint=folder, checkpoint_every=0.0))
    assert limited.stopped == "state limit of 40000 reached"
    resumed = search.check(m, props, place=search.Placement(
        workers=1, checkpoint=folder, checkpoint_every=0.0, resume=True))
    assert answer(resumed) == answer(bfs.check(m, props))
    with open(os.path.join(folder, "parents-w0.log"), "r+b") as f:
        f.write(b"\x00")  # the first record (parent -1: 0xff...) is older than every checkpoint
    assert_usage_error(capsys, ["check", "--resume", folder],
                       "the checkpoint's file parents-w0.log is damaged")


def _start(*argv: str) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "bftcheck.cli", *argv],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def test_sigint_in_the_middle_of_bench_then_resume(tmp_path):
    """The Done-when case: SIGINT in the middle of `bench` with --checkpoint,
    then --resume, gives the uninterrupted counts and verdicts."""
    folder = str(tmp_path / "bench")
    proc = _start("check", "--preset", "bench", "--checkpoint", folder, "--workers", "2",
                  "--reduce", "none")
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and not os.path.exists(f"{folder}/parents-w0.log"):
        time.sleep(0.1)
    time.sleep(1.5)  # well inside the search (about 6 s in all)
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 3, err
    assert "INCOMPLETE (interrupted (SIGINT))" in out
    assert f"continue with: bftcheck check --resume {folder}" in out
    proc = _start("check", "--resume", folder, "--workers", "2", "--quiet")
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 0, err
    assert "search: complete: 6,317,338 distinct states, 23,752,348 generated, depth 26" in out
    assert "result: all checked properties hold (exit 0)" in out


@pytest.fixture
def checkpoint_folder(tmp_path, capsys) -> str:
    """A checkpoint of n4-f1 written at a state limit."""
    folder = str(tmp_path / "ck")
    code, out, _ = run_cli(capsys, "check", "--preset", "n4-f1", "--checkpoint", folder,
                           "--workers", "1", "--max-states", "20000", "--quiet")
    assert code == 3 and "checkpoint: written at level" in out, out
    return folder


def test_a_state_limit_writes_a_checkpoint_that_resumes(checkpoint_folder, capsys):
    code, out, _ = run_cli(capsys, "check", "--resume", checkpoint_folder, "--workers", "1",
                           "--quiet")
    assert code == 0  # the checkpoint's symmetry reduction goes on
    assert "search: complete: 200,263 distinct states, 581,524 generated, depth 20" in out
    assert "reductions: symmetry (values {v0 v1} interchangeable" in out
    assert "lock-change-reachable  witnessed (depth 11)" in out


def test_a_damaged_checkpoint_is_refused(checkpoint_folder, capsys):
    table = next(n for n in os.listdir(checkpoint_folder) if n.startswith("table-"))
    path = os.path.join(checkpoint_folder, table)
    with open(path, "r+b") as f:
        f.seek(4096)
        byte = f.read(1)
        f.seek(4096)
        f.write(bytes([byte[0] ^ 0xFF]))
    assert_usage_error(capsys, ["check", "--resume", checkpoint_folder],
                       f"the checkpoint's file {table} is damaged")


def test_a_cut_parent_log_is_refused(checkpoint_folder, capsys):
    path = os.path.join(checkpoint_folder, "parents-w0.log")
    os.truncate(path, os.path.getsize(path) - 12)
    assert_usage_error(capsys, ["check", "--resume", checkpoint_folder],
                       "the checkpoint's file parents-w0.log is damaged")


def test_a_checkpoint_of_another_run_is_refused(checkpoint_folder, capsys):
    manifest = os.path.join(checkpoint_folder, "manifest.json")
    data = json.load(open(manifest))
    data["identity"]["bftcheck"] = "0.0.0-other"
    json.dump(data, open(manifest, "w"))
    assert_usage_error(capsys, ["check", "--resume", checkpoint_folder],
                       "the checkpoint is of another run (bftcheck:")


def test_resume_with_another_worker_count_is_refused(checkpoint_folder, capsys):
    assert_usage_error(capsys, ["check", "--resume", checkpoint_folder, "--workers", "2"],
                       "the checkpoint is of another run (workers: 1, this run: 2)")


@pytest.mark.parametrize("argv, needle", [
    (["--preset", "n4-f1-split", "--checkpoint", "{new}"],
     "--checkpoint and --resume need the compiled engine, and this check runs on the "
     "reference loop: graph properties (recovery, fair-recovery)"),
    (["--resume", "{missing}"], "no such folder"),
    (["--resume", "{empty}"], "no checkpoint there (manifest.json is missing)"),
    (["--resume", "{ck}", "--preset", "n4-f1"], "--preset with --resume"),
    (["--checkpoint", "{ck}"], "the folder holds a checkpoint"),
    (["--checkpoint", "{file}"], "not a folder"),
    (["--workdir", "{missing}"], "--workdir"),
    (["--workdir", "/proc"], "--workdir /proc: cannot write there"),
    (["--checkpoint", "/proc/x"], "--checkpoint /proc/x: cannot write there"),
])
def test_bad_checkpoint_options(checkpoint_folder, tmp_path, capsys, argv, needle):
    (tmp_path / "empty").mkdir()
    (tmp_path / "file").write_text("x")
    names = {"missing": str(tmp_path / "missing"), "empty": str(tmp_path / "empty"),
             "new": str(tmp_path / "new"),
             "ck": checkpoint_folder, "file": str(tmp_path / "file")}
    assert_usage_error(capsys, ["check", *[a.format(**names) for a in argv]], needle)


def test_resume_keeps_the_checkpoints_reductions(checkpoint_folder, capsys):
    assert_usage_error(capsys, ["check", "--resume", checkpoint_folder, "--reduce", "none"],
                       "--reduce with --resume: a resumed run keeps the reductions of its "
                       "checkpoint")
    manifest = os.path.join(checkpoint_folder, "manifest.json")
    data = json.load(open(manifest))
    data["run"]["reduce"] = []  # a run edited to drop the reduction it was written with
    json.dump(data, open(manifest, "w"))
    assert_usage_error(capsys, ["check", "--resume", checkpoint_folder],
                       'the checkpoint is of another run (reductions: ["symmetry"], this run: '
                       '[])')


@pytest.mark.parametrize("workers", [1, 2])
def test_a_depth_limit_with_a_checkpoint_resumes_deeper(tmp_path, workers):
    """The depth limit stops at a level boundary: its checkpoint continues there."""
    m = TendermintModel(preset("n4-f1"))
    props = [p for p in m.properties() if p.kind not in bfs.GRAPH_KINDS]
    cut = search.check(m, props, bfs.Limits(max_depth=9), place=search.Placement(
        workers=workers, checkpoint=str(tmp_path / "ck")))
    assert cut.stopped == "depth limit of 9 reached"
    assert cut.checkpoint.startswith("written at level 9")
    resumed = search.check(m, props, place=search.Placement(
        workers=workers, checkpoint=str(tmp_path / "ck"), resume=True))
    assert answer(resumed) == answer(bfs.check(m, props))
