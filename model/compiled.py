"""Selects the compiled rules (_rules_c) or none, in which case the model runs
its pure-Python rules (tendermint.py, properties.py: the source of truth).

`COMPILED` says whether the extension loaded; BFTCHECK_NO_EXTENSIONS=1 forces
pure Python. tests/model/test_rules_compiled.py fails in CI if it did not load;
it and tests/model/test_rules_compiled_network.py (partitions, block sync)
check the compiled rules against the Python ones.
"""

from __future__ import annotations

from typing import Any

from bftcheck import extensions_disabled

try:
    from bftcheck.model import _rules_c  # type: ignore[attr-defined]
except ImportError:  # not built: the test suite makes this loud
    _rules_c = None

COMPILED: bool = _rules_c is not None and not extensions_disabled()
KIND_NAMES: tuple[str, ...] = tuple(_rules_c.KIND_NAMES) if _rules_c is not None else ()
MAX_BYZANTINE = 8


def variants() -> frozenset[str]:
    """The variants the compiled rules implement: the names of their flags."""
    return frozenset(k for k in _rules_c.MUTANT_FLAGS if k is not None) if _rules_c else frozenset()


def compiled_rules(layout: Any, mutant: str | None) -> Any | None:
    """The compiled rules for this layout, or None to use the Python rules.
    A variant the compiled rules do not implement is refused (VariantUnsupported),
    never explored as the real protocol."""
    if not COMPILED or len(layout.byzantine) > MAX_BYZANTINE:
        return None
    from bftcheck.model.mutants import require

    require("compiled", variants(), mutant)
    return _rules_c.Rules(layout, mutant)
