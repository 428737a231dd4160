"""The mutant matrix: every mutant of the catalogue through every engine.

Each mutant runs on its own small configuration (`Mutant.catch`) with every
safety property checked; an engine *catches* it when some property fails.
Where that configuration has Byzantine power of 1/3 or more (so the real
protocol may fail too), only the property the mutant breaks counts. Control
rows must stay clean: the real protocol on the n4-f1 preset and on the
partition mutants' configuration, and every mutant marked as a control (a
variant that is not a bug). Recovery is a property of the whole state graph,
which fuzzing cannot judge: the fuzz cell of a Recovery mutant is "n/a".
Fuzzing judges termination at the end of each run (fuzz/machine.py), so on a
configuration with GST its cells check it with the safety properties.
So can neither Z3 engine (bmc to a fixed depth, induct with the shipped
invariant): their cells of a Recovery mutant are "n/a" too.

A cell whose engine gave no answer is *undecided*, neither caught nor
clean: an interrupted or incomplete search, a Z3 query answered unknown, an
induction that neither proved nor refuted; after an interrupt
(bftcheck/stop.py) the cells not started are "not run". `outcome` is then
3, never 0 ("every mutant caught") nor 1.
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass
from typing import Any

from bftcheck import stop
from bftcheck.checker.bfs import DECIDED, Limits, check
from bftcheck.model import MUTANTS, TendermintModel
from bftcheck.model.config import Config, ConfigError
from bftcheck.outcome import EXIT_INCOMPLETE, EXIT_OK, EXIT_VIOLATION
from bftcheck.presets import preset

ENGINES = ("check", "fuzz", "bmc", "induct")
BMC_DEPTH = 16  # the deepest shortest counterexample of a mutant is 15 steps
CONTROL = "real protocol (n4-f1)"
CONTROL_SPLIT = "real protocol (split)"
GRAPH_KINDS = ("recovery", "liveness")


NOT_RUN = "not run"


@dataclass
class Cell:
    engine: str
    caught: bool | None  # None: the engine cannot judge the property, or is undecided
    prop: str | None
    length: int | None
    seconds: float
    detail: str
    # why the engine gave no answer ("interrupted (SIGINT)", "not run", "Z3
    # answered unknown ..."), else None; an undecided cell is neither caught nor clean
    undecided: str | None = None


def _undecided(engine: str, why: str, seconds: float = 0.0, detail: str = "") -> Cell:
    return Cell(engine, None, None, None, seconds, detail or why, undecided=why)


def parse_engines(text: str) -> list[str]:
    names = [e.strip() for e in text.split(",") if e.strip()]
    unknown = [e for e in names if e not in ENGINES]
    if unknown or not names:
        raise ConfigError(f"unknown engine {unknown[0] if unknown else text!r}: choose from "
                          f"{', '.join(ENGINES)} (comma-separated)")
    return list(dict.fromkeys(names))


def parse_mutants(text: str | None) -> list[str] | None:
    """The rows `--mutants` chose, in the catalogue's order; None: all of them."""
    if text is None:
        return None
    names = [n.strip() for n in text.split(",") if n.strip()]
    unknown = [n for n in names if n not in MUTANTS]
    if not names:
        raise ConfigError(f"--mutants {text!r} names no mutant: give one or more names of "
                          f"'bftcheck list mutants', comma-separated")
    if unknown:
        raise ConfigError(f"--mutants: unknown mutant {unknown[0]!r}: choose among the "
                          f"{len(MUTANTS)} that 'bftcheck list mutants' shows (comma-separated)")
    return [n for n in MUTANTS if n in names]


def judged(cfg: Config, breaks: str | None) -> list[str] | None:
    """The properties that count as a catch (None: every safety property)."""
    if breaks is not None and 3 * cfg.byzantine_power >= cfg.total_power:
        return [breaks]
    return None


def run_check(cfg: Config, props_named: list[str] | None = None) -> Cell:
    model = TendermintModel(cfg)
    props = [p for p in model.properties() if p.kind != "sometimes"
             and (props_named is None or p.name in props_named)]
    start = time.perf_counter()
    r = check(model, props, Limits(stop_at_first_violation=True))
    seconds = time.perf_counter() - start
    if r.violated:
        prop = min(r.violated, key=lambda n: r.found_at[n])
        return Cell("check", True, prop, r.found_at[prop], seconds,
                    f"{r.distinct_states:,} states")
    if not r.complete and r.stopped != DECIDED:  # an interrupt or a limit: no answer
        return _undecided("check", r.stopped, seconds,
                          f"incomplete ({r.stopped}), {r.distinct_states:,} states")
    return Cell("check", False, None, None, seconds, f"complete, {r.distinct_states:,} states")


def run_fuzz(cfg: Config, max_examples: int, seed: int,
             props_named: list[str] | None = None) -> Cell:
    from bftcheck.fuzz.runner import fuzz
    from bftcheck.trace import from_path

    out = fuzz(cfg, max_examples=max_examples, seed=seed, properties=props_named)
    if out.violated and out.path is not None:
        length = len(from_path(TendermintModel(cfg), cfg, out.path, out.violated))
        return Cell("fuzz", True, out.violated, length, out.seconds,
                    f"{out.examples:,} examples")
    # FuzzOutcome.interrupted where the runner has it, else: was a stop requested?
    why = out.interrupted if hasattr(out, "interrupted") else stop.requested()
    if why:  # the budget was not used: not a clean run
        return _undecided("fuzz", why, out.seconds,
                          f"{why} after {out.examples:,} examples")
    return Cell("fuzz", False, None, None, out.seconds, f"{out.examples:,} examples")


def _safety(model: TendermintModel, props_named: list[str] | None) -> list[str]:
    return [p.name for p in model.properties() if p.kind == "always"
            and (props_named is None or p.name in props_named)]


def run_bmc(cfg: Config, depth: int, props_named: list[str] | None = None) -> Cell:
    from bftcheck.checker.smt import bmc
    from bftcheck.model.symbolic import SymbolicRules

    model = TendermintModel(cfg)
    r = bmc(SymbolicRules(model), _safety(model, props_named), depth)
    if r.found:
        prop = min(r.found, key=lambda n: r.found[n])
        return Cell("bmc", True, prop, r.found[prop], r.seconds, f"depth {r.found[prop]}")
    why = getattr(r, "stopped", "") or getattr(r, "unknown", "") or stop.requested()
    if why and not r.complete:  # an unknown answer, an interrupt: not up to `depth`
        return _undecided("bmc", why, r.seconds, f"{why} (checked up to depth {r.depth})")
    bound = "no run is longer" if r.complete else f"up to depth {r.depth}"
    return Cell("bmc", False, None, None, r.seconds, bound)


def run_induct(cfg: Config, props_named: list[str] | None = None) -> Cell:
    """Caught when the shipped invariant does not prove the properties: it is
    not inductive for the mutant's rules, or does not imply them."""
    from bftcheck.checker.smt import induct
    from bftcheck.model.inductive import agreement_invariant
    from bftcheck.model.symbolic import SymbolicRules

    model = TendermintModel(cfg)
    sym = SymbolicRules(model)
    r = induct(sym, agreement_invariant(sym), _safety(model, props_named))
    if r.proved:
        return Cell("induct", False, None, None, r.seconds, "invariant proved")
    if not r.failed:  # neither proved nor refuted: an unknown answer or an interrupt
        why = (getattr(r, "stopped", "") or stop.requested()
               or "Z3 answered unknown: " + ", ".join(
                   f"{k} ({v})" for k, v in getattr(r, "unknown", {}).items()) or "undecided")
        return _undecided("induct", why, r.seconds)
    what = r.failed_conjunct or r.failed.removeprefix("implies ")
    return Cell("induct", True, what, len(r.states) - 1, r.seconds, r.failed)


def matrix(engines: list[str], max_examples: int = 10_000, seed: int = 1,
           progress=None, bmc_depth: int = BMC_DEPTH,
           mutants: list[str] | None = None) -> list[dict]:
    """One row per mutant (those named, or all) plus the two control rows, which
    always run: a verdict on mutants means little without them. Each row maps
    engine -> Cell."""
    rows = []
    jobs = [(name, m.breaks, m.control, Config(**m.catch, mutant=name, name=f"mutant-{name}"))
            for name, m in MUTANTS.items() if mutants is None or name in mutants]
    jobs.append((CONTROL, None, True, preset("n4-f1")))
    jobs.append((CONTROL_SPLIT, None, True,
                 Config(**MUTANTS["no-block-sync"].catch, name="split")))
    for name, breaks, control, cfg in jobs:
        cells = {}
        for engine in engines:
            if stop.requested():  # an interrupt: the rest is not run
                cells[engine] = _undecided(engine, NOT_RUN, detail=f"{NOT_RUN} "
                                           f"({stop.requested()})")
                continue
            if progress:
                progress(f"{name}: {engine} ...")
            named = judged(cfg, breaks) if not control else None
            if engine == "check":
                cells[engine] = run_check(cfg, named)
            elif breaks in UNJUDGED[engine] and not control:
                cells[engine] = Cell(engine, None, None, None, 0.0,
                                     f"{engine} cannot judge a property of the state graph")
            elif engine in ("bmc", "induct") and cfg.gst is not None:
                cells[engine] = Cell(engine, None, None, None, 0.0,
                                     f"{engine} has no partial synchrony (gst)")
            elif engine == "bmc":
                cells[engine] = run_bmc(cfg, bmc_depth, named)
            elif engine == "induct":
                cells[engine] = run_induct(cfg, named)
            else:
                cells[engine] = run_fuzz(cfg, max_examples, seed, named or _fuzzed(cfg))
        rows.append({"mutant": name, "breaks": breaks, "control": control, "cells": cells})
    return rows


GRAPH_PROPERTIES = ("recovery", "fair-recovery", "termination")  # graph properties
# The graph properties each engine cannot judge: fuzzing judges termination at
# the end of each run (fuzz/machine.py), the Z3 engines judge none.
UNJUDGED = {"fuzz": ("recovery", "fair-recovery"), "bmc": GRAPH_PROPERTIES,
            "induct": GRAPH_PROPERTIES}


def _fuzzed(cfg: Config) -> list[str] | None:
    """What fuzzing judges on a configuration with GST: the safety properties
    and termination, at each run's end (fuzz/machine.py); None otherwise (the
    safety properties)."""
    from bftcheck.fuzz.machine import fuzz_properties

    return fuzz_properties(TendermintModel(cfg)) if cfg.gst is not None else None


def failures(rows: list[dict]) -> list[str]:
    """The decided cells that break the claim: a mutant an engine did not
    catch, a control row an engine found violated ("mutant: engine")."""
    return [f"{row['mutant']}: {e}" for row in rows for e, cell in row["cells"].items()
            if cell.caught is not None and cell.caught == row["control"]]


def undecided(rows: list[dict]) -> list[str]:
    """The cells without an answer ("mutant: engine (why)")."""
    return [f"{row['mutant']}: {e} ({cell.undecided})" for row in rows
            for e, cell in row["cells"].items() if cell.undecided is not None]


def ok(rows: list[dict]) -> bool:
    """Every mutant caught by every engine that can judge it; controls clean;
    every cell decided."""
    return not failures(rows) and not undecided(rows)


def outcome(rows: list[dict], interrupted: str | None = None) -> int:
    """The exit code: 3 when interrupted (the matrix so far claims nothing),
    else 1 when a decided cell breaks the claim, else 3 when a cell is
    undecided, else 0."""
    if interrupted:
        return EXIT_INCOMPLETE
    if failures(rows):
        return EXIT_VIOLATION
    if undecided(rows):
        return EXIT_INCOMPLETE
    return EXIT_OK


def describe(cell: Cell) -> str:
    if cell.undecided == NOT_RUN:
        return NOT_RUN
    if cell.undecided is not None:
        return f"UNDECIDED ({cell.detail}, {cell.seconds:.1f} s)"
    if cell.caught is None:
        return f"n/a ({cell.detail})"
    if cell.caught and cell.engine == "induct":
        return f"caught: {cell.detail} ({cell.prop}), {cell.seconds:.1f} s"
    if cell.caught:
        return f"caught: {cell.prop}, {cell.length} steps, {cell.seconds:.1f} s"
    return f"not caught ({cell.detail}, {cell.seconds:.1f} s)"


def render(rows: list[dict], engines: list[str]) -> str:
    head = ["mutant", "breaks", *engines]
    table = [head]
    for row in rows:
        cells = []
        for e in engines:
            c = row["cells"][e]
            if row["control"] and c.caught is not None:
                cells.append(("clean" if not c.caught else f"VIOLATED: {c.prop}")
                             + f" ({c.detail}, {c.seconds:.1f} s)")
            else:
                cells.append(describe(c))
        table.append([row["mutant"], row["breaks"] or "-", *cells])
    widths = [max(len(r[i]) for r in table) for i in range(len(head))]
    return "\n".join("  ".join(x.ljust(w) for x, w in zip(r, widths, strict=True)).rstrip()
                     for r in table)


def junit_cases(rows: list[dict], interrupted: str | None = None) -> list[Any]:
    """A JUnit case per cell an engine can judge ("mutant: engine"): an escape
    or a failing control fails, an undecided cell is unknown. An interrupted
    matrix claims nothing (exit 3, `outcome`): what failed so far is unknown."""
    from bftcheck.junit import Case

    cases = []
    for row in rows:
        for engine, cell in row["cells"].items():
            name = f"{row['mutant']}: {engine}"
            if cell.undecided is not None:
                cases.append(Case(name, "unknown", f"undecided: {cell.undecided}"))
            elif cell.caught is None:
                continue  # the engine cannot judge the property this row breaks
            elif cell.caught == row["control"]:
                what = "the control row failed" if row["control"] else "the mutant escaped"
                if interrupted:
                    cases.append(Case(name, "unknown", f"{what} so far, but the matrix was "
                                      f"{interrupted}: {cell.detail}"))
                else:
                    cases.append(Case(name, "failed", f"{what}: {cell.detail}"))
            else:
                cases.append(Case(name, "passed", cell.detail))
    return cases


def to_json(rows: list[dict]) -> list[dict]:
    return [{"mutant": r["mutant"], "breaks": r["breaks"], "control": r["control"],
             "engines": {e: asdict(c) for e, c in r["cells"].items()}} for r in rows]
