"""`bftcheck bmc` and `bftcheck induct`: the model's rules in Z3
(model/symbolic.py), driven by checker/smt.py."""

from __future__ import annotations

import argparse
import json
from typing import Any

from bftcheck.cli_common import (
    build_config,
    check_outputs,
    config_options,
    junit_option,
    output_options,
    positive_number,
    print_junit,
    print_trace,
    report_output_error,
    trace_details,
    write_junit,
    write_traces,
)
from bftcheck.model.config import Config, ConfigError
from bftcheck.outcome import EXIT_INCOMPLETE, EXIT_OK, EXIT_USAGE, EXIT_VIOLATION


def _run_engine(engine: Any, *args: Any, **kw: Any) -> Any:
    """Run a Z3 engine. A second signal raises stop.Abort wherever the main
    thread is; inside a ctypes call's argument conversion (z3py building terms)
    ctypes turns it into an ArgumentError, which is the Abort, not a bug."""
    import ctypes

    from bftcheck import stop

    try:
        return engine(*args, **kw)
    except ctypes.ArgumentError as exc:
        if stop.requested() and "Abort" in str(exc):
            raise stop.Abort(str(exc).rsplit(": ", 1)[-1]) from None
        raise


def _symbolic(cfg: Config) -> tuple[Any, Any]:
    from bftcheck.model import TendermintModel
    from bftcheck.model.symbolic import SymbolicRules

    model = TendermintModel(cfg)
    return model, SymbolicRules(model)


def _safety_properties(model: Any, sym: Any, asked: list[str] | None, command: str) -> list[str]:
    """The safety properties Z3 can check, in catalogue order; `asked` filtered."""
    known = list(sym.state_properties()) + list(sym.step_properties())
    order = [p.name for p in model.properties() if p.name in known]
    if not asked:
        return order
    from bftcheck.model import TendermintModel

    # every property name, including those only partitioned configurations have
    names = [p.name for p in TendermintModel(
        Config(partitions=("halves",), max_partitions=2)).properties()]
    for name in asked:
        if name not in names:
            raise ConfigError(f"unknown property {name!r}: choose from {', '.join(order)} "
                              f"(see 'bftcheck list properties')")
        if name not in known:
            raise ConfigError(f"{command} checks safety properties; {name!r} is not one: "
                              f"choose from {', '.join(order)}")
    return [n for n in order if n in asked]


def cmd_bmc(args: argparse.Namespace) -> int:
    from bftcheck import itf
    from bftcheck.checker.smt import bmc
    from bftcheck.junit import Case, verdict_case
    from bftcheck.model.story import describe_config
    from bftcheck.trace import from_states

    cfg = build_config(args)
    if args.depth < 0:
        raise ConfigError(f"--depth {args.depth}: pass a number of steps >= 0")
    check_outputs(args)
    model, sym = _symbolic(cfg)
    chosen = _safety_properties(model, sym, args.property, "bmc")
    if not args.json:
        print(f"bftcheck bmc: {describe_config(cfg)}")
        print(f"unrolling the transition relation in Z3, up to {args.depth} steps", flush=True)

    def progress(dt: Any, found: list[str]) -> None:
        if not args.json:
            mark = f"  violated: {', '.join(found)}" if found else ""
            print(f"  depth {dt.depth:3d}: {dt.seconds:7.2f} s{mark}", flush=True)

    result = _run_engine(bmc, sym, chosen, args.depth, progress=progress,
                         max_seconds=args.max_seconds, timeout=args.z3_timeout)
    traces = {name: from_states(model, cfg, result.paths[name], name) for name in chosen
              if name in result.found}
    first = next(iter(traces.values()), None)
    error = write_traces(args, model, first)
    if result.found:
        code = EXIT_VIOLATION
    elif result.stopped:
        code = EXIT_INCOMPLETE
    else:
        code = EXIT_OK

    def verdict(name: str) -> str:
        if name in result.found:
            return "violated"
        if result.complete:
            return "holds"
        if result.depth < 0:
            return "not checked"
        return f"no violation within {result.depth} steps"

    def case(name: str) -> Case:
        if name in traces:
            return verdict_case(name, "violated", at=result.found[name],
                                details=trace_details(args, model, traces[name], first))
        if result.stopped:  # no evidence beyond the depths checked
            checked = (f"no violation up to depth {result.depth}" if result.depth >= 0
                       else "nothing checked")
            return Case(name, "unknown", f"unknown: {result.stopped}; {checked}")
        return Case(name, "passed", verdict(name))

    cases = [case(n) for n in chosen]
    error = error or write_junit(args, "bmc", describe_config(cfg), cases, result.seconds)
    final = EXIT_USAGE if error else code  # the write's one line comes last

    if args.json:
        out = {
            "engine": "z3-bmc",
            "config": cfg.to_dict(),
            "depth": args.depth,
            "checked_depth": result.depth,
            "complete": result.complete,  # a proof: no run is longer than checked_depth
            "stopped": result.stopped,
            "unknown": result.unknown,
            "verdicts": {n: verdict(n) for n in chosen},
            "found_at_depth": result.found,
            "seconds_per_depth": [round(t.seconds, 3) for t in result.times],
            "seconds": round(result.seconds, 3),
            "trace": itf.to_itf(model, first) if first else None,
            "traces": {n: itf.to_itf(model, t) for n, t in traces.items()},
            "exit_code": final,
        }
        print(json.dumps(out), flush=True)
        return report_output_error(error, code)
    if result.complete:
        print(f"search: complete: no run has more than {result.depth} steps, so the "
              f"verdicts hold at every depth ({result.seconds:.2f} s)")
    elif result.stopped:
        after = (f"after depth {result.depth}" if result.depth >= 0
                 else "before depth 0 was checked")
        print(f"search: INCOMPLETE ({result.stopped}) {after}, {result.seconds:.2f} s")
    else:
        print(f"search: bounded: every run of up to {result.depth} steps checked "
              f"({result.seconds:.2f} s)")
    width = max(len(n) for n in chosen)
    for name in chosen:
        at = f" (depth {result.found[name]})" if name in result.found else ""
        print(f"  {name:<{width}}  {verdict(name)}{at}")
    print_trace(args, model, first, error)
    print_junit(args, error)
    if result.depth >= 0:
        so_far = f"no violation found up to depth {result.depth}"
    else:
        so_far = "nothing was checked"
    line = {
        EXIT_OK: ("no property can be violated" if result.complete
                  else f"no violation within {result.depth} steps"),
        EXIT_VIOLATION: "violated: " + ", ".join(traces),
        EXIT_INCOMPLETE: f"{so_far}, but the search is incomplete",
    }[code]
    if code == EXIT_VIOLATION and result.stopped:
        line += f" (the search for the others is incomplete: {result.stopped})"
    print(f"result: {line} (exit {final})", flush=True)
    return report_output_error(error, code)


def _invariant(sym: Any, names: list[str]) -> tuple[Any, list[str]]:
    """The invariant to check: `types` and the named parts (the shipped
    strengthening, any of its conjuncts, or a safety property)."""
    from bftcheck.model.inductive import INVARIANT_NAME, agreement_invariant

    shipped = agreement_invariant(sym)
    probe = sym.fresh("probe")
    conjunct_names = [n for n, _ in shipped(probe)]
    props = sym.state_properties()
    choices = [INVARIANT_NAME] + conjunct_names + list(props)
    for name in names:
        if name not in choices:
            raise ConfigError(f"unknown invariant {name!r}: choose from {', '.join(choices)}")
    parts = ["types"] + [n for n in dict.fromkeys(names) if n != "types"]
    if INVARIANT_NAME in parts:
        parts = conjunct_names + [n for n in parts if n not in conjunct_names
                                  and n != INVARIANT_NAME]

    def invariant(s: list) -> list:
        have = dict(shipped(s))
        return [(n, have[n] if n in have else props[n](s)) for n in parts]

    return invariant, parts


def _obligation_case(result: Any, name: str, decided: bool | None, model: Any,
                     trace: Any) -> Any:
    """An obligation as a JUnit case: FAILS fails (with the counterexample),
    holds passes, one left unchecked after a failure is skipped, anything else
    is unknown."""
    from bftcheck.junit import Case
    from bftcheck.trace import render

    said = _obligation(result, name, decided)
    if said == "FAILS":
        return Case(name, "failed", f"{name} fails", render(model, trace) if trace else said)
    if said == "not checked (an earlier obligation failed)":
        return Case(name, "skipped", said)
    return Case(name, "passed" if said == "holds" else "unknown", said)


def _obligation(result: Any, name: str, decided: bool | None) -> str:
    """holds / FAILS / unknown (Z3: why) / not checked, for one obligation."""
    if result.failed == name:
        return "FAILS"
    if decided:
        return "holds"
    if name in result.unknown:
        why = result.unknown[name]
        return f"unknown ({why})" if why == result.stopped else f"unknown (Z3: {why})"
    if result.failed:
        return "not checked (an earlier obligation failed)"
    if result.stopped:
        return f"not checked ({result.stopped})"
    return "not checked"


def cmd_induct(args: argparse.Namespace) -> int:
    from bftcheck.checker.smt import induct
    from bftcheck.model.inductive import INVARIANT_NAME
    from bftcheck.model.story import describe_config
    from bftcheck.trace import Step, Trace, from_states, render

    cfg = build_config(args)
    check_outputs(args)
    model, sym = _symbolic(cfg)
    chosen = _safety_properties(model, sym, args.property, "induct")
    invariant, parts = _invariant(sym, args.invariant or [INVARIANT_NAME])
    if not args.json:
        print(f"bftcheck induct: {describe_config(cfg)}")
        print(f"invariant: {' and '.join(parts)}", flush=True)
    result = _run_engine(induct, sym, invariant, chosen, timeout=args.z3_timeout)
    outcome = result.outcome
    code = {"proved": EXIT_OK, "failed": EXIT_VIOLATION, "unknown": EXIT_INCOMPLETE}[outcome]
    anywhere = "a state satisfying the invariant (not necessarily reachable)"
    trace = None
    if result.states:
        if len(result.states) == 2:
            trace = from_states(model, cfg, result.states, result.failed_conjunct or
                                result.failed, first=anywhere)
        else:
            trace = Trace(cfg, [Step(anywhere if result.failed != "initiation"
                                     else "an initial state", result.states[0])],
                          result.failed)
    rows = [("initiation", "initiation: Init => Inv", result.initiation),
            ("consecution", "consecution: Inv and Next => Inv'", result.consecution)]
    rows += [(f"implies {n}", f"Inv => {n}", result.implies.get(n)) for n in chosen]
    undecided = [name for name, _, ok in rows if not ok and result.failed != name]
    if outcome == "unknown":
        asked = list(result.unknown)
        if result.stopped:
            what = (f"{result.stopped} during {asked[-1]}" if asked
                    else f"{result.stopped} before {undecided[0]}")
        else:
            by_reason: dict[str, list[str]] = {}
            for name, why in result.unknown.items():
                by_reason.setdefault(why, []).append(name)
            what = "; ".join(f"Z3 answered unknown ({why}) on {', '.join(names)}"
                             for why, names in by_reason.items())
        summary = f"unknown: {what}; nothing is proved"
    elif outcome == "failed":
        summary = f"not proved: {result.failed} fails"
    else:
        summary = (f"proved: the invariant is inductive and implies "
                   f"{', '.join(chosen)}, so they hold at every depth")
    cases = [_obligation_case(result, name, ok, model, trace) for name, _, ok in rows]
    error = write_junit(args, "induct", describe_config(cfg), cases, result.seconds)
    final = EXIT_USAGE if error else code
    if args.json:
        out = {
            "engine": "z3-induct",
            "config": cfg.to_dict(),
            "invariant": parts,
            "initiation": result.initiation,
            "consecution": result.consecution,
            "implies": result.implies,
            "obligations": {name: _obligation(result, name, ok) for name, _, ok in rows},
            "proved": result.proved,
            "outcome": outcome,
            "complete": outcome != "unknown",
            "stopped": result.stopped,
            "unknown": result.unknown,
            "failed": result.failed,
            "failed_conjunct": result.failed_conjunct,
            "note": result.note,
            "counterexample": [model.decode(s) for s in result.states],
            "seconds": round(result.seconds, 3),
            "exit_code": final,
        }
        print(json.dumps(out), flush=True)
        return report_output_error(error, code)
    for name, text, ok in rows:
        print(f"  {text:<40} {_obligation(result, name, ok)}")
    print(f"  ({result.seconds:.2f} s)")
    if trace is not None:
        print()
        if result.failed == "consecution":
            print(f"counterexample to induction: the step breaks {result.failed_conjunct}")
            if result.note:
                print(f"({result.note})")
        elif result.failed == "initiation":
            print(f"an initial state breaks {result.failed_conjunct}")
        else:
            print(f"a state satisfying the invariant where {result.failed[8:]} fails:")
        print(render(model, trace))
    print_junit(args, error)
    print(f"result: {summary} (exit {final})", flush=True)
    return report_output_error(error, code)


def _z3_timeout_option(p: argparse.ArgumentParser) -> None:
    p.add_argument("--z3-timeout", type=positive_number, metavar="S",
                   help="seconds per Z3 query; a query that runs out answers unknown and "
                        "the run ends incomplete (exit 3)")


def add_parsers(sub: Any) -> None:
    b = sub.add_parser("bmc", help="Z3 bounded model checking: a violation within K steps?")
    config_options(b)
    b.add_argument("--depth", type=int, required=True, metavar="K",
                   help="unroll the transition relation up to K steps")
    b.add_argument("--property", action="append", metavar="NAME",
                   help="check only this safety property (repeatable)")
    b.add_argument("--max-seconds", type=positive_number, metavar="S",
                   help="stop after the depth that passes S seconds (exit 3)")
    _z3_timeout_option(b)
    output_options(b)
    junit_option(b)
    b.set_defaults(func=cmd_bmc)
    i = sub.add_parser("induct", help="Z3: is an invariant inductive, and does it imply "
                       "the safety properties?")
    config_options(i)
    i.add_argument("--invariant", action="append", metavar="NAME",
                   help="agreement-inductive (default, the shipped strengthening), one of "
                        "its conjuncts, or a safety property; repeatable (conjoined)")
    i.add_argument("--property", action="append", metavar="NAME",
                   help="the safety property the invariant must imply (repeatable; "
                        "default all)")
    _z3_timeout_option(i)
    i.add_argument("--json", action="store_true", help="one JSON object on stdout")
    junit_option(i)
    i.set_defaults(func=cmd_induct)

