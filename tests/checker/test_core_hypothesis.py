"""Differential tests, driven by Hypothesis: the compiled core against its
pure-Python reference on generated inputs."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bftcheck.checker import _core_py

_core_c = pytest.importorskip("bftcheck.checker._core_c")


@given(st.binary(max_size=300))
def test_fingerprints_agree_on_any_bytes(data):
    assert _core_c.fingerprint(data) == _core_py.fingerprint(data)


@given(st.binary(min_size=1, max_size=40), st.integers(0, 39))
def test_fingerprint_sees_every_byte(data, i):
    i %= len(data)
    flipped = data[:i] + bytes([data[i] ^ 0x01]) + data[i + 1:]
    assert _core_py.fingerprint(flipped) != _core_py.fingerprint(data)


@settings(max_examples=60)
@given(st.lists(st.lists(st.binary(min_size=3, max_size=3), max_size=12), max_size=30))
def test_state_spaces_agree_on_any_sequence_of_operations(batches):
    """Same states in, same answers out: new positions, parents, depths, FIFO order."""
    spaces = [_core_py.StateSpace(3), _core_c.StateSpace(3)]
    for sp in spaces:
        assert sp.add_initial(b"\0\0\0", 0) == 0
    for batch in batches:
        popped = [sp.pop() for sp in spaces]
        assert popped[0] == popped[1]
        if popped[0] is None:
            break
        _, sid = popped[0]
        results = [sp.add_successors(sid, batch) for sp in spaces]
        assert results[0] == results[1]
        assert len(spaces[0]) == len(spaces[1]) and spaces[0].queued == spaces[1].queued
    n = len(spaces[0])
    for sid in range(n):
        assert [(sp.parent(sid), sp.action(sid), sp.depth(sid)) for sp in spaces][0] == \
               [(sp.parent(sid), sp.action(sid), sp.depth(sid)) for sp in spaces][1]
