"""The GitHub Actions example (examples/ci/github-actions.yml): its bftcheck
step, run as written in a folder laid out like the repository it is copied
into, checks the example configuration, writes the JUnit report and the
traces the upload step keeps, and exits non-zero (failing the job) on a fork."""

from __future__ import annotations

import shlex
import shutil
import subprocess
from pathlib import Path

import yaml

from bftcheck.cli import main
from helpers import assert_junit_matches_exit, junit_report

CI = Path(__file__).resolve().parents[2] / "examples" / "ci"


def workflow() -> dict:
    return yaml.safe_load((CI / "github-actions.yml").read_text())


def steps() -> dict[str, dict]:
    (job,) = workflow()["jobs"].values()
    return {s.get("name", s.get("uses")): s for s in job["steps"]}


def run_check_step(repo: Path, monkeypatch, capsys) -> int:
    """The step's commands, line by line, in `repo` (bftcheck in-process)."""
    monkeypatch.chdir(repo)
    code = None
    for line in steps()["Check the configuration"]["run"].strip().splitlines():
        argv = shlex.split(line)
        if argv[0] == "bftcheck":
            code = main(argv[1:])
        else:
            subprocess.run(argv, check=True)
    capsys.readouterr()
    return code


def repository(tmp_path: Path, toml: str | None = None) -> Path:
    folder = tmp_path / "repo" / ".github" / "workflows"
    folder.mkdir(parents=True)
    shutil.copy(CI / "github-actions.yml", folder / "bftcheck.yml")
    (folder / "chain.toml").write_text(toml or (CI / "chain.toml").read_text())
    return tmp_path / "repo"


def test_the_workflow_installs_checks_and_keeps_its_reports_whatever_the_outcome():
    s = steps()
    assert workflow()[True] == ["push", "pull_request"]  # YAML reads the key `on` as True
    assert s["Install bftcheck"]["run"].startswith("pip install ")
    upload = s["Keep the report and the traces"]
    assert upload["if"] == "always()" and upload["uses"].startswith("actions/upload-artifact")
    assert upload["with"]["path"] == "reports/"


def test_the_example_configuration_passes_and_writes_the_reports(tmp_path, monkeypatch,
                                                                 capsys):
    repo = repository(tmp_path)
    code = run_check_step(repo, monkeypatch, capsys)
    assert code == 0
    got = junit_report(repo / "reports" / "bftcheck.xml")
    assert "recovery" in got["cases"] and "agreement" in got["cases"]
    assert_junit_matches_exit(got, code)
    # nothing violated: the trace files hold the first witness, for a person to look at
    assert "Witness of" in (repo / "reports" / "trace.html").read_text()
    assert main(["replay", str(repo / "reports" / "trace.itf.json")]) == 0


def test_a_fork_fails_the_job_with_its_trace_in_the_reports(tmp_path, monkeypatch, capsys):
    forking = ("powers = [1, 1, 1, 1]\nbyzantine = 2\nbyz_budget = 8\nheights = 1\n"
               "rounds = 2\nvalues = 2\n")
    repo = repository(tmp_path, forking)
    code = run_check_step(repo, monkeypatch, capsys)
    assert code == 1  # non-zero: the step, and so the job, fails
    got = junit_report(repo / "reports" / "bftcheck.xml")
    assert got["cases"]["agreement"][0] == "failure"
    assert "ITF trace: reports/trace.itf.json" in got["cases"]["agreement"][2]
    assert "A fork at height 0" in (repo / "reports" / "trace.html").read_text()
    assert main(["replay", str(repo / "reports" / "trace.itf.json")]) == 1
