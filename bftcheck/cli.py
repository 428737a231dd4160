"""The `bftcheck` command line: one subcommand per job.

Exit codes are an interface (bftcheck/outcome.py, README "Exit codes"): 0 the
claim holds, 1 a violation with a counterexample, 2 bad input, usage or
environment, 3 incomplete, 4 internal error, 5 (replay) a claim not confirmed.
`main` enforces them for every command: whatever escapes a command becomes
one line and the right code, never a traceback, never 0 or 1.
"""

from __future__ import annotations

import argparse
import json
import sys

from bftcheck.config import Config, ConfigError
from bftcheck.outcome import (
    EXIT_CLAIM_REFUTED,
    EXIT_INCOMPLETE,
    EXIT_INTERNAL,
    EXIT_OK,
    EXIT_USAGE,
    EXIT_VIOLATION,
    OutputError,
    UsageError,
)
from bftcheck.presets import DEFAULT_PRESET, PRESETS

__all__ = ["EXIT_CLAIM_REFUTED", "EXIT_INCOMPLETE", "EXIT_INTERNAL", "EXIT_OK", "EXIT_USAGE",
           "EXIT_VIOLATION", "main"]

from bftcheck import cli_fuzz, cli_replay, cli_tlc, cli_z3
from bftcheck.cli_common import (
    Parser,
    _config_options,
    _output_options,
    _parse_powers,
    _print_trace,
    _progress,
    _write_traces,
    build_config,
    check_outputs,
    positive_int,
    positive_number,
    report_output_error,
)
from bftcheck.memory import DEFAULT_SHARE


def cmd_check(args: argparse.Namespace) -> int:
    from bftcheck import itf
    from bftcheck.checker.bfs import DECIDED, Limits, check
    from bftcheck.memory import default_budget, parse_size
    from bftcheck.model import TendermintModel
    from bftcheck.trace import describe_config, from_path

    cfg = build_config(args)
    check_outputs(args)
    budget = parse_size(args.max_memory) if args.max_memory else default_budget()
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
        print(f"bftcheck check: {describe_config(cfg)}", flush=True)
    result = check(model, chosen, Limits(args.max_states, args.max_seconds, budget),
                   progress=None if args.quiet else _progress)
    traces = {}
    for p in chosen:
        if p.kind != "sometimes" and p.name in result.paths:
            traces[p.name] = from_path(model, cfg, result.paths[p.name], p.name)
    first = next(iter(traces.values()), None)
    error = _write_traces(args, model, first)
    code = result.exit_code()
    explicit_witness = [p.name for p in chosen if p.kind == "sometimes"
                        and args.property and result.verdicts[p.name] == "not witnessed"]
    if explicit_witness and code == EXIT_OK:
        code = EXIT_VIOLATION
    if args.json:
        out = result.summary()
        out["config"] = cfg.to_dict()
        out["max_memory_bytes"] = budget
        out["found_at_depth"] = result.found_at
        out["trace"] = itf.to_itf(model, first) if first else None
        out["traces"] = {name: itf.to_itf(model, t) for name, t in traces.items()}
        out["exit_code"] = report_output_error(error, code) if error else code
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
    core = "compiled" if result.compiled_core else "pure-Python"
    print(f"fingerprints: 64-bit, collision probability {s['collision_probability']:.1e} "
          f"({core} core)")
    width = max(len(p.name) for p in chosen)
    for p in chosen:
        verdict = result.verdicts[p.name]
        at = f" (depth {result.found_at[p.name]})" if p.name in result.found_at else ""
        print(f"  {p.name:<{width}}  {verdict}{at}")
    _print_trace(args, model, first, error)
    verdict_line = {
        EXIT_OK: "all checked properties hold" if result.complete else
                 "every checked property was decided",
        EXIT_VIOLATION: "violated: " + ", ".join(list(traces) or explicit_witness),
        EXIT_INCOMPLETE: "no violation found, but the search is incomplete",
    }[code]
    final = report_output_error(error, code)
    print(f"result: {verdict_line} (exit {final})", flush=True)
    return final


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


def make_parser() -> Parser:
    parser = Parser(prog="bftcheck", description="Check the safety of Tendermint-style BFT "
                    "consensus: model checking, traces, replay.")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=Parser)
    c = sub.add_parser("check", help="explore every reachable state and check properties")
    _config_options(c)
    c.add_argument("--property", action="append", metavar="NAME",
                   help="check only this property (repeatable)")
    c.add_argument("--max-states", type=positive_int, metavar="N",
                   help="stop after N distinct states")
    c.add_argument("--max-seconds", type=positive_number, metavar="S",
                   help="stop after S seconds")
    c.add_argument("--max-memory", metavar="SIZE",
                   help="stop before the resident memory passes SIZE, e.g. 4G (default: "
                        f"{int(DEFAULT_SHARE * 100)}%% of the memory available at the start)")
    _output_options(c)
    c.add_argument("--quiet", action="store_true", help="no progress lines on stderr")
    c.set_defaults(func=cmd_check)
    cli_fuzz.add_parser(sub)
    cli_replay.add_parser(sub)
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
    cli_z3.add_parsers(sub)
    li = sub.add_parser("list", help="list presets, mutants or properties")
    li.add_argument("what", choices=("presets", "mutants", "properties", "partitions"))
    li.set_defaults(func=cmd_list)
    cli_tlc.add_parsers(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    from bftcheck import stop
    from bftcheck.itf import TraceError

    argv = list(sys.argv[1:] if argv is None else argv)
    debug = "--debug" in argv
    argv = [a for a in argv if a != "--debug"]
    try:
        with stop.signals_stop_work():
            args = make_parser().parse_args(argv)
            return args.func(args)
    except (UsageError, ConfigError, TraceError, OutputError) as exc:
        print(f"bftcheck: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except (KeyboardInterrupt, stop.Abort) as exc:
        why = f"interrupted ({exc})" if isinstance(exc, stop.Abort) else "interrupted"
        print(f"bftcheck: {why}: stopped at once, without a summary; the work is "
              f"incomplete (exit {EXIT_INCOMPLETE})", file=sys.stderr)
        return EXIT_INCOMPLETE
    except MemoryError:
        print(f"bftcheck: out of memory: the work is incomplete; give a smaller configuration "
              f"or lower --max-memory (exit {EXIT_INCOMPLETE})", file=sys.stderr)
        return EXIT_INCOMPLETE
    except BrokenPipeError:  # output piped into e.g. `head`: stop quietly
        import os

        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_INCOMPLETE
    except Exception as exc:  # a bug: never 0 or 1, never a bare traceback
        return _internal_error(exc, debug)


def _internal_error(exc: Exception, debug: bool) -> int:
    """One line naming the error and where its traceback was written."""
    import tempfile
    import traceback

    details = "".join(traceback.format_exception(exc))
    if debug:
        sys.stderr.write(details)
        where = "the traceback is above"
    else:
        try:
            fd, path = tempfile.mkstemp(prefix="bftcheck-crash-", suffix=".txt")
            with open(fd, "w", encoding="utf-8") as f:
                f.write(f"bftcheck {' '.join(sys.argv[1:])}\n{details}")
            where = f"details in {path}; re-run with --debug to see them here"
        except OSError:
            where = "re-run with --debug to see the traceback"
    print(f"bftcheck: internal error ({type(exc).__name__}: {exc}); this is a bug in "
          f"bftcheck, please report it; {where} (exit {EXIT_INTERNAL})", file=sys.stderr)
    return EXIT_INTERNAL


if __name__ == "__main__":
    sys.exit(main())
