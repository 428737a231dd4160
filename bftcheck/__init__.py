"""bftcheck: safety checking of Tendermint-style BFT consensus.

Subpackages: ``bftcheck.model`` (the protocol), ``bftcheck.checker`` (engines),
``bftcheck.fuzz`` (Hypothesis state machines), ``bftcheck.spec`` (the TLA+ twin).
"""

__version__ = "0.1.0"


def extensions_disabled() -> bool:
    """True when BFTCHECK_NO_EXTENSIONS=1 forces the pure-Python reference code."""
    import os

    return os.environ.get("BFTCHECK_NO_EXTENSIONS", "") not in ("", "0")
