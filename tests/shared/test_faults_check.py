"""Fault injection for `bftcheck check` and the exit-code discipline of main():
signals at several points of a real subprocess, memory limits (--max-memory
and `ulimit -v`), outputs that cannot be written, an internal error. A fault
never gives exit 0 or 1 unless the work had truly finished with that result."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time

import pytest

from bftcheck import outputs
from bftcheck.outcome import EXIT_INCOMPLETE, EXIT_INTERNAL, EXIT_USAGE, EXIT_VIOLATION
from helpers import run_cli

# A configuration whose full search takes far longer than any test waits
# (n4-split: millions of states), so a signal always lands mid-search.
LONG = ["check", "--preset", "n4-split"]


def start(argv: list[str], **kw) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "bftcheck.cli", *argv],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, **kw)


def wait_for_progress(proc: subprocess.Popen, lines: int = 1) -> None:
    """Block until the search has printed `lines` progress lines on stderr."""
    seen = 0
    while seen < lines:
        line = proc.stderr.readline()
        assert line, "the search ended before it printed progress"
        if "distinct" in line:
            seen += 1


def signal_and_wait(proc: subprocess.Popen, sig: int) -> tuple[int, str, str, float]:
    sent = time.monotonic()
    proc.send_signal(sig)
    out, err = proc.communicate(timeout=60)
    return proc.returncode, out, err, time.monotonic() - sent


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
@pytest.mark.parametrize("after", [1, 3], ids=["1st-progress", "3rd-progress"])
def test_signal_mid_search_prints_the_summary_and_exits_3(sig, after):
    proc = start(LONG)
    wait_for_progress(proc, after)
    code, out, err, took = signal_and_wait(proc, sig)
    name = signal.Signals(sig).name
    assert code == EXIT_INCOMPLETE
    assert took < 3.0, f"took {took:.1f} s to stop"
    assert f"search: INCOMPLETE (interrupted ({name}))" in out
    assert "  agreement              unknown" in out
    assert out.rstrip().endswith("result: no violation found, but the search is incomplete "
                                 "(exit 3)")
    assert "Traceback" not in err


def test_signal_with_json_gives_one_incomplete_object(tmp_path):
    trace = tmp_path / "t.json"
    proc = start([*LONG, "--json", "--trace-out", str(trace)])
    wait_for_progress(proc, 1)
    code, out, err, _ = signal_and_wait(proc, signal.SIGINT)
    assert code == EXIT_INCOMPLETE
    data = json.loads(out)
    assert data["complete"] is False and data["stopped"] == "interrupted (SIGINT)"
    assert data["exit_code"] == EXIT_INCOMPLETE
    assert set(data["verdicts"].values()) <= {"unknown", "witnessed"}
    # nothing half-written: at most the witness found before the signal, whole
    assert [p.name for p in tmp_path.iterdir()] in ([], ["t.json"])
    if trace.exists():
        assert json.loads(trace.read_text())["#meta"]["kind"] == "witness"
    assert "Traceback" not in err


def test_second_signal_stops_at_once_without_a_summary():
    # The first signal asks the search to stop; the second, if it lands before
    # the summary, stops at once. Either way: exit 3, no traceback.
    proc = start(LONG)
    wait_for_progress(proc, 1)
    proc.send_signal(signal.SIGINT)
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == EXIT_INCOMPLETE
    assert "Traceback" not in err
    assert "search: INCOMPLETE (interrupted (SIGINT))" in out or (
        err.strip().splitlines()[-1].startswith("bftcheck: interrupted (SIGINT again)"))


def test_a_violation_found_before_the_interrupt_keeps_its_counterexample(tmp_path):
    """n4-f2 with a budget that makes the search long: the fork (depth 7) is
    found in the first second; an interrupt after that still reports it,
    with its trace, and the trace replays."""
    trace = tmp_path / "fork.json"
    proc = start(["check", "--preset", "n4-f2", "--heights", "2", "--trace-out", str(trace)])
    wait_for_progress(proc, 2)
    code, out, err, _ = signal_and_wait(proc, signal.SIGTERM)
    assert code == EXIT_VIOLATION
    assert "search: INCOMPLETE (interrupted (SIGTERM))" in out
    assert "agreement              violated (depth 7)" in out
    replay = subprocess.run([sys.executable, "-m", "bftcheck.cli", "replay", str(trace)],
                            capture_output=True, text=True, timeout=120)
    assert replay.returncode == EXIT_VIOLATION
    assert "confirmed" in replay.stdout


def test_max_memory_ends_incomplete_with_the_summary(capsys):
    code, out, err = run_cli(capsys, *LONG, "--max-memory", "120M", "--quiet")
    assert code == EXIT_INCOMPLETE
    assert "search: INCOMPLETE (memory limit of 120.0 MiB reached" in out
    assert out.rstrip().endswith("(exit 3)")


def test_ulimit_address_space_ends_incomplete_not_with_a_traceback():
    limit_kib = 1_000_000
    proc = subprocess.run(
        [sys.executable, "-m", "bftcheck.cli", *LONG, "--quiet"], capture_output=True,
        text=True, timeout=600,
        preexec_fn=lambda: __import__("resource").setrlimit(
            __import__("resource").RLIMIT_AS, (limit_kib * 1024, limit_kib * 1024)))
    assert proc.returncode == EXIT_INCOMPLETE
    assert "Traceback" not in proc.stderr and "MemoryError" not in proc.stderr
    assert "search: INCOMPLETE (" in proc.stdout
    assert "result: no violation found, but the search is incomplete (exit 3)" in proc.stdout


@pytest.mark.parametrize("value", ["0", "-1", "1k", "nan", "2X"])
def test_bad_max_memory_is_one_line_exit_2(capsys, value):
    code, out, err = run_cli(capsys, "check", "--max-memory", value)
    assert code == EXIT_USAGE and out == ""
    assert err.count("\n") == 1 and "--max-memory" in err


@pytest.mark.parametrize("value", ["nan", "inf", "-inf", "0", "-3", "x"])
def test_non_finite_or_non_positive_seconds_rejected(capsys, value):
    code, out, err = run_cli(capsys, "check", f"--max-seconds={value}")
    assert code == EXIT_USAGE and out == ""
    assert err.startswith(f"bftcheck: error: --max-seconds {value}: ")
    assert err.count("\n") == 1


@pytest.mark.parametrize("flag", ["--trace-out", "--trace-html"])
@pytest.mark.parametrize("where", ["/proc/bftcheck.json", "/nonexistent-dir/t.json", "/tmp"])
def test_unwritable_output_refused_before_the_search(capsys, flag, where):
    code, out, err = run_cli(capsys, "check", "--preset", "n4-f2", flag, where)
    assert code == EXIT_USAGE
    assert out == ""  # nothing searched, nothing printed
    assert err.count("\n") == 1 and f"{flag} {where}" in err


def test_write_failing_after_the_search_prints_verdicts_then_one_line(tmp_path, capsys,
                                                                      monkeypatch):
    target = tmp_path / "fork.json"
    target.write_text("old\n")

    def fail(src, dst):
        raise OSError(30, "Read-only file system")

    monkeypatch.setattr(outputs.os, "replace", fail)
    code, out, err = run_cli(capsys, "check", "--preset", "n4-f2", "--property", "agreement",
                             "--trace-out", str(target), "--quiet")
    assert code == EXIT_USAGE
    assert "  agreement  violated (depth 7)" in out
    assert "Counterexample to agreement" in out
    assert "trace written to" not in out
    assert out.rstrip().endswith("result: violated: agreement (exit 2)")
    assert err.count("\n") == 1 and str(target) in err and "Read-only" in err
    assert target.read_text() == "old\n"  # the old file is untouched
    assert sorted(p.name for p in tmp_path.iterdir()) == ["fork.json"]  # no temp file left


def test_write_failing_after_the_search_with_json(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(outputs.os, "replace",
                        lambda a, b: (_ for _ in ()).throw(OSError(28, "No space left")))
    code, out, err = run_cli(capsys, "check", "--preset", "n4-f2", "--property", "agreement",
                             "--trace-out", str(tmp_path / "t.json"), "--json", "--quiet")
    assert code == EXIT_USAGE
    data = json.loads(out)
    assert data["verdicts"]["agreement"] == "violated" and data["exit_code"] == EXIT_USAGE
    assert "No space left" in err


def test_atomic_write_keeps_the_mode_a_plain_write_would_give(tmp_path):
    outputs.write_atomic(tmp_path / "a.txt", "x")
    plain = tmp_path / "b.txt"
    plain.write_text("x")
    assert (tmp_path / "a.txt").stat().st_mode == plain.stat().st_mode


def test_internal_error_is_exit_4_with_one_line_and_a_crash_file(capsys, monkeypatch,
                                                                  tmp_path):
    import bftcheck.checker.search as bfs

    def broken(*a, **k):
        raise RuntimeError("injected fault")

    monkeypatch.setattr(bfs, "check", broken)
    monkeypatch.setenv("TMPDIR", str(tmp_path))
    import tempfile

    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    code, out, err = run_cli(capsys, "check", "--quiet")
    assert code == EXIT_INTERNAL
    assert err.count("\n") == 1
    assert "internal error (RuntimeError: injected fault)" in err
    crash = next(tmp_path.glob("bftcheck-crash-*.txt"))
    assert "Traceback" in crash.read_text() and str(crash) in err


def test_debug_shows_the_traceback(capsys, monkeypatch):
    import bftcheck.checker.search as bfs

    monkeypatch.setattr(bfs, "check", lambda *a, **k: 1 / 0)
    code, out, err = run_cli(capsys, "check", "--quiet", "--debug")
    assert code == EXIT_INTERNAL
    assert "Traceback" in err and "ZeroDivisionError" in err


def test_witness_only_search_that_ends_early_says_so_and_is_not_incomplete(capsys):
    code, out, err = run_cli(capsys, "check", "--property", "decision-reachable", "--quiet")
    assert code == 0
    assert "search: ended early (every checked property was decided): " in out
    assert "INCOMPLETE" not in out
    assert out.rstrip().endswith("result: every checked property was decided (exit 0)")


# -- output paths that an atomic rename must not replace -----------------------

@pytest.mark.parametrize("flag", ["--trace-out", "--trace-html"])
def test_a_device_or_fifo_as_output_is_refused_not_replaced(tmp_path, capsys, flag):
    import os
    import stat

    fifo = tmp_path / "out.fifo"
    os.mkfifo(fifo)
    for target in ("/dev/null", str(fifo)):
        code, out, err = run_cli(capsys, "check", "--preset", "n4-f2", flag, target)
        assert code == EXIT_USAGE and out == ""
        assert "it is not a regular file" in err and err.count("\n") == 1
    assert stat.S_ISCHR(os.stat("/dev/null").st_mode)
    assert stat.S_ISFIFO(os.stat(fifo).st_mode)


def test_a_trailing_slash_names_a_directory(tmp_path, capsys):
    code, out, err = run_cli(capsys, "check", "--trace-out", f"{tmp_path}/t.json/")
    assert code == EXIT_USAGE and "it names a directory" in err
    assert list(tmp_path.iterdir()) == []


def test_a_symlinked_output_writes_the_file_it_points_to(tmp_path, capsys):
    real = tmp_path / "real.json"
    link = tmp_path / "link.json"
    link.symlink_to(real)
    code, _, _ = run_cli(capsys, "check", "--preset", "n4-f2", "--property", "agreement",
                         "--trace-out", str(link), "--quiet")
    assert code == EXIT_VIOLATION
    assert link.is_symlink() and real.is_file() and '"#meta"' in real.read_text()


@pytest.mark.parametrize("kind", ["fifo", "device"])
def test_a_config_that_is_not_a_regular_file_is_refused(tmp_path, capsys, kind):
    import os

    path = "/dev/zero" if kind == "device" else str(tmp_path / "c.toml")
    if kind == "fifo":
        os.mkfifo(path)
    code, out, err = run_cli(capsys, "check", "--config", path)
    assert code == EXIT_USAGE and "it is not a regular file" in err


# -- standard streams that cannot be written ------------------------------------

def console(argv: list[str], **kw) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "bftcheck.cli", *argv], text=True,
                          timeout=300, **kw)


def test_stdout_full_is_an_environment_error_not_a_bug():
    with open("/dev/full", "w") as full:
        proc = console(["check", "--preset", "n4-f2", "--quiet"], stdout=full,
                       stderr=subprocess.PIPE)
    assert proc.returncode == EXIT_USAGE
    assert proc.stderr.count("\n") == 1
    assert "could not write the report to standard output (No space left" in proc.stderr


def test_stderr_full_does_not_change_the_verdict():
    with open("/dev/full", "w") as full:
        safe = console(["check", "--preset", "n4-f2", "--byzantine", "0"],
                       stdout=subprocess.PIPE, stderr=full)
        bad = console(["check", "--preset", "nope"], stdout=subprocess.PIPE, stderr=full)
    assert safe.returncode == 0 and "result: all checked properties hold (exit 0)" in safe.stdout
    assert bad.returncode == EXIT_USAGE


def test_a_reader_that_stops_early_is_exit_2_or_the_delivered_verdict():
    """A closed pipe is exit 2 with one line; if the whole report still fit into
    the pipe before the reader left, it was delivered and the verdict stands.
    Never 3 (nothing was incomplete) and never a traceback."""
    for _ in range(3):
        proc = subprocess.Popen([sys.executable, "-m", "bftcheck.cli", "check", "--preset",
                                 "n4-f2", "--quiet", "--json"], stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE)
        proc.stdout.read(10)
        proc.stdout.close()
        err = proc.stderr.read().decode()
        code = proc.wait()
        assert "Traceback" not in err
        assert code in (EXIT_VIOLATION, EXIT_USAGE)
        if code == EXIT_USAGE:
            assert "could not write the report to standard output (it was closed" in err


def test_closed_stdout_is_refused():
    proc = console(["check", "--preset", "n4-f2", "--quiet"], stdout=subprocess.DEVNULL,
                   stderr=subprocess.PIPE, preexec_fn=lambda: __import__("os").close(1))
    assert proc.returncode == EXIT_USAGE and "standard output is closed" in proc.stderr


def test_sighup_ends_with_the_summary():
    proc = start(LONG)
    wait_for_progress(proc, 1)
    code, out, err, took = signal_and_wait(proc, signal.SIGHUP)
    assert code == EXIT_INCOMPLETE and "search: INCOMPLETE (interrupted (SIGHUP))" in out


def test_a_signal_during_start_up_is_a_stop_request():
    """The console script catches signals before its heavy imports; one that
    lands there makes the search stop at its first poll: exit 3, a summary."""
    script = ("import os, signal, sys\n"
              "from bftcheck import stop\n"
              "stop.catch_early()\n"
              "os.kill(os.getpid(), signal.SIGINT)\n"
              "from bftcheck.cli import main\n"
              "sys.argv = ['bftcheck', 'check', '--preset', 'n4-f0', '--quiet']\n"
              "sys.exit(main())\n")
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          timeout=300)
    assert proc.returncode == EXIT_INCOMPLETE
    assert "search: INCOMPLETE (interrupted (SIGINT))" in proc.stdout
    assert "Traceback" not in proc.stderr


# -- more paths found by fault injection -----------------------------------------

@pytest.mark.parametrize("argv,needle", [
    (["check", "--max-memory", ""], "--max-memory ''"),
    (["spec", "export", "--out", ""], "--out is empty"),
    (["tlc", "--workers", "100000000000000000000"], "from 1 to 1024"),
    (["check", "--property", "recovery"], "this configuration has no partitions"),
], ids=["empty-memory", "empty-out", "huge-workers", "recovery-without-partitions"])
def test_more_bad_input_is_one_line_exit_2(capsys, argv, needle):
    code, out, err = run_cli(capsys, *argv)
    assert code == EXIT_USAGE and out == ""
    assert err.count("\n") == 1 and needle in err


def test_a_multi_line_internal_error_is_still_one_line(capsys, monkeypatch):
    import bftcheck.checker.search as bfs

    def broken(*a, **k):
        raise RuntimeError("first line\nsecond line\nthird line")

    monkeypatch.setattr(bfs, "check", broken)
    code, out, err = run_cli(capsys, "check", "--quiet")
    assert code == EXIT_INTERNAL and err.count("\n") == 1 and "first line" in err


def test_a_tiny_address_space_is_out_of_memory_not_a_violation():
    """Under a ulimit -v too small to load the libraries, the console script
    says so (exit 3) instead of NumPy's OpenBLAS ending the process with 1."""
    import resource

    def limit() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (100_000 * 1024, 100_000 * 1024))

    proc = subprocess.run([sys.executable, "-c", "from bftcheck.entry import run; run()",
                           "check", "--preset", "n4-f2", "--quiet"], capture_output=True,
                          text=True, timeout=300, preexec_fn=limit)
    assert proc.returncode == EXIT_INCOMPLETE, proc.stderr
    assert proc.stderr.count("\n") == 1 and "out of memory" in proc.stderr


@pytest.mark.parametrize("kib", [90_000, 200_000])
def test_an_address_space_below_the_loading_floor_is_refused_before_loading(kib):
    """Between about 90 and 100 MiB OpenBLAS itself ends the process with exit 1
    (a violation's code) and near 200 MiB a C extension fails without an
    exception: neither can be caught after the fact, so the limit is read first."""
    import resource

    def limit() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (kib * 1024, kib * 1024))

    proc = subprocess.run([sys.executable, "-c", "from bftcheck.entry import run; run()",
                           "check", "--quiet"], capture_output=True, text=True, timeout=300,
                          preexec_fn=limit)
    assert proc.returncode == EXIT_INCOMPLETE and proc.stdout == ""
    assert proc.stderr == (f"bftcheck: out of memory before loading: `ulimit -v` allows "
                           f"{kib // 1024} MiB of address space and loading bftcheck needs "
                           f"256 MiB; the work is not started; raise the limit (exit 3)\n")


def _limit_the_address_space(monkeypatch) -> None:
    import resource

    monkeypatch.setattr(resource, "getrlimit", lambda which: (300 << 20, 300 << 20))


def test_a_library_failing_without_an_exception_under_a_limit_is_out_of_memory(
        capsys, monkeypatch, tmp_path):
    """A C extension that returns an error without setting one while it loads
    raises SystemError from the module body: under `ulimit -v` that is memory."""
    import bftcheck.checker.search as bfs

    (tmp_path / "fails_to_load.py").write_text("raise SystemError('error return without "
                                               "exception set')\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setattr(bfs, "check", lambda *a, **k: __import__("fails_to_load"))
    _limit_the_address_space(monkeypatch)
    code, out, err = run_cli(capsys, "check", "--quiet")
    assert code == EXIT_INCOMPLETE and err.count("\n") == 1
    assert "out of memory (a compiled library failed to load under the address-space " \
           "limit of 300 MiB (ulimit -v))" in err


@pytest.mark.parametrize("limited", [True, False])
def test_a_system_error_outside_a_load_or_without_a_limit_is_a_bug(capsys, monkeypatch,
                                                                  limited):
    import bftcheck.checker.search as bfs

    def broken(*a, **k):
        raise SystemError("error return without exception set")

    monkeypatch.setattr(bfs, "check", broken)
    if limited:
        _limit_the_address_space(monkeypatch)
    code, out, err = run_cli(capsys, "check", "--quiet")
    assert code == EXIT_INTERNAL and "internal error (SystemError" in err


def test_the_system_refusing_memory_to_a_file_operation_is_out_of_memory(capsys, monkeypatch):
    import errno

    import bftcheck.checker.search as bfs

    def refused(*a, **k):
        raise OSError(errno.ENOMEM, "Cannot allocate memory", "/site-packages/numpy/core")

    monkeypatch.setattr(bfs, "check", refused)
    code, out, err = run_cli(capsys, "check", "--quiet")
    assert code == EXIT_INCOMPLETE and err.count("\n") == 1
    assert "out of memory (the system refused memory: [Errno 12] Cannot allocate memory: " \
           "'/site-packages/numpy/core')" in err


@pytest.mark.parametrize("error, code, said", [
    ("OSError(errno.ENOMEM, 'Cannot allocate memory')", EXIT_INCOMPLETE,
     "bftcheck: out of memory while loading bftcheck"),
    ("OSError(errno.EACCES, 'Permission denied')", EXIT_USAGE,
     "bftcheck: error: the installation is broken ([Errno 13] Permission denied)"),
    ("SystemError('error return without exception set')", EXIT_USAGE,  # no ulimit -v here
     "bftcheck: error: the installation is broken (error return without exception set)"),
])
def test_a_failed_load_is_memory_only_when_memory_ran_out(error, code, said):
    """The console script's own net, before the command line exists."""
    script = ("import builtins, errno\n"
              "real = builtins.__import__\n"
              "def failing(name, *a, **k):\n"
              "    if name == 'bftcheck.cli':\n"
              f"        raise {error}\n"
              "    return real(name, *a, **k)\n"
              "builtins.__import__ = failing\n"
              "from bftcheck.entry import run\n"
              "run()\n")
    proc = subprocess.run([sys.executable, "-c", script, "check"], capture_output=True,
                          text=True, timeout=120)
    assert proc.returncode == code and proc.stderr.count("\n") == 1
    assert proc.stderr.startswith(said), proc.stderr
