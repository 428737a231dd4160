"""Selects the exploration core: compiled (_core_c) unless it is missing or
BFTCHECK_NO_EXTENSIONS=1 forces the pure-Python reference (_core_py).

`COMPILED` says which one loaded; the test suite fails if CI runs without the
compiled core, so a silent fallback cannot hide a broken build.
"""

from __future__ import annotations

from bftcheck import extensions_disabled
from bftcheck.checker import _core_py

if extensions_disabled():
    _impl = _core_py
else:
    try:
        from bftcheck.checker import _core_c as _impl  # type: ignore[attr-defined, no-redef]
    except ImportError:  # not built: tests/checker/test_core.py makes this loud in CI
        _impl = _core_py

COMPILED: bool = _impl is not _core_py
StateSpace = _impl.StateSpace
fingerprint = _impl.fingerprint

__all__ = ["COMPILED", "StateSpace", "fingerprint"]
