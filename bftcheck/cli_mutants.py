"""`bftcheck mutants`: every mutant through every engine, as one matrix."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from bftcheck.cli_common import (
    check_outputs,
    junit_option,
    positive_int,
    print_junit,
    report_output_error,
    seed_int,
    write_junit,
)
from bftcheck.outcome import EXIT_OK, EXIT_USAGE, EXIT_VIOLATION


def cmd_mutants(args: argparse.Namespace) -> int:
    from bftcheck import matrix, stop

    engines = matrix.parse_engines(args.engines)
    chosen = matrix.parse_mutants(args.mutants)
    check_outputs(args)

    def progress(text: str) -> None:
        if not args.quiet:
            print(f"  {text}", file=sys.stderr, flush=True)

    rows = matrix.matrix(engines, max_examples=args.max_examples, seed=args.seed,
                         progress=progress, bmc_depth=args.bmc_depth, mutants=chosen)
    interrupted = stop.requested()
    code = matrix.outcome(rows, interrupted)
    error = write_junit(args, "mutants", f"engines {','.join(engines)}",
                        matrix.junit_cases(rows, interrupted), 0.0)
    final = EXIT_USAGE if error else code  # the write's one line comes last
    failures, undecided = matrix.failures(rows), matrix.undecided(rows)
    finished = sum(1 for r in rows if all(c.undecided is None for c in r["cells"].values()))
    if args.json:
        print(json.dumps({"engines": engines, "rows": matrix.to_json(rows),
                          "all_caught_and_control_clean": code == EXIT_OK,
                          "complete": interrupted is None and not undecided,
                          "stopped": interrupted, "rows_decided": finished,
                          "failures": failures, "undecided": undecided,
                          "exit_code": final}), flush=True)
        return report_output_error(error, code)
    print(matrix.render(rows, engines))
    if code == EXIT_OK:
        verdict = "every mutant caught by every engine; the real protocol stays clean"
    elif code == EXIT_VIOLATION:
        verdict = "a mutant escaped an engine, or the control row failed: " + ", ".join(failures)
    elif interrupted:
        verdict = (f"INCOMPLETE ({interrupted}): {finished} of {len(rows)} rows decided, "
                   f"{len(undecided)} cells undecided or not run")
        if failures:
            verdict += "; failures so far: " + ", ".join(failures)
    else:
        verdict = f"INCOMPLETE: {len(undecided)} cells undecided: " + ", ".join(undecided)
    print_junit(args, error)
    print(f"result: {verdict} (exit {final})", flush=True)
    return report_output_error(error, code)


def add_parser(sub: Any) -> None:
    mu = sub.add_parser("mutants", help="run every mutant through every engine: the matrix")
    mu.add_argument("--engines", default="check,fuzz,bmc,induct", metavar="E1,E2",
                    help="engines to run (default check,fuzz,bmc,induct)")
    mu.add_argument("--mutants", default=None, metavar="M1,M2",
                    help="the variants to run (default all; the two real-protocol rows "
                         "always run)")
    mu.add_argument("--bmc-depth", type=positive_int, default=16, metavar="K",
                    help="depth of the bmc engine (default 16)")
    mu.add_argument("--max-examples", type=positive_int, default=10_000, metavar="N",
                    help="fuzzing budget per mutant (default 10000)")
    mu.add_argument("--seed", type=seed_int, default=1, metavar="N",
                    help="fuzzing seed, a whole number >= 0 (default 1)")
    mu.add_argument("--json", action="store_true", help="one JSON object on stdout")
    mu.add_argument("--quiet", action="store_true", help="no progress lines on stderr")
    junit_option(mu)
    mu.set_defaults(func=cmd_mutants)
