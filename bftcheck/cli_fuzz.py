"""`bftcheck fuzz`: Hypothesis stateful fuzzing on the model (fuzz/)."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from bftcheck.cli_common import (
    _config_options,
    _writable,
    _write_traces,
    build_config,
)
from bftcheck.config import ConfigError
from bftcheck.outcome import EXIT_OK, EXIT_VIOLATION


def _fuzz_progress(info: dict) -> None:
    print(f"  {info['examples']:,} examples, {info['steps']:,} steps, highest round "
          f"{info['highest_round']}, {info['elapsed']:.1f} s", file=sys.stderr, flush=True)


def cmd_fuzz(args: argparse.Namespace) -> int:
    from bftcheck import itf
    from bftcheck.fuzz.runner import database_path, default_max_steps, fuzz
    from bftcheck.model import TendermintModel
    from bftcheck.trace import describe_config, from_path, render

    cfg = build_config(args)
    _writable(args.trace_out)
    _writable(args.trace_html)
    for flag in ("max_examples", "max_steps", "max_seconds"):
        value = getattr(args, flag)
        if value is not None and value <= 0:
            raise ConfigError(f"--{flag.replace('_', '-')} {value}: pass a positive number")
    if args.seed < 0:
        raise ConfigError(f"--seed {args.seed}: pass a whole number >= 0")
    model = TendermintModel(cfg)
    always = [p.name for p in model.properties() if p.kind == "always"]
    if args.property:
        unknown = [n for n in args.property if n not in always]
        if unknown:
            raise ConfigError(f"unknown or non-safety property {unknown[0]!r}: choose from "
                              f"{', '.join(always)}")
    chosen = list(dict.fromkeys(args.property)) if args.property else always
    db = database_path(args.db)
    steps = args.max_steps or default_max_steps(cfg)
    if not args.json:
        print(f"bftcheck fuzz: {describe_config(cfg)}")
        print(f"  seed {args.seed}, a budget of {args.max_examples:,} examples of up to "
              f"{steps} steps" + (f", {args.max_seconds:g} s" if args.max_seconds else ""))
    out = fuzz(cfg, max_examples=args.max_examples, max_steps=steps,
               max_seconds=args.max_seconds, seed=args.seed, database=db, properties=chosen,
               progress=None if args.quiet else _fuzz_progress)
    trace = None
    if out.violated and out.path is not None:
        trace = from_path(model, cfg, out.path, out.violated)
        _write_traces(args, model, trace)
    code = EXIT_VIOLATION if out.violated else EXIT_OK
    verdicts = {p: ("violated" if p == out.violated else "unknown") for p in chosen}
    rerun = f"bftcheck fuzz {' '.join(_rerun_args(args))}"
    if args.json:
        print(json.dumps({
            "engine": "fuzz", "verdicts": verdicts, "complete": False,
            "examples": out.examples, "steps": out.steps,
            "distinct_states": out.distinct_states, "generated_states": out.steps,
            "depth": len(trace) if trace else 0, "seconds": round(out.seconds, 3),
            "seed": args.seed, "stopped": out.stopped, "config": cfg.to_dict(),
            "trace": itf.to_itf(model, trace) if trace else None,
            "reproduce": out.reproduce, "rerun": rerun, "database": db, "exit_code": code,
        }))
        return code
    if trace is None:
        print(f"result: no violation found in {out.examples:,} examples "
              f"({out.steps:,} steps, {out.distinct_states:,} distinct final states, "
              f"{out.seconds:.1f} s; {out.stopped}); fuzzing is not exhaustive, so this "
              f"is not a proof (exit 0)")
        return code
    print()
    print(render(model, trace))
    print()
    print(f"re-run: {rerun}")
    if out.reproduce:
        print(f"hypothesis: {out.reproduce}")
    if args.trace_out:
        print(f"trace written to {args.trace_out} (ITF); check it with "
              f"'bftcheck replay {args.trace_out}'")
    if args.trace_html:
        print(f"trace written to {args.trace_html} (HTML)")
    print(f"result: violated: {out.violated} after {out.examples:,} examples, "
          f"{out.seconds:.1f} s (exit 1)")
    return code


def _rerun_args(args: argparse.Namespace) -> list[str]:
    argv = [a for a in sys.argv[2:]] if sys.argv[1:2] == ["fuzz"] else []
    if "--seed" not in argv:
        argv += ["--seed", str(args.seed)]
    return argv



def add_parser(sub: Any) -> None:
    f = sub.add_parser("fuzz", help="Hypothesis stateful fuzzing for configurations too "
                       "big to enumerate")
    _config_options(f)
    f.add_argument("--property", action="append", metavar="NAME",
                   help="check only this safety property (repeatable)")
    f.add_argument("--max-examples", type=int, default=1000, metavar="N",
                   help="runs to try (default 1000)")
    f.add_argument("--max-steps", type=int, metavar="S",
                   help="steps per run (default: 8 per correct validator and height, "
                        "16 to 200)")
    f.add_argument("--max-seconds", type=float, metavar="T", help="stop after T seconds")
    f.add_argument("--seed", type=int, default=0, metavar="N", help="random seed (default 0)")
    f.add_argument("--db", metavar="DIR",
                   help="example database; failures stored here are tried first "
                        "(default .hypothesis/bftcheck-fuzz; 'none' disables it)")
    f.add_argument("--trace-out", metavar="FILE", help="write the shrunk trace as ITF JSON")
    f.add_argument("--trace-html", metavar="FILE", help="write the shrunk trace as HTML")
    f.add_argument("--json", action="store_true", help="one JSON object on stdout")
    f.add_argument("--quiet", action="store_true", help="no progress lines on stderr")
    f.set_defaults(func=cmd_fuzz)
