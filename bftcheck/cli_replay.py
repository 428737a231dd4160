"""`bftcheck replay`: re-check an ITF trace, step by step, against the model."""

from __future__ import annotations

import argparse
import json
from typing import Any

from bftcheck.cli_common import check_outputs, report_output_error
from bftcheck.outcome import EXIT_USAGE, OutputError


def cmd_replay(args: argparse.Namespace) -> int:
    from bftcheck.itf import read_itf
    from bftcheck.replay import replay
    from bftcheck.trace import render

    check_outputs(args)
    loaded = read_itf(args.file)
    model, cfg, meta, steps = loaded.model, loaded.config, loaded.meta, loaded.steps
    prop = meta.get("property")
    kind = meta.get("kind", "violation")
    report = replay(model, cfg, steps, prop, source=args.file, loop=meta.get("loop"),
                    kind=kind)
    failures = report.failures
    code = report.exit_code
    error = None
    if args.html:
        from bftcheck.html import write_html

        try:
            write_html(args.html, model, report.trace, _summary(report, len(steps) - 1, code))
        except OutputError as exc:
            error = exc
    final = EXIT_USAGE if error else code
    if args.json:
        print(json.dumps({"file": args.file, "steps": len(steps) - 1, "legal": True,
                          "claimed": prop, "kind": kind, "confirmed": report.confirmed,
                          "outcome": report.outcome, "failures": failures,
                          "witnessed_at": report.witnessed, "exit_code": final}))
        return report_output_error(error, code)
    print(render(model, report.trace))
    print()
    print("\n".join(_summary(report, len(steps) - 1, final)))
    if error is None and args.html:
        print(f"trace written to {args.html} (HTML)")
    return report_output_error(error, code)


def _summary(report: Any, steps: int, code: int) -> list[str]:
    """Replay's report after the story: what fails where, and the result."""
    lines = [f"replay: {steps} steps, every step is a transition of the model"]
    lines += [f"  {name} fails at step {i}" for name, i in report.failures.items()]
    if report.witnessed is not None:
        lines.append(f"  {report.claimed} is witnessed at step {report.witnessed}")
    return lines + [f"result: {_result(report)} (exit {code})"]


def _result(report: Any) -> str:
    prop, failures = report.claimed, report.failures
    if report.confirmed is None:
        if failures:
            return f"violation of {', '.join(failures)} (the trace claims nothing)"
        return "no property fails along this trace"
    if report.kind == "witness":
        if report.confirmed:
            return (f"witness of {prop} confirmed" + (
                f"; but {', '.join(failures)} fail{'s' if len(failures) == 1 else ''}, a "
                f"violation" if failures else ""))
        return (f"the trace is a run of the model, but its claimed witness of {prop} does not "
                f"occur along it" + (f"; {', '.join(failures)} fail" if failures else ""))
    if report.confirmed:
        return f"violation confirmed (the trace claims {prop})"
    fails = (f"; what fails along it: {', '.join(failures)}" if failures
             else "; nothing fails along it")
    return (f"the trace is a run of the model, but its claimed violation of {prop} does not "
            f"occur along it{fails}")


def add_parser(sub: Any) -> None:
    r = sub.add_parser("replay", help="re-run an ITF trace against the model")
    r.add_argument("file", metavar="FILE")
    r.add_argument("--html", metavar="OUT", help="also write the replayed trace as HTML")
    r.add_argument("--json", action="store_true", help="one JSON object on stdout")
    r.set_defaults(func=cmd_replay)
