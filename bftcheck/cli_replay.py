"""`bftcheck replay`: re-check an ITF trace, step by step, against the model."""

from __future__ import annotations

import argparse
import json
from typing import Any

from bftcheck.cli_common import _writable


def cmd_replay(args: argparse.Namespace) -> int:
    from bftcheck.itf import read_itf
    from bftcheck.model import TendermintModel
    from bftcheck.replay import replay
    from bftcheck.trace import render

    _writable(args.html)
    cfg, meta, steps = read_itf(args.file)
    model = TendermintModel(cfg)
    prop = meta.get("property") if isinstance(meta.get("property"), str) else None
    report = replay(model, cfg, steps, prop, source=args.file, loop=meta.get("loop"))
    failures = report.failures
    if args.json:
        print(json.dumps({"file": args.file, "steps": len(steps) - 1, "legal": True,
                          "failures": failures, "exit_code": report.exit_code}))
        return report.exit_code
    report.trace.prop = prop
    if args.html:
        from bftcheck.html import write_html

        write_html(args.html, model, report.trace)
    print(render(model, report.trace))
    print()
    print(f"replay: {len(steps) - 1} steps, every step is a transition of the model")
    if failures:
        for name, i in failures.items():
            print(f"  {name} fails at step {i}")
        claimed = f" (the trace claims {prop})" if prop else ""
        confirmed = " confirmed" if prop in failures else ""
        print(f"result: violation{confirmed}{claimed} (exit 1)")
    else:
        print("result: no property fails along this trace (exit 0)")
    return report.exit_code



def add_parser(sub: Any) -> None:
    r = sub.add_parser("replay", help="re-run an ITF trace against the model")
    r.add_argument("file", metavar="FILE")
    r.add_argument("--html", metavar="OUT", help="also write the replayed trace as HTML")
    r.add_argument("--json", action="store_true", help="one JSON object on stdout")
    r.set_defaults(func=cmd_replay)
