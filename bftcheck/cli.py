"""The `bftcheck` command line: one subcommand per job.

Exit codes are an interface (bftcheck/outcome.py, README "Exit codes"): 0 the
claim holds, 1 a violation with a counterexample, 2 bad input, usage or
environment, 3 incomplete, 4 internal error, 5 (replay) a claim not confirmed.
`main` enforces them for every command: whatever escapes a command becomes
one line and the right code, never a traceback, never 0 or 1.
"""

from __future__ import annotations

import argparse
import errno
import json
import sys
import tempfile
import traceback  # here, not when a crash is reported: that may be out of memory
from typing import Any

from bftcheck.model.config import Config, ConfigError
from bftcheck.outcome import (
    EXIT_CLAIM_REFUTED,
    EXIT_INCOMPLETE,
    EXIT_INTERNAL,
    EXIT_OK,
    EXIT_USAGE,
    EXIT_VIOLATION,
    Incomplete,
    OutputError,
    UsageError,
)
from bftcheck.presets import DEFAULT_PRESET, PRESETS

__all__ = ["EXIT_CLAIM_REFUTED", "EXIT_INCOMPLETE", "EXIT_INTERNAL", "EXIT_OK", "EXIT_USAGE",
           "EXIT_VIOLATION", "main"]

from bftcheck import cli_fuzz, cli_mutants, cli_prove, cli_replay, cli_tlc, cli_z3
from bftcheck.cli_common import (
    Parser,
    build_model,
    check_outputs,
    config_options,
    junit_option,
    output_options,
    positive_int,
    positive_number,
    print_junit,
    print_progress,
    print_trace,
    report_output_error,
    trace_details,
    write_junit,
    write_traces,
)
from bftcheck.memory import DEFAULT_SHARE


def cmd_check(args: argparse.Namespace) -> int:
    from bftcheck import itf
    from bftcheck.checker.bfs import DECIDED, Limits
    from bftcheck.checker.interface import vocabulary
    from bftcheck.checker.search import check
    from bftcheck.memory import default_budget, parse_size
    from bftcheck.trace import from_path

    manifest = _resumed_run(args) if args.resume else None
    saved = (manifest.get("run") or {}) if manifest else None
    model, cfg = _resumed_model(saved) if manifest else build_model(args)
    check_outputs(args)
    budget = parse_size(args.max_memory) if args.max_memory is not None else default_budget()
    chosen = _chosen_properties(args, model, saved)
    timed = _latency_property(args, chosen)
    reduction = _reduction(args, model, chosen, saved)
    place = _placement(args, cfg, chosen, manifest)
    if manifest:  # before any output: a checkpoint of another run is bad input
        from bftcheck.checker import checkpoint, search

        checkpoint.check_identity(args.resume, manifest,
                                  search.identity(model, chosen, place.workers, reduction))
    if not args.json:
        print(f"bftcheck check: {vocabulary(model).describe_config(cfg)}", flush=True)
    result = check(model, chosen, Limits(args.max_states, args.max_seconds, budget,
                                         max_depth=args.max_depth),
                   progress=None if args.quiet else print_progress, place=place,
                   reduction=reduction, latency=timed)
    traces, witnesses = {}, []
    for p in chosen:
        if p.name in result.paths and p.kind != "sometimes":
            traces[p.name] = from_path(model, cfg, result.paths[p.name], p.name)
        elif p.name in result.paths:
            witnesses.append(p)
    first = next(iter(traces.values()), None)
    if first is None and result.latency is not None:
        # no counterexample: the trace files get the run of the worst latency
        first = from_path(model, cfg, result.latency["worst_path"], None, kind="witness")
    if first is None and witnesses and (args.trace_out or args.trace_html):
        # no counterexample: the trace files get the first witness's run, shortest
        p = witnesses[0]
        first = from_path(model, cfg, result.paths[p.name], p.name, kind="witness")
    error = write_traces(args, model, first)
    code = result.exit_code()
    explicit = bool(args.property or (saved or {}).get("explicit"))
    explicit_witness = [p.name for p in chosen if p.kind == "sometimes"
                        and explicit and result.verdicts[p.name] == "not witnessed"]
    if explicit_witness and code == EXIT_OK:
        code = EXIT_VIOLATION
    cases = [_junit_case(args, model, result, p.name, traces, first, explicit_witness)
             for p in chosen]
    error = error or write_junit(args, "check", vocabulary(model).describe_config(cfg), cases,
                                 result.summary()["seconds"])
    if args.json:
        out = result.summary()
        out["config"] = cfg.to_dict()
        out["max_memory_bytes"] = budget
        out["found_at_depth"] = result.found_at
        out["trace"] = itf.to_itf(model, first) if first else None
        out["traces"] = {name: itf.to_itf(model, t) for name, t in traces.items()}
        out["exit_code"] = EXIT_USAGE if error else code
        if timed is not None:
            out["latency"] = _latency_report(cfg, result)
        print(json.dumps(out))
        return report_output_error(error, code)
    s = result.summary()
    if result.complete:
        status = "complete"
    elif result.stopped == DECIDED:
        status = f"ended early ({DECIDED})"
    else:
        status = f"INCOMPLETE ({result.stopped})"
    print(f"search: {status}: {s['distinct_states']:,} distinct states, "
          f"{s['generated_states']:,} generated, depth {s['depth']}, {s['seconds']:.2f} s "
          f"({s['states_per_second']:,.0f} states/s), peak RSS {s['peak_rss_mib']:.0f} MiB")
    print(f"engine: {_engine_line(result)}; fingerprints 64-bit, collision probability "
          f"{s['collision_probability']:.1e}")
    print(f"reductions: {reduction.describe()}")
    if result.checkpoint:
        print(f"checkpoint: {result.checkpoint}")
    width = max(len(p.name) for p in chosen)
    for p in chosen:
        verdict = result.verdicts[p.name]
        at = f" (depth {result.found_at[p.name]})" if p.name in result.found_at else ""
        if p.name in result.cut:
            at = f" ({_cut_text(result, p)})"
        print(f"  {p.name:<{width}}  {verdict}{at}")
    if timed is not None:
        _print_latency(cfg, result)
    print_trace(args, model, first, error)
    print_junit(args, error)
    verdict_line = {
        EXIT_OK: "all checked properties hold" if result.complete else
                 "every checked property was decided",
        EXIT_VIOLATION: "violated: " + ", ".join(list(traces) or explicit_witness),
        EXIT_INCOMPLETE: "no violation found, but the search is incomplete" if not
                         (result.complete and result.cut) else
                         "no violation found, but a bound of the model cut a run short",
    }[code]
    final = EXIT_USAGE if error else code
    print(f"result: {verdict_line} (exit {final})", flush=True)
    return report_output_error(error, code)  # the failed write's one line comes last


def _latency_property(args: argparse.Namespace, chosen: list[Any]) -> str | None:
    """--latency: the property it measures (termination, which must be checked)."""
    if not getattr(args, "latency", False):
        return None
    if args.model is not None:
        raise UsageError("--latency measures Tendermint's consensus latency after GST: leave "
                         "--model out")
    if "termination" not in {p.name for p in chosen}:
        raise UsageError("--latency measures the runs termination judges: check it too "
                         "(--property termination), with --gst ROUND")
    return "termination"


def _latency_report(cfg: Any, result: Any) -> dict[str, Any] | None:
    """The latency figures for JSON: rounds from GST and steps, worst and best."""
    lat = result.latency
    if lat is None:
        return None

    def at(measure: int) -> dict[str, int]:
        h, r = divmod(measure, cfg.rounds)
        return {"height": h, "round": r}

    worst, best = at(lat["worst_measure"]), at(lat["best_measure"])
    return {"gst": cfg.gst, "worst": {**worst, "rounds_from_gst": _rounds_after(cfg, worst),
                                      "steps": lat["worst_steps"]},
            "best": {**best, "rounds_from_gst": _rounds_after(cfg, best),
                     "steps": lat["best_steps"]},
            "runs_entering_gst": lat["entries"],
            "worst_run_steps": len(lat["worst_path"].steps),
            "worst_run_gst_at_step": lat["worst_entry_depth"]}


def _rounds_after(cfg: Any, at: dict[str, int]) -> int | None:
    """The rounds from the GST round through the round of the last decision
    (height 0 only; 0 when every undecided validator was still before GST)."""
    return max(0, at["round"] - cfg.gst + 1) if at["height"] == 0 else None


def _print_latency(cfg: Any, result: Any) -> None:
    report = _latency_report(cfg, result)
    if report is None:
        print("latency: not measured (termination does not hold, or no run reaches GST)")
        return
    for case in ("worst", "best"):
        c = report[case]
        k = c["rounds_from_gst"]
        after = f" ({k} round{'s' if k != 1 else ''} from GST)" if k is not None else ""
        print(f"latency, {case} case: every correct validator has decided by height "
              f"{c['height']} round {c['round']}{after}; {c['steps']} steps from GST")
    print(f"  over {report['runs_entering_gst']:,} states where runs reach GST; the worst run "
          f"is {report['worst_run_steps']} steps, GST at step {report['worst_run_gst_at_step']}")


def _cut_text(result: Any, prop: Any) -> str:
    """Why a complete search leaves a liveness property unknown."""
    depth = len(result.cut[prop.name].steps)
    return (f"a run of {depth} steps was cut by a bound of the model, not ended by the "
            f"protocol: {prop.cut_reason or 'raise the bound'}")


def _junit_case(args: argparse.Namespace, model: Any, result: Any, name: str,
                traces: dict[str, Any], written: Any, explicit_witness: list[str]) -> Any:
    from bftcheck.junit import verdict_case

    verdict = result.verdicts[name]
    if name in traces:
        details = trace_details(args, model, traces[name], written)
    elif name in explicit_witness:
        details = f"{name} was asked for, and no reachable state witnesses it"
    elif name in result.cut:
        details = "no evidence either way: " + _cut_text(
            result, next(p for p in model.properties() if p.name == name))
    else:
        details = f"no evidence either way: the search stopped ({result.stopped})"
    return verdict_case(name, verdict, failed=name in traces or name in explicit_witness,
                        at=result.found_at.get(name), details=details)


def _engine_line(result: Any) -> str:
    """Which search ran, on how many workers, and its memory per state."""
    if result.search_engine.startswith("compiled"):
        workers = f"{result.workers} worker{'s' if result.workers > 1 else ''}"
        line = (f"{result.search_engine.replace('compiled', 'compiled search')}, {workers}, "
                f"{result.bytes_per_state:.0f} bytes/state (peak RSS above the start)")
        return line + _traffic(result.traffic)
    core = "compiled" if result.compiled_core else "pure-Python"
    loop, _, why = result.search_engine.partition(" (")
    return f"{loop} on the {core} core ({why}" if why else f"{loop} on the {core} core"


def _traffic(traffic: dict[str, int] | None) -> str:
    """What crossed between Ray workers, for the engine line."""
    if not traffic:
        return ""
    total = traffic["sent_records"] + traffic["kept_records"]
    share = traffic["sent_records"] / total if total else 0.0
    return (f", {traffic['sent_bytes'] / 2**20:,.1f} MiB of successors sent in "
            f"{traffic['batches']:,} objects ({share:.0%} of successors crossed workers)")


def _reduction(args: argparse.Namespace, model: Any, chosen: list[Any],
               saved: dict[str, Any] | None) -> Any:
    """--reduce (a resumed run: the checkpoint's), or every sound reduction."""
    from bftcheck.checker import reduction
    from bftcheck.checker.checkpoint import CheckpointError

    if saved is not None:
        if args.reduce is not None:
            raise UsageError("--reduce with --resume: a resumed run keeps the reductions of "
                             "its checkpoint; leave --reduce out")
        kept = saved.get("reduce")
        if kept is not None and (not isinstance(kept, list)
                                 or any(r not in reduction.REDUCTIONS for r in kept)):
            raise CheckpointError(f"--resume: the checkpoint's reductions {kept!r} are not a "
                                  f"list of {', '.join(reduction.REDUCTIONS)}")
        return reduction.choose(model, chosen, kept)
    requested = None if args.reduce is None else _requested(args.reduce)
    return reduction.choose(model, chosen, requested)


def _requested(text: str) -> list[str]:
    """--reduce LIST as reduction names (UsageError, exit 2, when malformed)."""
    from bftcheck.checker import reduction

    try:
        return reduction.parse(text)
    except ValueError as exc:
        raise UsageError(str(exc)) from None


def _chosen_properties(args: argparse.Namespace, model: Any,
                       saved: dict[str, Any] | None) -> list[Any]:
    """--property NAME ... (a resumed run: the checkpoint's), or every property."""
    from bftcheck.model.properties import GST_ONLY, PARTITION_ONLY, why_not_judged

    catalogue = {p.name: p for p in model.properties()}
    names = args.property or (saved or {}).get("properties")
    if names:
        unknown = [n for n in names if n not in catalogue]
        if unknown and unknown[0] in GST_ONLY and args.model is None:
            raise ConfigError(why_not_judged(unknown[0], model.cfg))
        if unknown and unknown[0] in PARTITION_ONLY and args.model is None:
            raise ConfigError(f"property {unknown[0]!r} is about recovery after a partition "
                              f"heals, and this configuration has no partitions: add "
                              f"--partitions PATTERN (see 'bftcheck list partitions')")
        if unknown:
            raise ConfigError(f"unknown property {unknown[0]!r}: choose from "
                              f"{', '.join(catalogue)} (see 'bftcheck list properties')")
        return [catalogue[n] for n in dict.fromkeys(names)]
    return list(catalogue.values())


def _placement(args: argparse.Namespace, cfg: Any, chosen: list[Any],
               manifest: dict[str, Any] | None) -> Any:
    """Where the search runs: --workers, --workdir, --checkpoint, --resume."""
    import os

    from bftcheck.checker import search
    from bftcheck.checker.search import Placement

    if args.checkpoint and args.resume:
        raise UsageError("--checkpoint and --resume: give one (a resumed run keeps writing "
                         "checkpoints to the folder it resumed from)")
    folder = args.resume or args.checkpoint
    why = search.reason_for_reference(chosen)
    if args.ray is not None and why is not None:
        raise UsageError(f"--ray runs the compiled search on Ray workers, and this check runs "
                         f"on the reference loop: {why}; choose other properties with "
                         f"--property, or leave --ray out")
    if folder is not None and why is not None:
        raise UsageError(f"--checkpoint and --resume need the compiled engine, and this check "
                         f"runs on the reference loop: {why}; choose other properties with "
                         f"--property")
    if folder is not None and os.path.exists(folder) and not os.path.isdir(folder):
        raise UsageError(f"{'--resume' if args.resume else '--checkpoint'} {folder}: not a "
                         f"folder")
    if args.checkpoint and os.path.isfile(os.path.join(args.checkpoint, "manifest.json")):
        raise UsageError(f"--checkpoint {args.checkpoint}: the folder holds a checkpoint; "
                         f"continue it with --resume {args.checkpoint}, or pick another folder")
    if args.workdir is not None and not os.path.isdir(args.workdir):
        raise UsageError(f"--workdir {args.workdir}: no such folder")
    if args.checkpoint:
        _writable(args.checkpoint, "--checkpoint")
    if args.workdir is not None:
        _writable(args.workdir, "--workdir")
    saved = (manifest.get("run") or {}) if manifest else None
    run = saved or {"model": args.model, "config": cfg.to_dict(),
                    "properties": [p.name for p in chosen], "explicit": bool(args.property),
                    "reduce": None if args.reduce is None else _requested(args.reduce)}
    # a resume keeps the checkpoint's worker count unless told otherwise
    kept = (manifest or {}).get("identity", {}).get("workers")
    workers = args.workers or kept or (_ray_cpus(args.ray) if args.ray else os.cpu_count()) or 1
    return Placement(workers=workers, workdir=args.workdir, checkpoint=folder,
                     checkpoint_every=args.checkpoint_every, resume=bool(args.resume), run=run,
                     manifest=manifest, ray=args.ray)


def _ray_cpus(address: str) -> int:
    """Join the cluster --ray names (one line, exit 2, if it cannot); its CPUs."""
    from bftcheck.checker import ray_workers

    ray_workers.connect(address)
    return ray_workers.cluster_cpus()


def _writable(folder: str, flag: str) -> None:
    """The folder exists (or can be made) and takes a file; else one line, exit 2."""
    import os
    import tempfile

    try:
        os.makedirs(folder, exist_ok=True)
        with tempfile.TemporaryFile(dir=folder):
            pass
    except OSError as exc:
        raise UsageError(f"{flag} {folder}: cannot write there ({exc.strerror or exc}); "
                         f"give a folder this user can write to") from None


def _resumed_run(args: argparse.Namespace) -> dict[str, Any]:
    """The manifest of the checkpoint --resume continues, every file checked:
    its run says what rebuilds the model and the properties."""
    from bftcheck.checker import checkpoint
    from bftcheck.cli_common import TENDERMINT_FLAGS

    given = [f for f in (*TENDERMINT_FLAGS, "config", "mutant", "model")
             if getattr(args, f, None) is not None] + (["set"] if args.set else [])
    if given:
        flag = "--" + given[0].replace("_", "-")
        raise UsageError(f"{flag} with --resume: a resumed run takes its configuration from "
                         f"the checkpoint; leave the configuration options out")
    return checkpoint.read(args.resume)


def _resumed_model(run: dict[str, Any]) -> tuple[Any, Any]:
    from bftcheck import recipe
    from bftcheck.checker.checkpoint import CheckpointError

    try:
        return recipe.rebuild(run, "the checkpoint")
    except (KeyError, TypeError, ValueError) as exc:
        raise CheckpointError(f"--resume: the checkpoint's run cannot be rebuilt ({exc})") \
            from None


LISTINGS = {
    "presets": "the named configurations, for --preset",
    "mutants": "the protocol variants, each with the property it breaks, for --mutant",
    "properties": "every property with its kind (always, sometimes, recovery, liveness), "
                  "for --property",
    "partitions": "the partition patterns and their splits, for --partitions",
}


def cmd_list(args: argparse.Namespace) -> int:
    if args.what == "presets":
        for name, (_cfg, text) in PRESETS.items():
            mark = " (default)" if name == DEFAULT_PRESET else ""
            print(f"{name:<12} {text}{mark}")
    elif args.what == "mutants":
        from bftcheck.model.mutants import MUTANTS

        for m in MUTANTS.values():
            print(f"{m.name:<24} breaks {m.breaks:<10} {m.rule}: {m.description}")
    elif args.what == "partitions":
        from bftcheck.model.network import PATTERNS, pattern_splits

        for name, text in PATTERNS.items():
            print(f"{name:<18} {text} (4 validators: {len(pattern_splits(name, 4))} splits)")
    else:
        from bftcheck.model import TendermintModel

        # a sample with partitions and GST has every property of the catalogue
        sample = Config(partitions=("halves",), max_partitions=2, gst=0)
        for p in TendermintModel(sample).properties():
            kind = p.kind + ("" if p.scope == "state" else " (step)")
            print(f"{p.name:<22} {kind:<17} {p.description}")
    return 0


class _Version(argparse.Action):
    """--version: worked out only when asked (it reads the sources)."""

    def __call__(self, parser: argparse.ArgumentParser, namespace: argparse.Namespace,
                 values: Any, option_string: str | None = None) -> None:
        print(version_line())
        parser.exit(0)


def version_line() -> str:
    """`bftcheck VERSION+BUILD (...)`: the build is the version and a hash of
    the sources, which every Ray node must share."""
    import importlib.util

    from bftcheck.checker import search
    from bftcheck.recipe import build_id

    off = search.reason_for_reference([])
    engine = "compiled engine" if off is None else f"reference loop only ({off})"
    ray = "Ray installed" if importlib.util.find_spec("ray") is not None else \
        "Ray not installed (pip install 'bftcheck[ray]')"
    return f"bftcheck {build_id()} ({engine}; {ray})"


def make_parser() -> Parser:
    parser = Parser(prog="bftcheck", description="Check the safety of Tendermint-style BFT "
                    "consensus: model checking, traces, replay.")
    # main() takes --debug from anywhere on the line before parsing; listed for --help
    parser.add_argument("--debug", action="store_true",
                        help="on an internal error, print the traceback instead of a file name")
    parser.add_argument("--version", action=_Version, nargs=0,
                        help="print the version, the build every Ray node must match, and "
                             "which optional parts are there; exit 0")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=Parser)
    c = sub.add_parser("check", help="explore every reachable state and check properties")
    config_options(c)
    c.add_argument("--property", action="append", metavar="NAME",
                   help="check only this property (repeatable)")
    c.add_argument("--max-states", type=positive_int, metavar="N",
                   help="stop after N distinct states")
    c.add_argument("--max-seconds", type=positive_number, metavar="S",
                   help="stop after S seconds")
    c.add_argument("--max-depth", type=positive_int, metavar="D",
                   help="explore runs of at most D steps: states D steps deep are checked, "
                        "not expanded (INCOMPLETE if any are left)")
    c.add_argument("--max-memory", metavar="SIZE",
                   help="stop before the resident memory passes SIZE, e.g. 4G (default: "
                        f"{int(DEFAULT_SHARE * 100)}%% of the memory available at the start)")
    c.add_argument("--latency", action="store_true",
                   help="with --gst: measure consensus latency, the worst and best case over "
                        "every run of the rounds and steps from GST until every correct "
                        "validator has decided (checks termination; the worst run is the trace)")
    c.add_argument("--reduce", metavar="LIST",
                   help="state-space reductions: symmetry, or none (default: every reduction "
                        "sound for the chosen properties); counts are then the reduced graph's")
    c.add_argument("--workers", type=positive_int, metavar="N",
                   help="worker processes of the search (default: every core); the counts, "
                        "verdicts and traces are the same for any N")
    c.add_argument("--ray", metavar="ADDRESS",
                   help="run the workers as Ray actors: auto (a local Ray of this run's own) "
                        "or a cluster's HOST:PORT ('ray start --head' prints it); --workers "
                        "then defaults to the cluster's CPUs")
    c.add_argument("--workdir", metavar="DIR",
                   help="folder for the search's disk files (default: a temporary folder, "
                        "removed after)")
    c.add_argument("--checkpoint", metavar="DIR",
                   help="write checkpoints to DIR (at level boundaries, every "
                        "--checkpoint-every seconds, and when interrupted or stopped by a limit)")
    c.add_argument("--checkpoint-every", type=positive_number, metavar="S", default=300.0,
                   help="seconds between two checkpoints (default 300)")
    c.add_argument("--resume", metavar="DIR",
                   help="continue the run checkpointed in DIR, with its configuration and "
                        "properties; it ends as the uninterrupted run would")
    output_options(c)
    junit_option(c)
    c.add_argument("--quiet", action="store_true", help="no progress lines on stderr")
    c.set_defaults(func=cmd_check)
    cli_fuzz.add_parser(sub)
    cli_replay.add_parser(sub)
    cli_mutants.add_parser(sub)
    cli_prove.add_parser(sub)
    cli_z3.add_parsers(sub)
    li = sub.add_parser("list", help="list presets, mutants, properties or partition patterns")
    li.add_argument("what", choices=LISTINGS, metavar="WHAT",
                    help="; ".join(f"{name}: {text}" for name, text in LISTINGS.items()))
    li.set_defaults(func=cmd_list)
    cli_tlc.add_parsers(sub)
    return parser


class _BestEffort:
    """stderr that never raises: a progress or error line that cannot be
    written (stderr full or closed) must not turn the run into a crash."""

    def __init__(self, stream: Any) -> None:
        self._stream = stream

    def write(self, text: str) -> int:
        try:
            return self._stream.write(text) if self._stream is not None else len(text)
        except (OSError, ValueError):
            return len(text)

    def flush(self) -> None:
        try:
            if self._stream is not None:
                self._stream.flush()
        except (OSError, ValueError):
            pass

    def __getattr__(self, name: str) -> Any:
        return getattr(self._stream, name)


class _Watched:
    """stdout that remembers a failed write, so that a full disk or a closed
    pipe behind stdout is told apart from a bug."""

    def __init__(self, stream: Any) -> None:
        self._stream = stream
        self.failed = False

    def write(self, text: str) -> int:
        try:
            return self._stream.write(text)
        except OSError:
            self.failed = True
            raise

    def flush(self) -> None:
        try:
            self._stream.flush()
        except OSError:
            self.failed = True
            raise

    def __getattr__(self, name: str) -> Any:
        return getattr(self._stream, name)


def main(argv: list[str] | None = None) -> int:
    own_process = argv is None  # the console script, not a caller's in-process call
    argv = list(sys.argv[1:] if argv is None else argv)
    saved_out, saved_err = sys.stdout, sys.stderr
    sys.stderr = _BestEffort(saved_err)
    try:
        if sys.stdout is None:  # started with stdout closed: the report would vanish
            print("bftcheck: error: standard output is closed, so the report cannot be "
                  "written: run with stdout open or redirected to a file", file=sys.stderr)
            return EXIT_USAGE
        sys.stdout = _Watched(saved_out)
        return _run(argv, own_process)
    finally:
        sys.stdout, sys.stderr = saved_out, saved_err


def _run(argv: list[str], own_process: bool) -> int:
    from bftcheck import stop
    from bftcheck.inputs import InputError

    debug = "--debug" in argv
    argv = [a for a in argv if a != "--debug"]
    try:
        with stop.signals_stop_work(hard_exit=own_process):
            args = make_parser().parse_args(argv)
            args.argv = argv  # as given, for commands that print a re-run line
            code = args.func(args)
            sys.stdout.flush()  # a full or closed stdout is found here, not at exit
            return code
    except (UsageError, InputError, OutputError) as exc:  # config, trace, --model
        print(f"bftcheck: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except (KeyboardInterrupt, stop.Abort) as exc:
        why = f"interrupted ({exc})" if isinstance(exc, stop.Abort) else "interrupted"
        print(f"bftcheck: {why}: stopped at once, without a summary; the work is "
              f"incomplete (exit {EXIT_INCOMPLETE})", file=sys.stderr)
        return EXIT_INCOMPLETE
    except Incomplete as exc:
        print(f"bftcheck: incomplete: {exc} (exit {EXIT_INCOMPLETE})", file=sys.stderr)
        return EXIT_INCOMPLETE
    except MemoryError:
        return _say_out_of_memory("an allocation failed")
    except OSError as exc:
        if exc.errno == errno.ENOMEM:  # e.g. listing a package's folder while importing it
            return _say_out_of_memory(f"the system refused memory: {_one_line(exc)}")
        if not _stdout_broken():
            return _internal_error(exc, debug)
        why = "it was closed (broken pipe)" if isinstance(exc, BrokenPipeError) else (
            exc.strerror or str(exc))
        print(f"bftcheck: error: could not write the report to standard output ({why}): "
              f"redirect it to a file or a reader that takes all of it", file=sys.stderr)
        return EXIT_USAGE
    except ImportError as exc:
        if _out_of_memory(exc):
            return _say_out_of_memory(f"a library could not be loaded: {_one_line(exc)}")
        return _internal_error(exc, debug)
    except SystemError as exc:
        from bftcheck.memory import address_space_limit

        limit = address_space_limit()
        if limit is not None and _raised_by_import(exc):
            return _say_out_of_memory(f"a compiled library failed to load under the "
                                      f"address-space limit of {limit >> 20} MiB (ulimit -v)")
        return _internal_error(exc, debug)
    except Exception as exc:  # a bug: never 0 or 1, never a bare traceback
        return _internal_error(exc, debug)


def _one_line(exc: BaseException, width: int = 200) -> str:
    text = (str(exc).strip().splitlines() or [""])[0]
    return text if len(text) <= width else text[:width] + "..."


def _out_of_memory(exc: BaseException) -> bool:
    """A shared library that cannot be mapped under `ulimit -v` is memory, not a bug."""
    text = str(exc).lower()
    return "failed to map segment" in text or "cannot allocate memory" in text


def _raised_by_import(exc: BaseException) -> bool:
    """Whether exc was raised while a module was being loaded (its innermost
    frame is a module body): a C extension whose allocation fails there may
    return an error without setting one (SystemError) instead of MemoryError.
    Frames only, no source lines: reading those may itself fail then."""
    tb = exc.__traceback__
    while tb is not None and tb.tb_next is not None:
        tb = tb.tb_next
    return tb is not None and tb.tb_frame.f_code.co_name == "<module>"


def _say_out_of_memory(why: str) -> int:
    print(f"bftcheck: out of memory ({why}): the work is incomplete; give a smaller "
          f"configuration, more memory or a lower --max-memory (exit {EXIT_INCOMPLETE})",
          file=sys.stderr)
    return EXIT_INCOMPLETE


def _stdout_broken() -> bool:
    """Whether a write to stdout failed; if so, stdout is pointed at /dev/null
    so that the interpreter's last flush cannot fail (and change the exit code)."""
    import os

    if not getattr(sys.stdout, "failed", False):
        return False
    try:
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    except (OSError, ValueError):
        pass
    return True


def _internal_error(exc: Exception, debug: bool) -> int:
    """One line naming the error and where its traceback was written."""
    try:
        details = "".join(traceback.format_exception(exc))
        if debug:
            sys.stderr.write(details)
            where = "the traceback is above"
        else:
            fd, path = tempfile.mkstemp(prefix="bftcheck-crash-", suffix=".txt")
            with open(fd, "w", encoding="utf-8") as f:
                f.write(f"bftcheck {' '.join(sys.argv[1:])}\n{details}")
            where = f"details in {path}; re-run with --debug to see them here"
    except MemoryError:
        return _say_out_of_memory("while reporting an error")
    except OSError:
        where = "re-run with --debug to see the traceback"
    print(f"bftcheck: internal error ({type(exc).__name__}: {_one_line(exc)}); this is a bug "
          f"in bftcheck, please report it; {where} (exit {EXIT_INTERNAL})", file=sys.stderr)
    return EXIT_INTERNAL


if __name__ == "__main__":
    sys.exit(main())
