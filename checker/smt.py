"""Bounded model checking and induction with Z3, over any symbolic model.

The engines here know nothing about Tendermint. A symbolic model supplies
`fresh(name)` (a state as a list of Z3 terms), `init(s)`, `trans(s, t)`,
`value(z3_model, s)` (a state's bytes), and its properties as
`state_properties()` / `step_properties()`: name -> formula. The bytes of
every state Z3 finds are the model's own encoding, so a path found here is
labelled and re-checked by the explicit model (`trace.from_states`, which
the bmc and induct commands of `bftcheck/cli_z3.py` call).

BMC unrolls the transition relation one step at a time in one incremental
solver and asks, at each depth d, whether a property can fail in the d-th
state (or on the d-th step). Depths are tried in order, so the first
violation found is a shortest one: the same depth as the breadth-first
checker's counterexample. If at some depth no run of that length exists at
all, every run is shorter and the bounded result is a proof.

Only Z3's answers count: `unsat` settles a question, `sat` comes with its
model, and `unknown` (a timeout, an interrupt, a resource limit) settles
nothing: the engine stops and its result says what is undecided and why.
Every query runs in a worker thread while the calling (main) thread waits,
so a SIGINT/SIGTERM handler runs at once and its `bftcheck.stop` callback
interrupts Z3 (`Context.interrupt`): an interrupted run ends in well under a
second with what it knew.
"""

from __future__ import annotations

import gc
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import z3

from bftcheck import stop


@dataclass
class DepthTime:
    depth: int
    seconds: float


@dataclass
class BmcResult:
    depth: int  # deepest depth fully checked (-1: not even depth 0)
    complete: bool  # no run is longer than `depth`: the verdicts are proofs
    found: dict[str, int] = field(default_factory=dict)  # property -> violating depth
    paths: dict[str, list[bytes]] = field(default_factory=dict)  # property -> states
    times: list[DepthTime] = field(default_factory=list)
    seconds: float = 0.0
    # why the search stopped before `depth` with properties still pending ("" when
    # it did not): a time limit, an interrupt, or "Z3 answered unknown at depth 5
    # (timeout)"
    stopped: str = ""
    unknown: str = ""  # Z3's reason_unknown() when an answer was unknown, else ""


def _solver(timeout: float | None = None) -> z3.Solver:
    """The bit-blasting solver, with Z3's own SIGINT handling off (the process's
    handler asks for a stop, see `check`) and an optional per-query timeout in
    seconds (a query that runs out answers unknown, reason "timeout")."""
    solver = z3.Then("simplify", "solve-eqs", "bit-blast", "sat").solver()
    solver.set("ctrl_c", False)
    if timeout is not None:
        solver.set("timeout", max(1, round(timeout * 1000)))
    return solver


# how often the waiting thread looks again (and re-sends the interrupt, which
# Z3 ignores if it arrives just before the query starts)
_POLL = 0.05


def check(solver: z3.Solver) -> tuple[z3.CheckSatResult, str]:
    """`solver.check()`, stoppable: (answer, why) where `why` is "" unless the
    answer is unknown, and then names the reason: the stop request
    ("interrupted (SIGINT)") or Z3's reason_unknown() ("timeout").

    The query runs in a daemon worker thread (it cannot keep the process
    alive); this thread waits in short joins, so a signal handler runs and the
    registered stop callback interrupts Z3. If this thread is torn away (a
    second signal raises stop.Abort), Z3 is interrupted before it returns."""
    reason = stop.requested()
    if reason:
        return z3.unknown, reason
    box: dict[str, Any] = {}

    def work() -> None:
        try:
            box["answer"] = solver.check()
        except z3.Z3Exception as exc:  # a canceled or resource-starved query
            box["error"] = exc

    interrupt = solver.ctx.interrupt
    worker = threading.Thread(target=work, name="z3-check", daemon=True)
    # A Z3 context is not thread-safe: no garbage collection in this thread may
    # drop (Z3_dec_ref) a term of the context while the worker is inside it.
    collecting = gc.isenabled()
    gc.disable()
    try:
        with stop.on_stop(interrupt):
            worker.start()
            try:
                while worker.is_alive():
                    worker.join(_POLL)
                    if stop.requested() and worker.is_alive():
                        interrupt()
            finally:
                if worker.is_alive():
                    interrupt()
                    worker.join(1.0)
    finally:
        if collecting:
            gc.enable()
    if "error" in box:
        return z3.unknown, stop.requested() or f"Z3 error: {box['error']}"
    answer = box["answer"]
    if answer == z3.unknown:
        return answer, stop.requested() or solver.reason_unknown() or "unknown"
    return answer, ""


def bmc(sym: Any, properties: list[str], depth: int,
        progress: Callable[[DepthTime, list[str]], None] | None = None,
        max_seconds: float | None = None, timeout: float | None = None) -> BmcResult:
    """Look for a violation of each named property within `depth` steps.

    `timeout`: seconds per Z3 query. A query that answers unknown (timeout,
    interrupt, resource limit) ends the search: `stopped` says where and why,
    `depth` is the last depth every pending property was decided at."""
    states = sym.state_properties()
    steps = sym.step_properties()
    for name in properties:
        if name not in states and name not in steps:
            raise KeyError(name)
    start = time.perf_counter()
    pending = list(properties)
    result = BmcResult(depth=-1, complete=False)

    def unknown(d: int, why: str) -> None:
        if stop.requested():
            result.stopped = stop.requested() or why
        else:
            result.stopped = f"Z3 answered unknown at depth {d} ({why})"
            result.unknown = why

    path: list[Any] = []
    constraints: list[Any] = []
    for d in range(depth + 1):
        if stop.requested():
            result.stopped = stop.requested() or ""
            break
        t0 = time.perf_counter()
        if d == 0:
            path.append(sym.fresh("s0"))
            constraints.append(sym.init(path[0]))
        else:
            path.append(sym.fresh(f"s{d}"))
            constraints.append(sym.trans(path[d - 1], path[d]))
        # A fresh bit-blasting solver per depth: on these finite problems it is
        # several times faster than one incremental solver kept across depths.
        solver = _solver(timeout)
        solver.add(constraints)
        if d > 0:
            answer, why = check(solver)
            if answer == z3.unsat:
                # no run has d steps: everything reachable was checked already
                result.complete = True
                result.times.append(DepthTime(d, time.perf_counter() - t0))
                break
            if answer != z3.sat:
                unknown(d, why)
                break
        # One query for all pending properties: "can any of them fail here?"
        # Usually not, and one unsat answer settles the depth; on sat, the
        # model shows which failed, and the rest are asked again.
        decided = True
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
            answer, why = check(solver)
            if answer == z3.unsat:
                solver.pop()
                break
            if answer != z3.sat:
                solver.pop()
                unknown(d, why)
                decided = False
                break
            m = solver.model()
            values = [sym.value(m, s) for s in path]
            for name, formula in bad.items():
                if z3.is_true(m.eval(formula, model_completion=True)):
                    result.found[name] = d
                    result.paths[name] = values
                    pending.remove(name)
            solver.pop()
        if not decided:
            break
        result.depth = d
        result.times.append(DepthTime(d, time.perf_counter() - t0))
        if progress:
            progress(result.times[-1], sorted(result.found))
        if not pending:
            break
        if max_seconds is not None and time.perf_counter() - start > max_seconds and d < depth:
            result.stopped = f"time limit of {max_seconds:g} s at depth {d}"
            break
    if not pending:  # every property was violated: nothing is left undecided
        result.stopped = result.unknown = ""
    result.seconds = time.perf_counter() - start
    return result


@dataclass
class InductionResult:
    initiation: bool  # Init => Inv (True only on Z3's unsat)
    consecution: bool  # Inv /\ Next => Inv'
    implies: dict[str, bool]  # Inv => property, per property decided
    seconds: float
    # a counterexample: the state(s) and which obligation failed
    failed: str = ""
    states: list[bytes] = field(default_factory=list)
    failed_conjunct: str = ""
    # obligation ("initiation", "consecution", "implies NAME") -> why Z3 did not
    # decide it ("timeout", "interrupted (SIGINT)")
    unknown: dict[str, str] = field(default_factory=dict)
    stopped: str = ""  # a stop request that ended the work early, else ""
    note: str = ""  # a caveat on the blamed conjunct (see `induct`)

    @property
    def proved(self) -> bool:
        return (self.initiation and self.consecution and all(self.implies.values())
                and not self.failed and not self.unknown and not self.stopped)

    @property
    def outcome(self) -> str:
        """"proved", "failed" (a counterexample: a real answer even if other
        obligations are undecided) or "unknown"."""
        if self.failed:
            return "failed"
        return "proved" if self.proved else "unknown"


def induct(sym: Any, invariant: Callable[[list], list[tuple[str, z3.BoolRef]]],
           properties: list[str], timeout: float | None = None) -> InductionResult:
    """Is the conjunction of `invariant(s)` (named conjuncts) inductive, and
    does it imply each property? Stops at the first failed obligation and
    returns its counterexample: one state (initiation, implication) or two
    (consecution: a state satisfying the invariant and a successor that
    does not, blaming the first conjunct in order that a step can break).

    An obligation holds only on Z3's unsat. One answered unknown (`timeout`
    seconds per query ran out, a resource limit) is recorded in `unknown` and
    the others are still asked (a later failure is a real counterexample); a
    stop request ends the work, the obligations after it not checked."""
    start = time.perf_counter()
    states = sym.state_properties()
    steps = sym.step_properties()
    s, t = sym.fresh("s"), sym.fresh("t")
    for name in properties:
        if name not in states and name not in steps:
            raise KeyError(name)
    inv_s = invariant(s)
    out = InductionResult(False, False, {}, 0.0)

    def ask(obligation: str, solver: z3.Solver) -> z3.CheckSatResult | None:
        """Z3's answer, or None when a stop was requested before the query."""
        if stop.requested():
            out.stopped = stop.requested() or ""
            return None
        answer, why = check(solver)
        if answer == z3.unknown:
            out.unknown[obligation] = why
            out.stopped = stop.requested() or ""
        return answer

    def done() -> InductionResult:
        out.seconds = time.perf_counter() - start
        return out

    solver = _solver(timeout)
    solver.add(sym.init(s), z3.Not(z3.And([f for _, f in inv_s])))
    answer = ask("initiation", solver)
    if answer == z3.sat:
        m = solver.model()
        out.failed, out.states = "initiation", [sym.value(m, s)]
        out.failed_conjunct = next(n for n, f in inv_s if z3.is_false(
            m.eval(f, model_completion=True)))
        return done()
    out.initiation = answer == z3.unsat
    if out.stopped:
        return done()
    inv_t = invariant(t)
    step = sym.trans(s, t)  # built once (seconds on large configurations), asked often
    solver = _solver(timeout)
    solver.add([f for _, f in inv_s])
    solver.add(step)
    solver.add(z3.Not(z3.And([f for _, f in inv_t])))
    answer = ask("consecution", solver)
    if answer == z3.sat:
        # Which conjunct to blame should not depend on the model Z3 happens to
        # pick: the first one, in order, that some step breaks.
        first = solver.model()
        undecided = []
        for name, f in inv_t:
            solver = _solver(timeout)
            solver.add([g for _, g in inv_s])
            solver.add(step, z3.Not(f))
            answer, _ = check(solver)
            if answer == z3.sat:
                m = solver.model()
                out.failed, out.states = "consecution", [sym.value(m, s), sym.value(m, t)]
                out.failed_conjunct = name
                break
            if answer == z3.unknown:
                undecided.append(name)
                if stop.requested():
                    break
        if not out.failed:
            # No per-conjunct answer: the step Z3 found first is still a real
            # counterexample; blame the first conjunct it breaks.
            out.failed, out.states = "consecution", [sym.value(first, s), sym.value(first, t)]
            out.failed_conjunct = next(n for n, f in inv_t if z3.is_false(
                first.eval(f, model_completion=True)))
        if undecided:
            out.note = (f"Z3 did not decide whether a step can break "
                        f"{', '.join(undecided)}: the blamed conjunct may not be the "
                        f"first in order")
        return done()
    out.consecution = answer == z3.unsat
    if out.stopped:
        return done()
    for name in properties:
        solver = _solver(timeout)
        solver.add([f for _, f in inv_s])
        if name in steps:  # a step property: on every step from the invariant
            solver.add(step, z3.Not(steps[name](s, t)))
        else:
            solver.add(z3.Not(states[name](s)))
        answer = ask(f"implies {name}", solver)
        if answer == z3.unsat:
            out.implies[name] = True
        elif answer == z3.sat:
            m = solver.model()
            out.implies[name] = False
            out.failed = f"implies {name}"
            out.states = [sym.value(m, s)] + ([sym.value(m, t)] if name in steps else [])
            break
        elif out.stopped:
            break
    return done()
