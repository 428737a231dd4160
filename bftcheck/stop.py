"""Cooperative interrupts: SIGINT and SIGTERM ask the running work to stop.

A signal does not raise in the middle of an engine: it records why the work
must stop and runs the callbacks the running engine registered (Z3's own
interrupt, terminating a TLC process). Engines poll `requested()` at safe
points and end with what they know, marked incomplete, so the command still
prints its summary and exits 3. A second signal means "stop now": in the
bftcheck process it runs the cleanups registered with `on_abort` (kill a TLC
process, remove its directory, a half-written temporary file), prints one
line and ends the process with exit 3 at once, since raising from a signal
handler can land inside ctypes or a destructor and come out as a traceback;
where the caller keeps the process (tests call `main` in-process) it raises
`Abort` instead.
"""

from __future__ import annotations

import os
import signal
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

# SIGHUP too: a closed terminal or ssh session must not lose a long search's summary
_NAMES = {signal.SIGINT: "SIGINT", signal.SIGTERM: "SIGTERM", signal.SIGHUP: "SIGHUP"}
_reason: str | None = None
_callbacks: list[Callable[[], None]] = []
_cleanups: list[Callable[[], None]] = []
_hard_exit = False
_signals = 0  # stop signals handled since the last reset
# Reentrant: a signal handler runs in the main thread, possibly while that
# thread holds the lock (in on_stop, or inside the first signal's request),
# and a plain Lock would hang it there for good (seen in CI: two SIGINTs sent
# back to back left `bftcheck tlc` running).
_lock = threading.RLock()
EXIT_INCOMPLETE = 3  # bftcheck/outcome.py; repeated here so a handler imports nothing


class Abort(BaseException):
    """A second interrupt: stop at once. A BaseException so that no engine's
    `except Exception` (nor Hypothesis's failure handling) swallows it."""


def requested() -> str | None:
    """Why the work must stop ("interrupted (SIGINT)"), or None."""
    return _reason


def request(reason: str) -> None:
    """Ask the running work to stop (what a signal does; tests call it too)."""
    global _reason
    with _lock:
        first = _reason is None
        if first:
            _reason = reason
        callbacks = list(_callbacks)
    if first:
        for callback in callbacks:
            callback()


def reset() -> None:
    global _reason, _signals
    with _lock:
        _reason = None
        _signals = 0
        _callbacks.clear()


def _handler(signum: int, frame: Any) -> None:
    global _signals
    name = _NAMES.get(signum, str(signum))
    _signals += 1  # first, so that a second signal landing inside request() sees it
    if _signals == 1 and _reason is None:
        request(f"interrupted ({name})")
        return
    if not _hard_exit:
        raise Abort(f"{name} again")
    for cleanup in list(_cleanups):
        try:
            cleanup()
        except Exception:  # noqa: BLE001 - the process ends now; clean what can be
            pass
    os.write(sys.stderr.fileno(), (
        f"bftcheck: interrupted ({name} again): stopped at once, without a summary; the work "
        f"is incomplete (exit {EXIT_INCOMPLETE})\n").encode())
    os._exit(EXIT_INCOMPLETE)


@contextmanager
def signals_stop_work(hard_exit: bool = False) -> Iterator[None]:
    """Within the block, SIGINT and SIGTERM request a stop (main thread only).
    `hard_exit`: this is the bftcheck process itself; a second signal ends
    it (see above), and after the block signals are ignored, so that one
    arriving while the process exits cannot kill it with another code."""
    global _hard_exit
    if not hard_exit:
        reset()  # in-process callers (tests) start clean; the process keeps an early request
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    _hard_exit = hard_exit
    previous = {sig: signal.signal(sig, _handler) for sig in _NAMES}
    try:
        yield
    finally:
        for sig, old in previous.items():
            signal.signal(sig, signal.SIG_IGN if hard_exit else old)
        _hard_exit = False


def catch_early() -> None:
    """The console script's first act, before the heavy imports: a signal
    during start-up is a stop request like any other, not a traceback."""
    global _hard_exit
    _hard_exit = True
    for sig in _NAMES:
        signal.signal(sig, _handler)


@contextmanager
def handlers_kept() -> Iterator[None]:
    """Whatever handlers of the stop signals a library installs within the
    block, the ones before it are back after it, at the OS level too (ray.init
    sets a Python SIGTERM handler that exits with code 1 and its core a C one
    that prints a crash report: a SIGTERM must stay a stop request)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    saved = {sig: signal.getsignal(sig) for sig in _NAMES}
    try:
        yield
    finally:
        for sig, handler in saved.items():
            if handler is not None:
                signal.signal(sig, handler)


@contextmanager
def on_abort(cleanup: Callable[[], None]) -> Iterator[None]:
    """Run `cleanup` if a second signal ends the process while the block runs."""
    with _lock:
        _cleanups.append(cleanup)
    try:
        yield
    finally:
        with _lock:
            if cleanup in _cleanups:
                _cleanups.remove(cleanup)


@contextmanager
def on_stop(callback: Callable[[], None]) -> Iterator[None]:
    """Run `callback` if a stop is requested while the block runs (or at once
    if one already was)."""
    with _lock:
        _callbacks.append(callback)
        already = _reason is not None
    if already:
        callback()
    try:
        yield
    finally:
        with _lock:
            if callback in _callbacks:
                _callbacks.remove(callback)
