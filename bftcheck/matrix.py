"""The mutant matrix: every mutant of the catalogue through every engine.

Each mutant runs on its own small configuration (`Mutant.catch`) with every
safety property checked; an engine *catches* it when some property fails.
Where that configuration has Byzantine power of 1/3 or more (so the real
protocol may fail too), only the property the mutant breaks counts. Control
rows must stay clean: the real protocol on the n4-f1 preset and on the
partition mutants' configuration, and every mutant marked as a control (a
variant that is not a bug). Recovery is a property of the whole state graph,
which fuzzing cannot judge: the fuzz cell of a Recovery mutant is "n/a".
So can neither Z3 engine (bmc to a fixed depth, induct with the shipped
invariant): their cells of a Recovery mutant are "n/a" too.
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass

from bftcheck.checker.bfs import Limits, check
from bftcheck.config import Config, ConfigError
from bftcheck.model import MUTANTS, TendermintModel
from bftcheck.presets import preset

ENGINES = ("check", "fuzz", "bmc", "induct")
BMC_DEPTH = 16  # the deepest shortest counterexample of a mutant is 15 steps
CONTROL = "real protocol (n4-f1)"
CONTROL_SPLIT = "real protocol (split)"
GRAPH_KINDS = ("recovery", "liveness")


@dataclass
class Cell:
    engine: str
    caught: bool | None  # None: the engine cannot judge the property
    prop: str | None
    length: int | None
    seconds: float
    detail: str


def parse_engines(text: str) -> list[str]:
    names = [e.strip() for e in text.split(",") if e.strip()]
    unknown = [e for e in names if e not in ENGINES]
    if unknown or not names:
        raise ConfigError(f"unknown engine {unknown[0] if unknown else text!r}: choose from "
                          f"{', '.join(ENGINES)} (comma-separated)")
    return list(dict.fromkeys(names))


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
    state = "complete" if r.complete else "incomplete"
    return Cell("check", False, None, None, seconds, f"{state}, {r.distinct_states:,} states")


def run_fuzz(cfg: Config, max_examples: int, seed: int,
             props_named: list[str] | None = None) -> Cell:
    from bftcheck.fuzz.runner import fuzz
    from bftcheck.trace import from_path

    out = fuzz(cfg, max_examples=max_examples, seed=seed, properties=props_named)
    if out.violated and out.path is not None:
        length = len(from_path(TendermintModel(cfg), cfg, out.path, out.violated))
        return Cell("fuzz", True, out.violated, length, out.seconds,
                    f"{out.examples:,} examples")
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
    what = r.failed_conjunct or r.failed.removeprefix("implies ")
    return Cell("induct", True, what, len(r.states) - 1, r.seconds, r.failed)


def matrix(engines: list[str], max_examples: int = 10_000, seed: int = 1,
           progress=None, bmc_depth: int = BMC_DEPTH) -> list[dict]:
    """One row per mutant plus the control row; each row maps engine -> Cell."""
    rows = []
    jobs = [(name, m.breaks, m.control, Config(**m.catch, mutant=name, name=f"mutant-{name}"))
            for name, m in MUTANTS.items()]
    jobs.append((CONTROL, None, True, preset("n4-f1")))
    jobs.append((CONTROL_SPLIT, None, True,
                 Config(**MUTANTS["no-block-sync"].catch, name="split")))
    for name, breaks, control, cfg in jobs:
        cells = {}
        for engine in engines:
            if progress:
                progress(f"{name}: {engine} ...")
            named = judged(cfg, breaks) if not control else None
            if engine == "check":
                cells[engine] = run_check(cfg, named)
            elif breaks in RECOVERY_PROPERTIES and not control:
                cells[engine] = Cell(engine, None, None, None, 0.0,
                                     f"{engine} cannot judge a property of the state graph")
            elif engine == "bmc":
                cells[engine] = run_bmc(cfg, bmc_depth, named)
            elif engine == "induct":
                cells[engine] = run_induct(cfg, named)
            else:
                cells[engine] = run_fuzz(cfg, max_examples, seed, named)
        rows.append({"mutant": name, "breaks": breaks, "control": control, "cells": cells})
    return rows


RECOVERY_PROPERTIES = ("recovery", "fair-recovery")


def ok(rows: list[dict]) -> bool:
    """Every mutant caught by every engine that can judge it; controls clean."""
    for row in rows:
        for cell in row["cells"].values():
            if cell.caught is not None and cell.caught == row["control"]:
                return False
    return True


def describe(cell: Cell) -> str:
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


def to_json(rows: list[dict]) -> list[dict]:
    return [{"mutant": r["mutant"], "breaks": r["breaks"], "control": r["control"],
             "engines": {e: asdict(c) for e, c in r["cells"].items()}} for r in rows]
