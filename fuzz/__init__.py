"""Hypothesis stateful fuzzing over the model, for configurations too big to enumerate.

In your own test suite::

    from bftcheck.model.config import Config
    from bftcheck.fuzz import machine_for

    TestMyChain = machine_for(Config(powers=(3, 2, 2, 1, 1), byzantine=1, byz_budget=3)).TestCase
"""

from bftcheck.fuzz.any_model import machine_for_model
from bftcheck.fuzz.machine import PropertyViolation, machine_for
from bftcheck.fuzz.runner import FuzzOutcome, fuzz

__all__ = ["FuzzOutcome", "PropertyViolation", "fuzz", "machine_for", "machine_for_model"]
