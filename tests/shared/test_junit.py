"""--junit on every engine command: the report validates against the JUnit
schema's required elements (tests/shared/data/junit.xsd), has a case per
property, obligation, comparison or matrix cell, and fails exactly where the
exit code says a violation was found (exit 1) or is an error where it says
the answer is unknown (exit 3). TLC's commands: tests/spec/test_cli_tlc.py."""

from __future__ import annotations

import pytest

from bftcheck import junit
from bftcheck.outcome import OutputError
from helpers import assert_junit_matches_exit, junit_report, run_cli


def test_a_fork_fails_its_properties_with_the_story_and_the_trace_file(capsys, tmp_path):
    report, itf = tmp_path / "r.xml", tmp_path / "fork.itf.json"
    code, out, _ = run_cli(capsys, "check", "--preset", "n4-f2", "--quiet", "--junit",
                           str(report), "--trace-out", str(itf))
    assert code == 1 and f"JUnit report written to {report}" in out
    got = junit_report(report)
    assert list(got["cases"]) == ["agreement", "validity", "integrity", "ledger-consistency",
                                  "accountability", "no-false-accusation",
                                  "decision-reachable", "round-skip-reachable",
                                  "lock-change-reachable"]
    assert got["totals"] == (9, 2, 0)
    kind, message, text = got["cases"]["agreement"]
    assert (kind, message) == ("failure", "violated (depth 7)")
    assert text.startswith("Counterexample to agreement: 7 steps")
    assert "  7. Decide(p2, h0 v1 in round 1; line 49)" in text
    assert text.endswith(f"ITF trace: {itf} (check it with 'bftcheck replay {itf}')")
    kind, _, text = got["cases"]["ledger-consistency"]  # its own story; not the file written
    assert kind == "failure" and text.startswith("Counterexample to ledger-consistency")
    assert "ITF trace" not in text
    assert got["cases"]["validity"] == ("passed", None, None)
    assert_junit_matches_exit(got, code)


def test_an_incomplete_search_is_an_error_never_a_pass(capsys, tmp_path):
    report = tmp_path / "r.xml"
    code, _, _ = run_cli(capsys, "check", "--preset", "n4-f1", "--quiet", "--max-states",
                         "500", "--junit", str(report))
    assert code == 3
    got = junit_report(report)
    unknown = {n for n, c in got["cases"].items() if c[0] == "error"}
    assert "agreement" in unknown and got["totals"][1] == 0
    assert got["cases"]["agreement"][1] == "unknown"
    assert "the search stopped (state limit" in got["cases"]["agreement"][2]
    assert_junit_matches_exit(got, code)


def test_an_asked_for_witness_that_is_not_witnessed_fails(capsys, tmp_path):
    report = tmp_path / "r.xml"
    code, _, _ = run_cli(capsys, "check", "--preset", "n4-f0", "--rounds", "1", "--quiet",
                         "--property", "round-skip-reachable", "--junit", str(report))
    assert code == 1
    got = junit_report(report)
    assert got["cases"]["round-skip-reachable"][:2] == ("failure", "not witnessed")


@pytest.mark.parametrize("argv, code, totals", [
    (("bmc", "--preset", "n4-f2", "--depth", "7"), 1, (6, 2, 0)),
    (("bmc", "--preset", "n4-f1", "--depth", "3"), 0, (6, 0, 0)),
    (("induct", "--preset", "n4-f1"), 0, (8, 0, 0)),
    (("induct", "--preset", "n4-f1", "--invariant", "types"), 1, None),
    (("prove", "quorum", "--powers", "4,1,1,1"), 0, (1, 0, 0)),
    (("prove", "quorum", "--mutant", "weak-quorum", "--powers", "1,1,1,1"), 1, (1, 1, 0)),
    (("fuzz", "--preset", "n4-f2", "--max-examples", "300", "--db", "none", "--quiet"), 1,
     (6, 1, 0)),
    (("fuzz", "--preset", "n4-f1", "--max-examples", "20", "--db", "none", "--quiet"), 0,
     (6, 0, 0)),
    (("fuzz", "--preset", "n4-f1", "--max-examples", "100000", "--max-seconds", "1",
      "--db", "none", "--quiet"), 3, (6, 0, 6)),
    # 3 variants and the 2 controls (the whole matrix runs in tests/shared/test_readme.py)
    (("mutants", "--engines", "check", "--mutants", "weak-quorum,accept-invalid,"
      "regossip-all-heights", "--quiet"), 0, (5, 0, 0)),
])
def test_every_engine_command_reports_what_its_exit_code_says(capsys, tmp_path, argv, code,
                                                              totals):
    report = tmp_path / "r.xml"
    got_code, out, _ = run_cli(capsys, *argv, "--junit", str(report))
    assert got_code == code
    got = junit_report(report)
    if totals is not None:
        assert got["totals"] == totals
    assert_junit_matches_exit(got, code)
    assert f"JUnit report written to {report}" in out
    if argv[0] == "induct" and code == 1:  # the failed obligation carries its counterexample
        failed = [c for c in got["cases"].values() if c[0] == "failure"]
        assert len(failed) == 1 and failed[0][2] != failed[0][1]
        assert got["totals"][2] == 0  # the later ones are skipped: moot, not unknown
        assert {c[0] for c in got["cases"].values()} <= {"passed", "failure", "skipped"}


@pytest.mark.parametrize("argv", [
    ("check", "--preset", "n4-f1"), ("fuzz", "--max-examples", "5"),
    ("bmc", "--depth", "1"), ("induct",), ("prove", "quorum"), ("mutants",),
    ("tlc",), ("crossval",),
])
def test_an_unwritable_report_is_refused_before_the_work(capsys, argv):
    code, out, err = run_cli(capsys, *argv, "--junit", "/nonexistent/dir/r.xml")
    assert code == 2 and out == "" and err.count("\n") == 1
    assert err.startswith("bftcheck: error: --junit /nonexistent/dir/r.xml")


FULL = "could not write the JUnit report to r.xml: no space left on device"


@pytest.mark.parametrize("argv", [
    ("check", "--preset", "n4-f2", "--quiet"), ("check", "--preset", "n4-f1", "--json"),
    ("fuzz", "--max-examples", "5", "--db", "none", "--quiet"),
    ("fuzz", "--preset", "n4-f2", "--max-examples", "300", "--db", "none", "--quiet"),
    ("bmc", "--depth", "2"), ("bmc", "--depth", "2", "--json"), ("induct",),
    ("prove", "quorum"), ("prove", "quorum", "--json"),
    # the failing write is under test, not the catalogue: two variants keep it short
    ("mutants", "--engines", "check", "--mutants", "weak-quorum,no-lock", "--quiet"),
])
def test_a_write_failing_after_the_work_is_one_line_after_the_verdicts(tmp_path, monkeypatch,
                                                                       argv):
    """Verdicts first, then the one line, exit 2; the report is not claimed written."""
    import contextlib
    import io

    from bftcheck.cli import main

    def full(*args, **kwargs):
        raise OutputError(FULL)

    monkeypatch.setattr(junit, "write", full)
    both = io.StringIO()
    with contextlib.redirect_stdout(both), contextlib.redirect_stderr(both):
        code = main([*argv, "--junit", str(tmp_path / "r.xml")])
    lines = both.getvalue().splitlines()
    assert code == 2 and lines[-1] == f"bftcheck: error: {FULL}"
    assert both.getvalue().count(FULL) == 1 and "JUnit report written" not in both.getvalue()
    said = lines[-2]
    assert said.endswith("(exit 2)") or '"exit_code": 2' in said


def test_outputs_must_be_distinct_files_and_an_old_report_is_removed(capsys, tmp_path):
    code, out, err = run_cli(capsys, "check", "--junit", str(tmp_path / "x"), "--trace-out",
                             str(tmp_path / "x"))
    assert code == 2 and out == "" and "--trace-out and --junit both name" in err
    old = tmp_path / "old.xml"
    old.write_text("<testsuites/>")  # a passing report of an earlier run
    code, _, _ = run_cli(capsys, "check", "--property", "no-such", "--junit", str(old))
    assert code == 2 and not old.exists()  # never read again as this run's


def test_the_schema_rejects_what_ci_systems_cannot_read(tmp_path):
    """The schema check can fail: a report without its required parts does not pass."""
    import xmlschema

    bad = tmp_path / "bad.xml"
    good = junit.render("check", "cfg", [junit.Case("agreement", "failed", "violated")], 0.1)
    for broken in (good.replace(' classname="bftcheck.check"', ""),
                   good.replace("<properties>", "<props>").replace("</properties>", "</props>"),
                   good.replace(' type="violation"', "")):
        bad.write_text(broken)
        with pytest.raises(xmlschema.XMLSchemaValidationError):
            junit_report(bad)


def test_characters_xml_cannot_hold_are_escaped_not_written(tmp_path):
    """A plug-in's names or values may hold control characters; the report stays XML."""
    report = tmp_path / "r.xml"
    report.write_text(junit.render("check", "cfg\x01", [
        junit.Case("odd\x02name", "failed", "violated\x1b", "story\x00text")], 0.0))
    got = junit_report(report)
    assert got["cases"] == {"odd\\x02name": ("failure", "violated\\x1b", "story\\x00text")}


def test_an_interrupted_matrix_or_comparison_claims_no_failure():
    """Exit 3 after an interrupt: what failed so far is unknown, not a failure."""
    from bftcheck.matrix import Cell, junit_cases
    from bftcheck.spec.crossval import Report, Row
    from bftcheck.spec.crossval import junit_cases as compared

    rows = [{"mutant": "no-lock", "control": False,
             "cells": {"check": Cell("check", False, "agreement", None, 0.1, "escaped")}}]
    assert [c.outcome for c in junit_cases(rows)] == ["failed"]
    assert [c.outcome for c in junit_cases(rows, "interrupted (SIGINT)")] == ["unknown"]
    report = Report(None, None, 1, rows=[Row("distinct states", "1", "2", True, False),
                                         Row("seconds", "1", "2", False, False)])
    assert [(c.name, c.outcome) for c in compared(report)] == [("distinct states", "failed")]
    report.stopped = "interrupted (SIGINT)"
    assert [c.outcome for c in compared(report)] == ["unknown"]
