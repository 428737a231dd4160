"""Bounded model checking and induction with Z3, over any symbolic model.

The engines here know nothing about Tendermint. A symbolic model supplies
`fresh(name)` (a state as a list of Z3 terms), `init(s)`, `trans(s, t)`,
`value(z3_model, s)` (a state's bytes), and its properties as
`state_properties()` / `step_properties()`: name -> formula. The bytes of
every state Z3 finds are the model's own encoding, so a path found here is
labelled and re-checked by the explicit model (see `bftcheck/smtrun.py`).

BMC unrolls the transition relation one step at a time in one incremental
solver and asks, at each depth d, whether a property can fail in the d-th
state (or on the d-th step). Depths are tried in order, so the first
violation found is a shortest one: the same depth as the breadth-first
checker's counterexample. If at some depth no run of that length exists at
all, every run is shorter and the bounded result is a proof.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import z3


@dataclass
class DepthTime:
    depth: int
    seconds: float


@dataclass
class BmcResult:
    depth: int  # deepest depth fully checked
    complete: bool  # no run is longer than `depth`: the verdicts are proofs
    found: dict[str, int] = field(default_factory=dict)  # property -> violating depth
    paths: dict[str, list[bytes]] = field(default_factory=dict)  # property -> states
    times: list[DepthTime] = field(default_factory=list)
    seconds: float = 0.0
    stopped: str = ""  # why the search stopped early ("" when it reached `depth`)


def _solver() -> z3.Solver:
    return z3.Then("simplify", "solve-eqs", "bit-blast", "sat").solver()


def bmc(sym: Any, properties: list[str], depth: int,
        progress: Callable[[DepthTime, list[str]], None] | None = None,
        max_seconds: float | None = None) -> BmcResult:
    """Look for a violation of each named property within `depth` steps."""
    states = sym.state_properties()
    steps = sym.step_properties()
    for name in properties:
        if name not in states and name not in steps:
            raise KeyError(name)
    start = time.perf_counter()
    path = [sym.fresh("s0")]
    constraints = [sym.init(path[0])]
    pending = list(properties)
    result = BmcResult(depth=-1, complete=False)
    for d in range(depth + 1):
        t0 = time.perf_counter()
        # A fresh bit-blasting solver per depth: on these finite problems it is
        # several times faster than one incremental solver kept across depths.
        solver = _solver()
        if d > 0:
            path.append(sym.fresh(f"s{d}"))
            constraints.append(sym.trans(path[d - 1], path[d]))
        solver.add(constraints)
        if d > 0 and solver.check() == z3.unsat:
            # no run has d steps: everything reachable was checked already
            result.complete = True
            result.times.append(DepthTime(d, time.perf_counter() - t0))
            break
        # One query for all pending properties: "can any of them fail here?"
        # Usually not, and one unsat answer settles the depth; on sat, the
        # model shows which failed, and the rest are asked again.
        while pending:
            bad = {}
            for name in pending:
                if name in states:
                    bad[name] = z3.Not(states[name](path[d]))
                elif d > 0:
                    bad[name] = z3.Not(steps[name](path[d - 1], path[d]))
            if not bad:
                break
            solver.push()
            solver.add(z3.Or(list(bad.values())))
            if solver.check() != z3.sat:
                solver.pop()
                break
            m = solver.model()
            values = [sym.value(m, s) for s in path]
            for name, formula in bad.items():
                if z3.is_true(m.eval(formula, model_completion=True)):
                    result.found[name] = d
                    result.paths[name] = values
                    pending.remove(name)
            solver.pop()
        result.depth = d
        result.times.append(DepthTime(d, time.perf_counter() - t0))
        if progress:
            progress(result.times[-1], sorted(result.found))
        if not pending:
            break
        if max_seconds is not None and time.perf_counter() - start > max_seconds and d < depth:
            result.stopped = f"time limit of {max_seconds:g} s at depth {d}"
            break
    result.seconds = time.perf_counter() - start
    return result


@dataclass
class InductionResult:
    initiation: bool  # Init => Inv
    consecution: bool  # Inv /\ Next => Inv'
    implies: dict[str, bool]  # Inv => property, per property
    seconds: float
    # a counterexample: the state(s) and which obligation failed
    failed: str = ""
    states: list[bytes] = field(default_factory=list)
    failed_conjunct: str = ""

    @property
    def proved(self) -> bool:
        return self.initiation and self.consecution and all(self.implies.values())


def induct(sym: Any, invariant: Callable[[list], list[tuple[str, z3.BoolRef]]],
           properties: list[str]) -> InductionResult:
    """Is the conjunction of `invariant(s)` (named conjuncts) inductive, and
    does it imply each property? Stops at the first failed obligation and
    returns its counterexample: one state (initiation, implication) or two
    (consecution: a state satisfying the invariant and a successor that
    does not, blaming the first conjunct in order that a step can break)."""
    start = time.perf_counter()
    states = sym.state_properties()
    s, t = sym.fresh("s"), sym.fresh("t")
    for name in properties:
        if name not in states and name not in sym.step_properties():
            raise KeyError(name)
    inv_s = invariant(s)
    out = InductionResult(False, False, {}, 0.0)

    solver = _solver()
    solver.add(sym.init(s), z3.Not(z3.And([f for _, f in inv_s])))
    if solver.check() == z3.sat:
        out.failed, out.states = "initiation", [sym.value(solver.model(), s)]
        out.failed_conjunct = next(n for n, f in inv_s if z3.is_false(
            solver.model().eval(f, model_completion=True)))
        out.seconds = time.perf_counter() - start
        return out
    out.initiation = True
    inv_t = invariant(t)
    solver = _solver()
    solver.add([f for _, f in inv_s])
    solver.add(sym.trans(s, t))
    solver.add(z3.Not(z3.And([f for _, f in inv_t])))
    if solver.check() == z3.sat:
        # Which conjunct to blame should not depend on the model Z3 happens to
        # pick: the first one, in order, that some step breaks.
        for name, f in inv_t:
            solver = _solver()
            solver.add([g for _, g in inv_s])
            solver.add(sym.trans(s, t), z3.Not(f))
            if solver.check() == z3.sat:
                m = solver.model()
                out.failed, out.states = "consecution", [sym.value(m, s), sym.value(m, t)]
                out.failed_conjunct = name
                break
        out.seconds = time.perf_counter() - start
        return out
    out.consecution = True
    steps = sym.step_properties()
    for name in properties:
        solver = _solver()
        solver.add([f for _, f in inv_s])
        if name in steps:  # a step property: on every step from the invariant
            solver.add(sym.trans(s, t), z3.Not(steps[name](s, t)))
        else:
            solver.add(z3.Not(states[name](s)))
        ok = solver.check() == z3.unsat
        out.implies[name] = ok
        if not ok:
            m = solver.model()
            out.failed = f"implies {name}"
            out.states = [sym.value(m, s)] + ([sym.value(m, t)] if name in steps else [])
            break
    out.seconds = time.perf_counter() - start
    return out
