"""Faults during a compiled search: a full disk, a lost worker, an interrupt
without a checkpoint. Each ends as INCOMPLETE (exit 3) with one line saying
why, never as a verdict from part of the space and never as a crash."""

from __future__ import annotations

import re
import resource
import signal
import subprocess
import sys
import time

import pytest

from bftcheck import stop
from bftcheck.checker import bfs, search
from bftcheck.model import TendermintModel
from bftcheck.presets import preset

pytestmark = pytest.mark.skipif(not search.available(), reason="compiled engine not built")


def _small_disk() -> None:
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a write past the limit fails (EFBIG)
    resource.setrlimit(resource.RLIMIT_FSIZE, (2_000_000, 2_000_000))


@pytest.mark.parametrize("workers", ["1", "2"])
def test_a_full_disk_ends_incomplete(tmp_path, workers):
    proc = subprocess.run(
        [sys.executable, "-m", "bftcheck.cli", "check", "--preset", "n4-f1", "--quiet",
         "--workers", workers, "--workdir", str(tmp_path), "--reduce", "none"],
        preexec_fn=_small_disk, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 3, proc.stderr
    assert f"INCOMPLETE (cannot write to {tmp_path}" in proc.stdout
    assert "agreement              unknown" in proc.stdout
    assert "Traceback" not in proc.stderr


def test_a_full_disk_with_a_checkpoint_ends_incomplete_and_says_so(tmp_path):
    proc = subprocess.run(
        [sys.executable, "-m", "bftcheck.cli", "check", "--preset", "n4-f1", "--quiet",
         "--workers", "1", "--checkpoint", str(tmp_path / "ck"), "--reduce", "none"],
        preexec_fn=_small_disk, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 3, proc.stderr
    assert "INCOMPLETE (cannot write to" in proc.stdout
    assert "Traceback" not in proc.stderr


def test_a_lost_worker_ends_incomplete():
    proc = subprocess.Popen(
        [sys.executable, "-m", "bftcheck.cli", "check", "--preset", "bench", "--quiet",
         "--workers", "2", "--reduce", "none"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    children: list[int] = []
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and len(children) < 2:
        time.sleep(0.2)
        found = subprocess.run(["pgrep", "-P", str(proc.pid)], capture_output=True, text=True)
        children = [int(x) for x in found.stdout.split()]
    assert len(children) >= 2, "the worker processes did not start"
    time.sleep(1.0)
    subprocess.run(["kill", "-KILL", *map(str, children)])  # every child: the workers die
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 3, err
    assert re.search(r"INCOMPLETE \(worker [01] lost \(killed by SIGKILL\)\)", out), out
    assert "holds" not in out and "Traceback" not in err


def test_an_interrupt_without_checkpoint_keeps_what_it_found():
    """A violation found before the interrupt is real: exit 1 with its trace,
    the other verdicts unknown."""
    m = TendermintModel(preset("n4-f2"))
    props = [p for p in m.properties() if p.kind not in bfs.GRAPH_KINDS]

    def interrupt_at_depth_9(progress: dict) -> None:
        if progress["depth"] >= 9:
            stop.request("interrupted (SIGINT)")

    with stop.signals_stop_work():
        result = search.check(m, props, progress=interrupt_at_depth_9, progress_every=0.0)
    stop.reset()
    assert result.stopped == "interrupted (SIGINT)"
    assert result.verdicts["agreement"] == "violated" and result.found_at["agreement"] == 7
    assert result.verdicts["validity"] == "unknown"
    reference = bfs.check(m, props)
    assert result.paths["agreement"] == reference.paths["agreement"]


@pytest.mark.parametrize("workers", ["1", "2"])
def test_max_memory_below_the_need_ends_incomplete(workers):
    """n4-f0 needs about 160 MiB with one worker: 100M is too little."""
    proc = subprocess.run(
        [sys.executable, "-m", "bftcheck.cli", "check", "--preset", "n4-f0", "--quiet",
         "--workers", workers, "--max-memory", "100M", "--reduce", "none"],
        capture_output=True, text=True, timeout=300)
    assert proc.returncode == 3, proc.stderr
    assert "search: INCOMPLETE (memory limit of 100.0 MiB reached" in proc.stdout
    assert "agreement              unknown" in proc.stdout
    assert proc.stdout.rstrip().endswith("(exit 3)")
