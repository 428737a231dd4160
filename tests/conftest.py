"""Test-suite settings.

Hypothesis runs derandomized, so every run of the suite makes the same
choices (the project's determinism rule holds for tests too).

The longest explorations are marked `long` and left out of the default run
(`pytest`, which CI calls) so that CI stays under 30 minutes on 2 cores;
`pytest -m long` runs them, `pytest -m ""` runs everything. Each one's
engine and property stay covered by a shorter test in the default run (named
beside it). A listed id that no longer exists fails the collection, so the
list cannot silently stop marking anything.
"""

from __future__ import annotations

import pytest
from hypothesis import settings

settings.register_profile("bftcheck-tests", derandomize=True, database=None)
settings.load_profile("bftcheck-tests")

# test id -> (seconds measured on one core, what keeps it covered by default)
LONG_RUNNING: dict[str, tuple[int, str]] = {
    "tests/spec/test_crossval.py::test_engines_agree[variant ignore-lock-round]":
        (103, "the other 12 variant rows; its verdict in the mutants matrix (test_cli)"),
    "tests/checker/test_bfs.py::test_preset_counts_and_verdicts_pinned[n4-split]":
        (101, "the n4-f1-split pin"),
    "tests/checker/test_bfs.py::test_preset_counts_and_verdicts_pinned[bench]":
        (28, "the n4-f0 pin"),
    "tests/checker/test_smt.py::test_bmc_finds_each_mutant_at_the_checkers_depth"
    "[ignore-lock-round]": (99, "the other mutants' BMC rows"),
    "tests/checker/test_smt.py::test_bmc_finds_each_mutant_at_the_checkers_depth"
    "[unverified-sync]": (54, "the other mutants' BMC rows"),
    "tests/fuzz/test_fuzz.py::test_every_mutant_caught_by_fuzzing_with_a_fixed_seed_and_budget"
    "[weak-quorum]": (58, "the other fuzzable mutants; weak-quorum by the other engines"),
    "tests/fuzz/test_fuzz.py::test_every_mutant_caught_by_fuzzing_with_a_fixed_seed_and_budget"
    "[decide-on-prevotes]": (27, "the other fuzzable mutants"),
    "tests/checker/test_smt.py::test_bmc_finds_each_mutant_at_the_checkers_depth"
    "[decide-stays-in-height]": (30, "the other mutants' BMC rows"),
    "tests/checker/test_bfs.py::test_every_mutant_is_caught_and_the_real_protocol_is_not"
    "[unverified-sync]": (50, "the mutants matrix with the checker (test_cli)"),
    "tests/checker/test_reduction.py::test_every_variant_keeps_its_verdicts[unverified-sync]":
        (33, "the other variants' reduction rows"),
    "tests/checker/test_bfs.py::test_every_mutant_is_caught_and_the_real_protocol_is_not"
    "[first-proposal-only]": (240, "its catch in test_synchrony; the real protocol's verdict "
                                   "in benchmarks/liveness.py"),
    "tests/checker/test_reduction.py::test_every_variant_keeps_its_verdicts"
    "[first-proposal-only]": (132, "the other variants' reduction rows"),
    "tests/fuzz/test_fuzz_termination.py::test_each_termination_bug_is_found_by_fuzzing_with"
    "_the_matrix_seed[prevote-nil-on-pol]": (125, "the other two bugs' rows"),
    "tests/examples/test_bracha.py::test_the_pytest_entry_point_for_a_plug_in_tells_the_story"
    "_and_writes_the_trace": (40, "fuzzing the broken variant through the CLI (test_bracha)"),
}


@pytest.hookimpl(tryfirst=True)  # before -m deselects by marker
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    found = set()
    for item in items:
        if item.nodeid in LONG_RUNNING:
            item.add_marker(pytest.mark.long)
            found.add(item.nodeid)
    collected_files = {item.nodeid.split("::")[0] for item in items}
    missing = {n for n in LONG_RUNNING if n.split("::")[0] in collected_files} - found
    chosen_by_id = any("::" in arg for arg in config.args)  # a run of single tests
    if missing and not config.option.keyword and not chosen_by_id:
        raise pytest.UsageError(f"tests/conftest.py LONG_RUNNING names tests that do not "
                                f"exist any more: {sorted(missing)}; update the list")
