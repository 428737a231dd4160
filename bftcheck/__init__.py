"""bftcheck: safety checking of Tendermint-style BFT consensus.

Subpackages: ``bftcheck.model`` (the protocol), ``bftcheck.checker`` (engines),
``bftcheck.fuzz`` (Hypothesis state machines), ``bftcheck.spec`` (the TLA+ twin).
"""

__version__ = "0.1.0"
