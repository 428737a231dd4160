"""The compiled rules' C entry (checker/native_model.h), called through its
function pointers as the engine calls them: on every state reachable in a
few configurations it gives the successors, action kinds and property values
of the compiled rules' Python-facing methods (which tests/model/
test_rules_compiled.py checks against the Python rules)."""

from __future__ import annotations

import ctypes

import pytest

from bftcheck.model import MUTANTS, TendermintModel
from bftcheck.model.compiled import COMPILED, KIND_NAMES
from bftcheck.model.config import Config
from bftcheck.model.properties import valid_block
from bftcheck.presets import preset

pytestmark = pytest.mark.skipif(not COMPILED, reason="compiled rules not built")

SUCCESSORS = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.c_void_p, ctypes.c_char_p, ctypes.c_void_p,
                              ctypes.c_void_p, ctypes.c_int)
STATE = ctypes.CFUNCTYPE(ctypes.c_uint64, ctypes.c_void_p, ctypes.c_char_p, ctypes.c_uint64)
STEP = ctypes.CFUNCTYPE(ctypes.c_uint64, ctypes.c_void_p, ctypes.c_char_p, ctypes.c_int,
                        ctypes.c_char_p, ctypes.c_uint64)


class Entry(ctypes.Structure):
    _fields_ = [("version", ctypes.c_int), ("ctx", ctypes.c_void_p),
                ("state_size", ctypes.c_int), ("successors", SUCCESSORS),
                ("state_predicates", STATE), ("step_predicates", STEP)]


def entry_of(capsule) -> Entry:
    get = ctypes.pythonapi.PyCapsule_GetPointer
    get.restype, get.argtypes = ctypes.c_void_p, [ctypes.py_object, ctypes.c_char_p]
    return Entry.from_address(get(capsule, b"bftcheck.native_model"))


def native_successors(entry: Entry, s: bytes, capacity: int) -> tuple[int, list, list]:
    out = ctypes.create_string_buffer(max(capacity, 1) * entry.state_size)
    kinds = (ctypes.c_uint16 * max(capacity, 1))()
    n = entry.successors(entry.ctx, s, ctypes.addressof(out), ctypes.addressof(kinds),
                         capacity)
    size = entry.state_size
    shown = min(n, capacity)
    return n, [out.raw[k * size:(k + 1) * size] for k in range(shown)], list(kinds[:shown])


@pytest.mark.parametrize("name", ["n4-f2", "weighted", "n4-f1-split", "first-proposal-only"])
def test_the_c_entry_equals_the_compiled_rules(name):
    """n4-f1-split: partitions and block sync, whose duplicate successors the
    entry drops by comparing with what it already wrote to the buffer;
    first-proposal-only: GST and valid-block (a variant's catch configuration)."""
    m = TendermintModel(Config(**MUTANTS[name].catch, mutant=name) if name in MUTANTS
                        else preset(name))
    native = m.native
    entry = entry_of(native.capsule)
    assert entry.version == 1 and entry.state_size == m.lay.size
    states = _reachable(m, 3000)
    everything = (1 << len(native.state_predicates)) - 1
    steps = (1 << len(native.step_predicates)) - 1
    checks = {p.name: p.check for p in m.properties()}
    if "valid-block" in checks:  # its catalogue entry is the C one: compare with Python
        checks["valid-block"] = lambda s: valid_block(m, s)
    for s in states:
        expected, kinds = m.fast.successors(s)
        n, got, got_kinds = native_successors(entry, s, 256)
        assert (n, got, got_kinds) == (len(expected), expected, list(kinds))
        if n > 1:  # too small a buffer: the count asks for more, nothing overflows
            short, _, _ = native_successors(entry, s, 1)
            assert short >= n
        mask = entry.state_predicates(entry.ctx, s, everything)
        for bit, name in enumerate(native.state_predicates):
            if name in checks:  # valid-block is in the catalogue only with GST
                assert bool(mask >> bit & 1) == bool(checks[name](s)), (name, s.hex())
        for t, kind in zip(expected, kinds, strict=True):
            mask = entry.step_predicates(entry.ctx, s, kind, t, steps)
            for bit, name in enumerate(native.step_predicates):
                assert bool(mask >> bit & 1) == bool(checks[name](s, KIND_NAMES[kind], t))


def test_the_capsule_keeps_the_rules_alive():
    import gc

    m = TendermintModel(preset("n4-f2"))
    capsule = m.fast.native()
    s = m.init_states()[0]
    expected = m.fast.successors(s)[0]
    del m
    gc.collect()
    n, got, _ = native_successors(entry_of(capsule), s, 256)
    assert got == expected


def _reachable(m: TendermintModel, limit: int) -> list[bytes]:
    """Up to `limit` reachable states, depth first (deep states, not just the first levels)."""
    seen, todo, out = set(), list(m.init_states()), []
    while todo and len(out) < limit:
        s = todo.pop()
        if s in seen:
            continue
        seen.add(s)
        out.append(s)
        todo.extend(m.fast.successors(s)[0])
    return out
