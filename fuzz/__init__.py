"""Hypothesis stateful fuzzing over the model (see the open fuzzing issue)."""
