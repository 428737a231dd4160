"""Cooperative interrupts: SIGINT and SIGTERM ask the running work to stop.

A signal does not raise in the middle of an engine: it records why the work
must stop and runs the callbacks the running engine registered (Z3's own
interrupt, terminating a TLC process). Engines poll `requested()` at safe
points and end with what they know, marked incomplete, so the command still
prints its summary and exits 3. A second signal means "stop now": it raises
`Abort`, and the command exits 3 without a summary.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

_NAMES = {signal.SIGINT: "SIGINT", signal.SIGTERM: "SIGTERM"}
_reason: str | None = None
_callbacks: list[Callable[[], None]] = []
_lock = threading.Lock()


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
    global _reason
    with _lock:
        _reason = None
        _callbacks.clear()


def _handler(signum: int, frame: Any) -> None:
    if _reason is not None:
        raise Abort(f"{_NAMES.get(signum, signum)} again")
    request(f"interrupted ({_NAMES.get(signum, signum)})")


@contextmanager
def signals_stop_work() -> Iterator[None]:
    """Within the block, SIGINT and SIGTERM request a stop (main thread only)."""
    reset()
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = {sig: signal.signal(sig, _handler) for sig in _NAMES}
    try:
        yield
    finally:
        for sig, old in previous.items():
            signal.signal(sig, old)


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
