"""Breadth-first explicit-state search over encoded states.

The driver knows only the model interface: it asks for initial states and
successors, stores fingerprints in the exploration core, checks every state
invariant on each new state and every action invariant on each step (also
steps into already-visited states), and rebuilds shortest counterexamples
from parent links. Breadth-first order makes every reported path a shortest
one to a violating state.
"""

from __future__ import annotations

import resource
import time
from array import array
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from bftcheck import stop
from bftcheck.checker.core import COMPILED, StateSpace
from bftcheck.checker.graph import GraphRecorder, cannot_reach_target, fair_cycle, unfair_runs
from bftcheck.checker.interface import Model, Property
from bftcheck.checker.result import (
    HOLDS,
    NOT_WITNESSED,
    UNKNOWN,
    VIOLATED,
    WITNESSED,
    Path,
    Result,
)
from bftcheck.memory import over_budget

Progress = Callable[[dict[str, float]], None]


@dataclass(frozen=True)
class Limits:
    max_states: int | None = None
    max_seconds: float | None = None
    max_memory: int | None = None  # bytes of RSS; the search stops before passing it
    stop_at_first_violation: bool = False  # e.g. to time how fast a bug is caught
    max_depth: int | None = None  # states this many steps deep are checked, not expanded


def depth_limit(limits: Limits) -> str:
    return f"depth limit of {limits.max_depth} reached"


# The reason a search stopped when it explored everything, and when it stopped
# because every checked property already had its answer (its evidence found).
COMPLETE, DECIDED = "complete", "every checked property was decided"


# States one poll interval may add at most (256 expansions of a few dozen
# successors): a growth due within it is counted against the memory budget.
GROWTH_HORIZON = 256 * 64


def _over_limit(limits: Limits, start: float, now: float, space: StateSpace) -> str | None:
    """Why the search must stop now (time, memory, an interrupt), or None."""
    reason = stop.requested()
    if reason:
        return reason
    if limits.max_seconds is not None and now - start >= limits.max_seconds:
        return f"time limit of {limits.max_seconds:g} s reached"
    until, size = space.next_growth()
    return over_budget(limits.max_memory, size if until <= GROWTH_HORIZON else 0)


def peak_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def collision_probability(distinct: int) -> float:
    """Probability that two of `distinct` states share a 64-bit fingerprint
    (birthday bound n^2 / 2^65): the chance the search silently missed a state."""
    return distinct * distinct / 2.0**65


def path_to(space: StateSpace, sid: int) -> Path:
    steps = []
    while space.parent(sid) >= 0:
        steps.append(space.action(sid))
        sid = space.parent(sid)
    steps.reverse()
    return Path(space.action(sid), steps)


def successor_function(model: Model) -> Callable[[bytes], tuple[list[bytes], list[str]]]:
    """(successor states, action names) of a state: the model's faster
    `successor_states` when it has one, else through `next_states`."""
    fast = getattr(model, "successor_states", None)
    if fast is not None:
        return fast

    def successor_states(s: bytes) -> tuple[list[bytes], list[str]]:
        succ = list(model.next_states(s))
        return [t for _, t in succ], [a.name for a, _ in succ]

    return successor_states


GRAPH_KINDS = ("recovery", "liveness")


def judge_graph(model: Model, successors: Callable[[bytes], tuple[list[bytes], list[str]]],
                space: StateSpace, graph: GraphRecorder, i: int,
                prop: Property) -> tuple[Path, int] | None:
    """After a complete search: the shortest counterexample to graph property i,
    or None if it holds. Recovery: a region state from which no target is
    reachable. Liveness: a terminal non-target state, or a lasso into a fair
    cycle without targets, whichever is reached first."""
    if prop.kind == "recovery":
        bad = cannot_reach_target(graph, i)
        if len(bad) == 0:
            return None
        sid = min(bad.tolist(), key=space.depth)  # indices grow with depth: the first
        return path_to(space, sid), space.depth(sid)
    def labelled(v: int) -> list[tuple[int, int]]:
        """Region edges out of state v with their actors (v rebuilt from its path)."""
        s = _state_at(model, successors, path_to(space, v))
        out = []
        for t in successors(s)[0]:
            w = space.index(t)
            if graph.regions[i][w]:
                out.append((w, prop.actor(s, t) if prop.actor else 0))
        return out

    runs = unfair_runs(graph, labelled, i)
    best: tuple[Path, int] | None = None
    if len(runs.terminals):
        sid = min(runs.terminals.tolist(), key=space.depth)
        best = path_to(space, sid), space.depth(sid)
    for members in runs.cycles:
        entry = min(members.tolist(), key=space.depth)
        walk = fair_cycle(labelled, members, entry)
        path = path_to(space, entry)
        state = _state_at(model, successors, path)
        loop_at = len(path.steps)
        for b in walk[1:]:
            succ, _ = successors(state)
            k = next(k for k, t in enumerate(succ) if space.index(t) == b)
            path.steps.append(k)
            state = succ[k]
        path.loop = loop_at
        if best is None or len(path.steps) < len(best[0].steps):
            best = path, len(path.steps)
    return best


def _state_at(model: Model, successors: Callable[[bytes], tuple[list[bytes], list[str]]],
              path: Path) -> bytes:
    state = model.init_states()[path.init]
    for k in path.steps:
        state = successors(state)[0][k]
    return state


def _judge_graphs(model: Model, successors: Any, space: StateSpace, graph: GraphRecorder,
                  graph_props: list[Property], found: dict[str, Path],
                  found_at: dict[str, int]) -> str | None:
    """Judge each graph property on the whole state graph, adding what fails
    to `found`; the reason, if a stop request cut the analysis short."""
    for i, p in enumerate(graph_props):
        if stop.requested():
            return f"{stop.requested()} while judging {p.name}"
        judged = judge_graph(model, successors, space, graph, i, p)
        if judged is not None:
            found[p.name], found_at[p.name] = judged
    return None


def _verdicts(properties: Sequence[Property], found: dict[str, Path], complete: bool,
              judged_graph: bool) -> dict[str, str]:
    """A property found is violated (or witnessed); one not found holds (or is
    not witnessed) only if the search that would have found it is complete."""
    verdicts: dict[str, str] = {}
    for p in properties:
        decided = judged_graph if p.kind in GRAPH_KINDS else complete
        if p.kind != "sometimes":
            verdicts[p.name] = VIOLATED if p.name in found else (HOLDS if decided else UNKNOWN)
        else:
            verdicts[p.name] = WITNESSED if p.name in found else (
                NOT_WITNESSED if complete else UNKNOWN)
    return verdicts


def check(model: Model, properties: Sequence[Property], limits: Limits = Limits(),
          progress: Progress | None = None, progress_every: float = 1.0,
          canonical: Callable[[bytes], bytes] | None = None,
          latency: str | None = None) -> Result:
    """Explore every reachable state (within limits) and check `properties`;
    with `canonical`, store each state's representative instead (symmetry
    reduction: paths then go through representatives, see symmetry.real_path).
    With `latency` (a liveness property with a `measure`), also measure how
    long its runs take when it holds (checker/latency.py)."""
    start = time.perf_counter()
    successors = successor_function(model)
    inits = model.init_states()
    if canonical is not None:
        inits = [canonical(s) for s in inits]
    if not inits:
        raise ValueError("the model has no initial state")
    space = StateSpace(len(inits[0]))
    graph_props = [p for p in properties if p.kind in GRAPH_KINDS]
    state_props = [p for p in properties if p.scope == "state" and p.kind not in GRAPH_KINDS]
    step_props = [p for p in properties if p.scope == "step"]
    found: dict[str, Path] = {}
    found_at: dict[str, int] = {}
    cut: dict[str, Path] = {}  # liveness runs a bound of the model ended (inconclusive)
    pending_always = {p.name for p in properties if p.kind == "always"}
    pending_sometimes = {p.name for p in properties if p.kind == "sometimes"}

    # Properties over the state graph each have their region and target; the
    # recorder keeps the flags per property and the edges inside their union.
    graph = GraphRecorder(len(graph_props)) if graph_props else None
    pending_graph = {p.name for p in graph_props}
    timed = next(i for i, p in enumerate(graph_props) if p.name == latency) \
        if latency is not None else None
    entries, measure = bytearray(), array("q")  # per state, for `latency`

    # recovery and fair-recovery share one target and region: evaluate each once
    graph_checks = list({id(p.check): p.check for p in graph_props}.values())
    check_of = [graph_checks.index(p.check) for p in graph_props]
    region_checks = list({id(p.region): p.region for p in graph_props}.values())
    region_of = [region_checks.index(p.region) for p in graph_props]

    def judge_state(s: bytes, sid: int) -> None:
        if graph is not None:
            values = [bool(c(s)) for c in graph_checks]
            inside = [region is None or bool(region(s)) for region in region_checks]
            graph.state(sid, [inside[k] for k in region_of], [values[k] for k in check_of])
            if timed is not None:
                prop = graph_props[timed]
                entries.append(sid < len(inits) and graph.regions[timed][sid])
                measure.append(prop.measure(s) if prop.measure and graph.regions[timed][sid]
                               else 0)
        for p in state_props:
            if p.name in found:
                continue
            holds = p.check(s)
            if (p.kind == "always") != holds:
                found[p.name] = path_to(space, sid)
                found_at[p.name] = space.depth(sid)
                (pending_always if p.kind == "always" else pending_sometimes).discard(p.name)

    for k, s in enumerate(inits):
        sid = space.add_initial(s, k)
        if sid >= 0:
            judge_state(s, sid)

    generated = len(inits)
    depth = 0
    stopped = COMPLETE
    next_report = start + progress_every
    check_every = 256
    expanded = 0
    active_steps = list(step_props)
    always_names = {p.name for p in properties if p.kind != "sometimes"}
    try:
        while pending_always or pending_sometimes or pending_graph:
            if limits.stop_at_first_violation and always_names & found.keys():
                break
            item = space.pop()
            if item is None:
                break
            s, sid = item
            d = space.depth(sid)
            if d > depth:
                depth = d
            if limits.max_depth is not None and d >= limits.max_depth:
                stopped = depth_limit(limits)  # this state and the rest of its level wait
                break
            succ, names = successors(s)
            generated += len(succ)
            if active_steps:
                for k, t in enumerate(succ):
                    for p in active_steps:
                        if p.name in found:
                            continue
                        if (p.kind == "always") != p.check(s, names[k], t):
                            path = path_to(space, sid)
                            path.steps.append(k)
                            found[p.name] = path
                            found_at[p.name] = d + 1
                            (pending_always if p.kind == "always" else pending_sometimes
                             ).discard(p.name)
                active_steps = [p for p in active_steps if p.name not in found]
            if canonical is not None:  # after the step checks, which see the real step
                succ = [canonical(t) for t in succ]
            first = len(space)
            if graph is None:
                new = space.add_successors(sid, succ)
            else:
                new, ids = space.add_successors_indexed(sid, succ)
            if state_props or graph is not None:
                for j, k in enumerate(new):
                    judge_state(succ[k], first + j)
            if timed is not None and not graph.regions[timed][sid]:
                for w in ids:  # a run enters the region here
                    if graph.regions[timed][w]:
                        entries[w] = 1
            if graph is not None and graph.region[sid]:
                for k in range(len(succ)):
                    if graph.region[ids[k]]:
                        graph.edge(sid, ids[k])
                for i, p in enumerate(graph_props):
                    inside = graph.regions[i]
                    if (inside[sid] and p.name not in found and not graph.targets[i][sid]
                            and not any(inside[w] for w in ids)):
                        # a terminal region state: no run from here reaches a
                        # target; a definite violation, found before the end,
                        # unless a bound of the model ended the run here
                        if p.inconclusive is not None and p.inconclusive(s):
                            cut.setdefault(p.name, path_to(space, sid))
                            graph.targets[i][sid] = 1  # ends a run: not a violation
                            continue
                        found[p.name] = path_to(space, sid)
                        found_at[p.name] = d
                        pending_graph.discard(p.name)
            expanded += 1
            if expanded % check_every == 0:
                now = time.perf_counter()
                over = _over_limit(limits, start, now, space)
                if over:
                    stopped = over
                    break
                if progress is not None and now >= next_report:
                    next_report = now + progress_every
                    progress({"generated": generated, "distinct": len(space),
                              "queued": space.queued, "depth": depth, "elapsed": now - start})
            if limits.max_states is not None and len(space) >= limits.max_states:
                stopped = f"state limit of {limits.max_states} reached"
                break
    except MemoryError:  # an allocation failed: end with what is known
        stopped = "out of memory (an allocation failed)"

    complete = space.queued == 0 and stopped == COMPLETE
    if not complete and stopped == COMPLETE:
        stopped = DECIDED
    judged_graph = complete
    if graph is not None and complete:
        why = _judge_graphs(model, successors, space, graph, graph_props, found, found_at)
        if why is not None:  # the state graph is whole, its analysis is not
            stopped, judged_graph = why, False
    complete = complete and judged_graph
    verdicts = _verdicts(properties, found, complete, judged_graph)
    for name in cut:
        if verdicts[name] == HOLDS:
            verdicts[name] = UNKNOWN  # no violation, but a run was cut short
    cut = {name: path for name, path in cut.items() if verdicts[name] == UNKNOWN}
    timing = None
    if timed is not None and verdicts[latency] == HOLDS:
        timing = _latency(model, successors, space, graph, timed, entries, measure)
    return Result(
        engine="check", verdicts=verdicts, complete=complete, distinct_states=len(space),
        generated_states=generated, depth=depth, seconds=time.perf_counter() - start,
        peak_rss_mib=peak_rss_mib(), collision_probability=collision_probability(len(space)),
        compiled_core=COMPILED and space.compiled,
        compiled_rules=bool(getattr(model, "compiled", False)), stopped=stopped, paths=found,
        found_at=found_at, cut=cut, latency=timing,
    )


def _latency(model: Model, successors: Any, space: StateSpace, graph: GraphRecorder, i: int,
             entries: bytearray, measure: array) -> dict[str, Any] | None:
    """The latency figures and the worst run as a Path from an initial state."""
    from bftcheck.checker.latency import latency

    figures = latency(graph, i, entries, measure)
    if figures is None:
        return None
    path = path_to(space, figures.worst_run[0])
    state = _state_at(model, successors, path)
    for b in figures.worst_run[1:]:
        succ, _ = successors(state)
        k = next(k for k, t in enumerate(succ) if space.index(t) == b)
        path.steps.append(k)
        state = succ[k]
    return {"worst_steps": figures.worst_steps, "best_steps": figures.best_steps,
            "worst_measure": figures.worst_measure, "best_measure": figures.best_measure,
            "entries": figures.entries, "worst_entry_depth": space.depth(figures.worst_run[0]),
            "worst_path": path}
