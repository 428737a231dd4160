"""Shared test helpers: build model states by hand from readable pieces."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

from bftcheck.model import TendermintModel
from bftcheck.model.config import Config


def model(**cfg: Any) -> TendermintModel:
    base = {"powers": (1, 1, 1, 1), "byzantine": 0, "byz_budget": 0, "heights": 1,
            "rounds": 2, "values": 2}
    base.update(cfg)
    return TendermintModel(Config(**base))


def build(m: TendermintModel, local: dict[str, dict[str, Any]] | None = None,
          proposals: list[tuple] = (), prevotes: list[tuple] = (),
          precommits: list[tuple] = (), byzantine_used: int | None = None) -> bytes:
    """A state: every validator at h0 r0 propose with nothing sent, then the
    given local fields per validator and the given messages.

    proposals: (height, round, src, value, validRound); votes: (height, round, src, value).
    """
    v = copy.deepcopy(m.decode(bytes(m.lay.size)))
    v["proposals"], v["prevotes"], v["precommits"] = [], [], []
    for p, fields in (local or {}).items():
        for key, value in fields.items():
            v[key][p] = value
    v["proposals"] = [{"height": h, "round": r, "src": s, "value": x, "validRound": vr}
                      for h, r, s, x, vr in proposals]
    v["prevotes"] = [{"height": h, "round": r, "src": s, "value": x} for h, r, s, x in prevotes]
    v["precommits"] = [{"height": h, "round": r, "src": s, "value": x}
                       for h, r, s, x in precommits]
    byz = sum(1 for store in (prevotes, precommits) for _, _, s, _ in store
              if m.lay.is_byz[int(s[1:]) - 1])
    byz += sum(1 for _, _, s, _, _ in proposals if m.lay.is_byz[int(s[1:]) - 1])
    v["byzantineUsed"] = byz if byzantine_used is None else byzantine_used
    return m.encode(v)


def steps(m: TendermintModel, s: bytes, validator: str | None = None) -> list[tuple[str, dict]]:
    """(action label, decoded successor) for every successor, optionally of one validator."""
    return [(str(a), m.decode(t)) for a, t in m.next_states(s)
            if validator is None or a.validator == validator]


def names(m: TendermintModel, s: bytes, validator: str) -> list[str]:
    return [label.split("(")[0] for label, _ in steps(m, s, validator)]


def replays(cfg: Config, out: Any) -> int:
    """Rebuild a fuzzing outcome's trace, replay it on the model (it must fail
    the property the fuzzer reported), return its length."""
    from bftcheck.replay import replay
    from bftcheck.trace import from_path

    m = TendermintModel(cfg)
    trace = from_path(m, cfg, out.path, out.violated)
    report = replay(m, cfg, [(st.action, m.decode(st.state)) for st in trace.steps],
                    out.violated)
    assert out.violated in report.failures
    return len(trace)


def run_cli(capsys: Any, *argv: str) -> tuple[int, str, str]:
    """Run the command line in-process: (exit code, stdout, stderr)."""
    from bftcheck.cli import main

    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def assert_usage_error(capsys: Any, argv: list[str], needle: str) -> None:
    """Bad input: exit 2, nothing on stdout, one line on stderr naming it."""
    code, out, err = run_cli(capsys, *argv)
    assert code == 2
    assert out == ""
    assert err.count("\n") == 1 and err.startswith("bftcheck: error: ")
    assert needle in err


def seconds_to_exit(proc: Any, sig: int, send: Any = None) -> float:
    """Send `sig` to a running subprocess (through `send`, default its
    send_signal) and wait for it to end; the seconds that took. A process
    still running 30 s after the signal fails the test."""
    import signal
    import subprocess
    import time

    import pytest

    begin = time.monotonic()
    (send or proc.send_signal)(sig)
    try:
        proc.wait(timeout=30)
    except subprocess.TimeoutExpired:
        proc.kill()
        pytest.fail("still running 30 s after the signal")
    seconds = time.monotonic() - begin
    print(f"{signal.Signals(sig).name}: exit {proc.returncode} {seconds:.2f} s after it")
    return seconds


# The counterexamples the HTML traces are tested on (test_html.py, test_html_browser.py,
# benchmarks/trace_pictures.py): (name, check arguments).
BRACHA = str(Path(__file__).resolve().parents[1] / "examples" / "bracha.py") + ":PLUGIN"
PICTURED = {
    "n4-f2-fork": ("--preset", "n4-f2"),
    "no-block-sync-recovery": ("--mutant", "no-block-sync"),
    "bracha-quorum-off-by-one": ("--model", BRACHA, "--mutant", "quorum-off-by-one"),
}


def pictured(name: str, folder: Path) -> tuple[Any, Any]:
    """(model, trace) of a PICTURED counterexample, through the command line:
    check writes its ITF, replay reads it back."""
    import contextlib
    import io

    from bftcheck.cli import main
    from bftcheck.itf import read_itf
    from bftcheck.replay import replay

    itf = folder / f"{name}.itf.json"
    with contextlib.redirect_stdout(io.StringIO()):
        assert main(["check", *PICTURED[name], "--quiet", "--trace-out", str(itf)]) == 1
    loaded = read_itf(str(itf))
    report = replay(loaded.model, loaded.config, loaded.steps, loaded.meta["property"],
                    source=str(itf))
    return loaded.model, report.trace


JUNIT_XSD = Path(__file__).resolve().parent / "shared" / "data" / "junit.xsd"


def junit_report(path: Path) -> dict[str, Any]:
    """A --junit file validated against the JUnit schema (tests/shared/data/
    junit.xsd), as {"totals": (tests, failures, errors), "cases": {name:
    (outcome, message, text)}}; outcome is passed, failure, error or skipped."""
    import xml.etree.ElementTree as ET

    import xmlschema

    xmlschema.XMLSchema(str(JUNIT_XSD)).validate(str(path))  # raises when it does not
    (suite,) = ET.parse(path).getroot().findall("testsuite")
    cases = {}
    for case in suite.findall("testcase"):
        (problem,) = list(case) or [None]
        cases[case.get("name")] = ("passed", None, None) if problem is None else (
            problem.tag, problem.get("message"), problem.text)
        assert problem is None or problem.tag == "skipped" or problem.get("type") == {
            "failure": "violation", "error": "unknown"}[problem.tag]
    totals = tuple(int(suite.get(k)) for k in ("tests", "failures", "errors"))
    assert totals == (len(cases), sum(c[0] == "failure" for c in cases.values()),
                      sum(c[0] == "error" for c in cases.values()))
    return {"totals": totals, "cases": cases}


def assert_junit_matches_exit(report: dict[str, Any], code: int) -> None:
    """A case fails exactly where exit 1 comes from, is an error where exit 3 does."""
    _, failures, errors = report["totals"]
    assert (code == 1) == (failures > 0)
    assert (code == 0) == (failures == errors == 0)
    if code == 3:
        assert errors > 0


def headless_chromium(width: int = 1400, height: int = 1000) -> Any:
    """A Selenium session of headless Chromium (test_html_browser.py,
    benchmarks/trace_pictures.py); LookupError with one line when Chromium or
    its driver is not installed."""
    import shutil

    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    binary = next((p for p in map(shutil.which, ("chromium", "chromium-browser",
                                                  "google-chrome")) if p), None)
    driver = shutil.which("chromedriver")
    if binary is None or driver is None:
        raise LookupError("Chromium or chromedriver is not on PATH: install them "
                          "(apt-get install chromium chromium-driver)")
    options = webdriver.ChromeOptions()
    options.binary_location = binary
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                f"--window-size={width},{height}"):
        options.add_argument(arg)
    return webdriver.Chrome(service=Service(driver), options=options)
