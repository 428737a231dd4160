"""The compiled core and its pure-Python reference: same API, same answers."""

from __future__ import annotations

import os

import pytest

from bftcheck.checker import _core_py, core

IMPLS = [pytest.param(_core_py, id="pure")]
try:
    from bftcheck.checker import _core_c

    IMPLS.append(pytest.param(_core_c, id="compiled"))
except ImportError:  # reported by test_compiled_core_loaded
    _core_c = None


def test_compiled_core_loaded():
    """No silent fallback: unless pure Python is forced, the compiled core must be in use."""
    if os.environ.get("BFTCHECK_NO_EXTENSIONS", "") not in ("", "0"):
        assert not core.COMPILED
        pytest.skip("BFTCHECK_NO_EXTENSIONS is set: the pure-Python core is in use by request")
    assert _core_c is not None, "the compiled core _core_c did not build or import"
    assert core.COMPILED and core.StateSpace is _core_c.StateSpace


@pytest.mark.parametrize("data", [b"", b"\x01", bytes(range(7)), bytes(range(8)),
                                  bytes(range(200)), b"\xff" * 33])
def test_fingerprints_agree(data):
    if _core_c is None:
        pytest.skip("compiled core not built")
    assert _core_c.fingerprint(data) == _core_py.fingerprint(data)


def test_fingerprint_pinned_and_sensitive():
    # pinned so a changed hash (and so changed collision behaviour) is noticed
    assert _core_py.fingerprint(b"") == 0xE220A8397B1DCDAF
    assert _core_py.fingerprint(bytes(range(10))) == 0x3A7EF113697A72F3
    seen = {_core_py.fingerprint(bytes([i, j])) for i in range(64) for j in range(64)}
    assert len(seen) == 64 * 64


@pytest.mark.parametrize("impl", IMPLS)
def test_state_space_dedup_parents_and_fifo(impl):
    space = impl.StateSpace(3)
    assert space.add_initial(b"abc", 0) == 0
    assert space.add_initial(b"abc", 1) == -1
    assert space.pop() == (b"abc", 0)
    assert space.pop() is None
    new = space.add_successors(0, [b"abd", b"abc", b"abe", b"abd"])
    assert new == [0, 2]
    assert len(space) == 3 and space.queued == 2
    assert (space.parent(1), space.action(1), space.depth(1)) == (0, 0, 1)
    assert (space.parent(2), space.action(2), space.depth(2)) == (0, 2, 1)
    assert space.pop() == (b"abd", 1)
    assert space.contains(b"abe") and not space.contains(b"zzz")
    with pytest.raises(ValueError):
        space.add_successors(1, [b"too long"])


@pytest.mark.parametrize("impl", IMPLS)
def test_state_space_grows(impl):
    space = impl.StateSpace(4)
    n = 200_000
    space.add_initial((0).to_bytes(4, "little"), 0)
    space.pop()
    new = space.add_successors(0, [i.to_bytes(4, "little") for i in range(n)])
    assert len(new) == n - 1 and len(space) == n
    popped = 0
    while space.pop() is not None:
        popped += 1
    assert popped == n - 1
    assert space.add_successors(0, [(7).to_bytes(4, "little")]) == []
