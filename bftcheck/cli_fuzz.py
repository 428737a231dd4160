"""`bftcheck fuzz`: Hypothesis stateful fuzzing on the model (fuzz/)."""

from __future__ import annotations

import argparse
import json
import shlex
import sys
from typing import Any

from bftcheck.cli_common import (
    build_model,
    check_outputs,
    config_options,
    junit_option,
    positive_int,
    positive_number,
    print_junit,
    print_trace,
    report_output_error,
    seed_int,
    trace_details,
    write_junit,
    write_traces,
)
from bftcheck.model.config import ConfigError
from bftcheck.model.properties import GST_ONLY, TERMINATION, why_not_judged
from bftcheck.outcome import EXIT_INCOMPLETE, EXIT_OK, EXIT_USAGE, EXIT_VIOLATION


def _fuzz_progress(info: dict) -> None:
    if info.get("phase") == "shrink":
        print(f"  shrinking the failure found after {info['examples']:,} examples: "
              f"{info['shrink_runs']:,} runs, {info['elapsed']:.1f} s", file=sys.stderr,
              flush=True)
        return
    print(f"  {info['examples']:,} examples, {info['steps']:,} steps, highest round "
          f"{info['highest_round']}, {info['elapsed']:.1f} s", file=sys.stderr, flush=True)




def _confirmed(model: Any, cfg: Any, trace: Any, prop: str) -> bool:
    """The trace is a run of the model along which `prop` fails (bftcheck replay)."""
    from bftcheck.itf import TraceError
    from bftcheck.replay import replay

    steps = [(st.action, model.decode(st.state)) for st in trace.steps]
    try:
        return prop in replay(model, cfg, steps, prop).failures
    except TraceError:
        return False


def cmd_fuzz(args: argparse.Namespace) -> int:
    from bftcheck import itf
    from bftcheck.checker.interface import vocabulary
    from bftcheck.fuzz.runner import database_path, fuzz
    from bftcheck.trace import from_path

    model, cfg = build_model(args)
    check_outputs(args)
    judgeable = _judgeable(args, model)
    if args.property:
        unknown = [n for n in args.property if n not in judgeable]
        if unknown and unknown[0] in GST_ONLY and args.model is None:  # not in its catalogue
            raise ConfigError(why_not_judged(unknown[0], model.cfg))
        if unknown:
            raise ConfigError(f"unknown or non-safety property {unknown[0]!r}: choose from "
                              f"{', '.join(judgeable)}")
    chosen = list(dict.fromkeys(args.property)) if args.property else judgeable
    db = database_path(args.db)
    steps, machine = _machine(args, model, cfg, chosen)
    if not args.json:
        print(f"bftcheck fuzz: {vocabulary(model).describe_config(cfg)}")
        print(f"  seed {args.seed}, a budget of {args.max_examples:,} examples of up to "
              f"{steps} steps" + (f", {args.max_seconds:g} s" if args.max_seconds else ""),
              flush=True)
    out = fuzz(cfg, max_examples=args.max_examples, max_steps=steps,
               max_seconds=args.max_seconds, seed=args.seed, database=db, properties=chosen,
               progress=None if args.quiet else _fuzz_progress, machine=machine)
    trace = None
    unconfirmed = False
    if out.violated and out.path is not None:
        trace = from_path(model, cfg, out.path, out.violated)
        if not _confirmed(model, cfg, trace, out.violated):
            trace, unconfirmed = None, True  # never reported as a violation
    error = write_traces(args, model, trace)
    # the time limit ended the search before its budget: a limit, like check's
    timed_out = out.stopped.startswith("time limit") and out.examples < args.max_examples
    # termination is judged where a run ends: with no run ended, nothing was tried
    unjudged = TERMINATION in chosen and out.ended_runs == out.cut_runs
    if trace is not None:
        code = EXIT_VIOLATION
    elif out.incomplete or unconfirmed or timed_out or unjudged or out.cut_runs:
        code = EXIT_INCOMPLETE
    else:
        code = EXIT_OK
    verdicts = {p: ("violated" if trace is not None and p == out.violated else "unknown")
                for p in chosen}
    cases = [_junit_case(args, model, trace, p, code, out) for p in chosen]
    error = error or write_junit(args, "fuzz", vocabulary(model).describe_config(cfg), cases,
                                 out.seconds)
    final = EXIT_USAGE if error else code  # the write's one line comes last
    rerun = f"bftcheck fuzz {shlex.join(_rerun_args(args))}"
    if args.json:
        print(json.dumps({
            "engine": "fuzz", "verdicts": verdicts, "complete": False,
            "interrupted": out.interrupted, "examples": out.examples, "steps": out.steps,
            "distinct_states": out.distinct_states, "generated_states": out.steps,
            "shrink_runs": out.shrink_runs, "shrunk": out.shrunk if trace else None,
            "found_by": out.found_by if trace else None,
            "replayed": out.replayed, "replay_violated": out.replay_violated,
            "depth": len(trace) if trace else 0, "seconds": round(out.seconds, 3),
            "seed": args.seed, "max_examples": args.max_examples, "max_steps": steps,
            "stopped": out.stopped, "config": cfg.to_dict(),
            "trace": itf.to_itf(model, trace) if trace else None,
            "reproduce": out.reproduce if trace else None, "rerun": rerun, "database": db,
            "stored": out.saved, "exit_code": final,
            **({"ended_runs": out.ended_runs, "cut_runs": out.cut_runs}
               if TERMINATION in chosen else {}),
        }))
        return report_output_error(error, code)
    if out.replayed:
        still = (f"{out.replay_violated} still fails" if out.replay_violated
                 else "none fails any more")
        print(f"database: replayed {out.replayed:,} stored failure"
              f"{'s' if out.replayed != 1 else ''} before the search; {still}")
    if out.incomplete:
        status = f"INCOMPLETE ({out.interrupted})"
    elif timed_out and trace is None:
        status = f"INCOMPLETE ({out.stopped})"
    else:
        status = out.stopped
    shrink = f", {out.shrink_runs:,} more runs shrinking" if out.shrink_runs else ""
    print(f"search: {status}: {out.examples:,} examples ({out.steps:,} steps, "
          f"{out.distinct_states:,} distinct final states{shrink}), {out.seconds:.1f} s",
          flush=True)
    if TERMINATION in chosen:
        print(f"termination: {out.ended_runs:,} of {out.examples:,} runs reached their end "
              f"(a state with no step): {out.ended_runs - out.cut_runs:,} judged, "
              f"{out.cut_runs:,} cut by the round bound before the round that guarantees "
              f"a decision (not judged)", flush=True)
    print_junit(args, error)
    if unconfirmed:
        print(f"result: the run that violated {out.violated} did not replay on the model, "
              f"so nothing is claimed; the work is incomplete (exit {final})")
        return report_output_error(error, code)
    if trace is None:
        if out.incomplete:
            print(f"result: no violation found in {out.examples:,} examples before the stop; "
                  f"the work is incomplete (exit {final})")
            return report_output_error(error, code)
        if out.cut_runs and not timed_out:
            print(f"result: no violation found in {out.examples:,} examples, but the round "
                  f"bound cut {out.cut_runs:,} runs short, so termination is unknown: raise "
                  f"--rounds (exit {final})")
            return report_output_error(error, code)
        if unjudged and not timed_out:
            print(f"result: no run of the {out.examples:,} reached its end, so termination "
                  f"was not judged (exit {final})")
            return report_output_error(error, code)
        if timed_out:
            print(f"result: no violation found in {out.examples:,} of the budget's "
                  f"{args.max_examples:,} examples before the time limit; the work is "
                  f"incomplete (exit {final})")
            return report_output_error(error, code)
        print(f"result: no violation found in {out.examples:,} examples "
              f"({out.steps:,} steps, {out.distinct_states:,} distinct final states, "
              f"{out.seconds:.1f} s; {out.stopped}); fuzzing is not exhaustive, so this "
              f"is not a proof (exit {final})")
        return report_output_error(error, code)
    print_trace(args, model, trace, error)
    print()
    print(f"re-run: {rerun}")
    if out.reproduce:
        print(f"hypothesis: {out.reproduce}")
    if out.found_by == "database":
        how = "a failure stored in the database, replayed"
    elif out.shrunk:
        how = f"after {out.examples:,} examples, {out.seconds:.1f} s"
    else:
        how = (f"after {out.examples:,} examples, {out.seconds:.1f} s; not shrunk "
               f"({out.stopped.rsplit(': ', 1)[-1]})")
    print(f"result: violated: {out.violated} {how} (exit {final})", flush=True)
    return report_output_error(error, code)


def _junit_case(args: argparse.Namespace, model: Any, trace: Any, name: str, code: int,
                out: Any) -> Any:
    """Fuzzing proves nothing: a property it did not violate passes only as far
    as the exit code does, with what was tried; an incomplete run is unknown."""
    from bftcheck.junit import Case

    if trace is not None and name == out.violated:
        return Case(name, "failed", f"violated (depth {len(trace)})",
                    trace_details(args, model, trace, trace))
    if code == EXIT_INCOMPLETE and name == TERMINATION and out.cut_runs and not out.interrupted:
        return Case(name, "unknown", f"unknown: the round bound cut {out.cut_runs:,} runs short",
                    f"raise --rounds; {out.examples:,} examples")
    if code == EXIT_INCOMPLETE:
        return Case(name, "unknown", f"unknown: {out.interrupted or out.stopped}",
                    f"no evidence either way after {out.examples:,} examples")
    return Case(name, "passed", f"no violation in {out.examples:,} examples (not a proof)")


def _machine(args: argparse.Namespace, model: Any, cfg: Any,
             chosen: list[str]) -> tuple[int, type | None]:
    """Steps per run, and the state machine of a --model plug-in (None: the
    runner builds Tendermint's)."""
    from bftcheck.fuzz.any_model import DEFAULT_STEPS, machine_for_model
    from bftcheck.fuzz.runner import default_max_steps

    if args.model is None:
        return args.max_steps or default_max_steps(cfg, TERMINATION in chosen), None
    steps = args.max_steps or DEFAULT_STEPS
    slug = "".join(c if c.isalnum() else "_" for c in str(sorted(cfg.to_dict().items())))
    return steps, machine_for_model(model, f"{cfg.name}_{slug}", chosen, steps, config=cfg)


def _judgeable(args: argparse.Namespace, model: Any) -> list[str]:
    """The properties fuzzing judges here: a plug-in's `always` ones; for
    Tendermint also termination, with GST (fuzz/machine.py)."""
    if args.model is None:
        from bftcheck.fuzz.machine import fuzz_properties

        return fuzz_properties(model)
    return [p.name for p in model.properties() if p.kind == "always"]


def _rerun_args(args: argparse.Namespace) -> list[str]:
    """The command line that re-runs this fuzzing run: the arguments it was
    given (main() keeps them on `args`, whoever called it), with its seed."""
    argv = list(getattr(args, "argv", [])[1:])  # without the word "fuzz"
    if "--seed" not in argv:
        argv += ["--seed", str(args.seed)]
    return argv


def add_parser(sub: Any) -> None:
    f = sub.add_parser("fuzz", help="Hypothesis stateful fuzzing for configurations too "
                       "big to enumerate")
    config_options(f)
    f.add_argument("--property", action="append", metavar="NAME",
                   help="check only this property (repeatable): a safety property, or "
                        "termination with --gst")
    f.add_argument("--max-examples", type=positive_int, default=1000, metavar="N",
                   help="runs of the machine in the search, exactly (default 1000); "
                        "shrinking a failure takes more runs, counted apart")
    f.add_argument("--max-steps", type=positive_int, metavar="S",
                   help="steps per run (default: 8 per correct validator and height, "
                        "16 to 200; with termination, 8 per correct validator, height "
                        "and round, 16 to 400)")
    f.add_argument("--max-seconds", type=positive_number, metavar="T",
                   help="stop after T seconds (checked at every step)")
    f.add_argument("--seed", type=seed_int, default=0, metavar="N",
                   help="random seed, a whole number >= 0 (default 0)")
    f.add_argument("--db", metavar="DIR",
                   help="example database: its stored failures are replayed before the "
                        "search, which they do not change; new failures are stored "
                        "(default .hypothesis/bftcheck-fuzz; 'none': nothing is read or "
                        "written)")
    f.add_argument("--trace-out", metavar="FILE", help="write the shrunk trace as ITF JSON")
    f.add_argument("--trace-html", metavar="FILE", help="write the shrunk trace as HTML")
    f.add_argument("--json", action="store_true", help="one JSON object on stdout")
    junit_option(f)
    f.add_argument("--quiet", action="store_true", help="no progress lines on stderr")
    f.set_defaults(func=cmd_fuzz)
