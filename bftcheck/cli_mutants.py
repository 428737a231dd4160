"""`bftcheck mutants`: every mutant through every engine, as one matrix."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from bftcheck.config import ConfigError
from bftcheck.outcome import EXIT_OK, EXIT_VIOLATION


def cmd_mutants(args: argparse.Namespace) -> int:
    from bftcheck import matrix

    engines = matrix.parse_engines(args.engines)
    if args.max_examples <= 0:
        raise ConfigError(f"--max-examples {args.max_examples}: pass a positive number")

    def progress(text: str) -> None:
        if not args.quiet:
            print(f"  {text}", file=sys.stderr, flush=True)

    if args.bmc_depth <= 0:
        raise ConfigError(f"--bmc-depth {args.bmc_depth}: pass a positive number of steps")
    rows = matrix.matrix(engines, max_examples=args.max_examples, seed=args.seed,
                         progress=progress, bmc_depth=args.bmc_depth)
    code = EXIT_OK if matrix.ok(rows) else EXIT_VIOLATION
    if args.json:
        print(json.dumps({"engines": engines, "rows": matrix.to_json(rows),
                          "all_caught_and_control_clean": code == EXIT_OK,
                          "exit_code": code}))
        return code
    print(matrix.render(rows, engines))
    verdict = ("every mutant caught by every engine; the real protocol stays clean"
               if code == EXIT_OK else "a mutant escaped an engine, or the control row failed")
    print(f"result: {verdict} (exit {code})")
    return code


def add_parser(sub: Any) -> None:
    mu = sub.add_parser("mutants", help="run every mutant through every engine: the matrix")
    mu.add_argument("--engines", default="check,fuzz,bmc,induct", metavar="E1,E2",
                    help="engines to run (default check,fuzz,bmc,induct)")
    mu.add_argument("--bmc-depth", type=int, default=16, metavar="K",
                    help="depth of the bmc engine (default 16)")
    mu.add_argument("--max-examples", type=int, default=10_000, metavar="N",
                    help="fuzzing budget per mutant (default 10000)")
    mu.add_argument("--seed", type=int, default=1, metavar="N", help="fuzzing seed (default 1)")
    mu.add_argument("--json", action="store_true", help="one JSON object on stdout")
    mu.add_argument("--quiet", action="store_true", help="no progress lines on stderr")
    mu.set_defaults(func=cmd_mutants)
