"""The signal handler of bftcheck/stop.py, called as the interpreter calls it:
in the thread that may already hold the module's lock."""

from __future__ import annotations

import signal
import threading

import pytest

from bftcheck import stop


@pytest.fixture
def clean_stop():
    stop.reset()
    yield
    stop.reset()


def _in_a_thread(work) -> bool:
    """Run `work` in a thread; whether it finished within 5 s (a hang fails)."""
    thread = threading.Thread(target=work, daemon=True)
    thread.start()
    thread.join(5)
    return not thread.is_alive()


def test_a_signal_while_the_thread_holds_the_lock_requests_a_stop(clean_stop) -> None:
    # the main thread inside on_stop or request() when a SIGINT lands: it must
    # not wait for a lock it holds itself (two SIGINTs back to back hung bftcheck tlc)
    def work() -> None:
        with stop._lock:
            stop._handler(signal.SIGINT, None)

    assert _in_a_thread(work)
    assert stop.requested() == "interrupted (SIGINT)"


def test_a_second_signal_inside_the_first_ones_request_stops_at_once(clean_stop) -> None:
    # the second SIGINT arrives while the first is still running its callbacks
    raised: list[BaseException] = []

    def second() -> None:
        try:
            stop._handler(signal.SIGINT, None)
        except stop.Abort as exc:
            raised.append(exc)

    def work() -> None:
        with stop.on_stop(second):
            stop._handler(signal.SIGINT, None)

    assert _in_a_thread(work)
    assert [str(e) for e in raised] == ["SIGINT again"]
    assert stop.requested() == "interrupted (SIGINT)"
