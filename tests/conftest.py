"""Test-suite settings: Hypothesis runs derandomized, so every run of the suite
makes the same choices (the project's determinism rule holds for tests too)."""

from hypothesis import settings

settings.register_profile("bftcheck-tests", derandomize=True, database=None)
settings.load_profile("bftcheck-tests")
