"""Results as JUnit XML (`--junit FILE` on every engine command), the format
CI systems read: one test case per property (or per obligation, comparison or
matrix cell), as the command's own verdicts decide it. A case fails exactly
where the command's exit 1 comes from (a violation, a refuted proof, engines
that disagree), is an error exactly where its exit 3 does (unknown: no
evidence either way, never shown as passed), is skipped where another
case's failure made it moot (an induction obligation after a failed one),
and passes otherwise. The
elements and attributes are those the JUnit schema requires (the Ant/Jenkins
XSD: testsuites > testsuite with properties, testcases, system-out and
system-err); a failure's text is the trace's story and where its ITF was
written."""

from __future__ import annotations

import re
import socket
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Literal

Outcome = Literal["passed", "failed", "unknown", "skipped"]
# characters XML 1.0 cannot hold at all (a plug-in's names might have them)
NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff\ud800-\udfff]")


def _text(value: str) -> str:
    """`value` with the characters XML cannot hold written as \\xNN escapes."""
    return NOT_XML.sub(lambda m: f"\\x{ord(m.group()):02x}", value)


@dataclass
class Case:
    """A test case: `message` is its verdict in one line; `details` the failure's
    or error's text (a story trace, the trace file's path)."""

    name: str
    outcome: Outcome
    message: str
    details: str = ""


def verdict_case(name: str, verdict: str, failed: bool | None = None, at: int | None = None,
                 details: str = "") -> Case:
    """A case from a search verdict (holds, violated, witnessed, not witnessed,
    unknown, ...): violated fails, unknown is an error; `failed` overrides the
    failure (an explicitly asked witness that is not witnessed fails)."""
    message = verdict + (f" (depth {at})" if at is not None else "")
    if failed is None:
        failed = verdict == "violated"
    if failed:
        return Case(name, "failed", message, details)
    if verdict == "unknown" or verdict.startswith("not checked"):
        return Case(name, "unknown", message, details)
    return Case(name, "passed", message)


def render(command: str, config: str, cases: list[Case], seconds: float,
           output: str = "") -> str:
    """The XML document: one suite named after the command and configuration."""
    failures = sum(c.outcome == "failed" for c in cases)
    errors = sum(c.outcome == "unknown" for c in cases)
    skipped = sum(c.outcome == "skipped" for c in cases)
    totals = {"tests": str(len(cases)), "failures": str(failures), "errors": str(errors),
              "skipped": str(skipped), "time": f"{seconds:.3f}"}
    root = ET.Element("testsuites", {"name": "bftcheck", **totals})
    suite = ET.SubElement(root, "testsuite", {
        "name": f"bftcheck {command}", "package": "bftcheck", "id": "0",
        "timestamp": datetime.now().replace(microsecond=0).isoformat(),
        "hostname": socket.gethostname() or "localhost", **totals})
    props = ET.SubElement(suite, "properties")
    ET.SubElement(props, "property", {"name": "configuration", "value": _text(config)})
    classname = f"bftcheck.{command}"
    for case in cases:
        element = ET.SubElement(suite, "testcase", {"name": _text(case.name),
                                                    "classname": classname, "time": "0"})
        if case.outcome == "passed":
            continue
        if case.outcome == "skipped":  # not run, because of another case's failure
            ET.SubElement(element, "skipped", {"message": _text(case.message)})
            continue
        tag, kind = ("failure", "violation") if case.outcome == "failed" else ("error", "unknown")
        ET.SubElement(element, tag, {"message": _text(case.message), "type": kind}).text = (
            _text(case.details or case.message))
    ET.SubElement(suite, "system-out").text = _text(output)
    ET.SubElement(suite, "system-err").text = ""
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, "unicode") + "\n"


def write(path: str | Path, command: str, config: str, cases: list[Case], seconds: float,
          output: str = "") -> None:
    """Write atomically, like the trace files (bftcheck/outputs.py)."""
    from bftcheck.outputs import write_atomic

    write_atomic(path, render(command, config, cases, seconds, output), "JUnit report")
