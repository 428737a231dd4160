"""Replay a trace against the Python model: every state must encode, the first
must be initial, every step must be a transition of the model; then each
property is evaluated along the run and the first failing step is shown."""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from bftcheck.itf import TraceError
from bftcheck.model.interface import Model, Property
from bftcheck.trace import INIT, Step, Trace


@dataclass
class ReplayReport:
    trace: Trace
    lines: list[str] = field(default_factory=list)
    failures: dict[str, int] = field(default_factory=dict)  # property -> first failing step

    @property
    def exit_code(self) -> int:
        return 1 if self.failures else 0


# How far replay searches from the last state to confirm that no target is
# reachable (a Recovery counterexample ends in a state with a small future).
RECOVERY_SEARCH_LIMIT = 2_000_000


def replay(model: Model, trace_cfg: Any, steps: list[tuple[str, dict[str, Any]]],
           prop: str | None = None, source: str = "trace",
           loop: int | None = None) -> ReplayReport:
    """Validate `steps` ((action label, view) pairs); raise TraceError if the
    trace is not a run of the model for its configuration. Properties over the
    state graph are judged at the end: Recovery by searching the last state's
    future, liveness by the lasso (`loop`) or the last state being terminal."""
    states: list[bytes] = []
    for i, (_, v) in enumerate(steps):
        try:
            states.append(model.encode(v))
        except (KeyError, ValueError, TypeError, IndexError, AttributeError) as exc:
            raise TraceError(
                f"{source}: state {i} does not fit the configuration in the trace's #meta "
                f"({type(exc).__name__}: {exc}): the trace is damaged or from another "
                f"configuration") from None
    if states[0] not in model.init_states():
        raise TraceError(f"{source}: state 0 is not an initial state of the model")
    report = ReplayReport(Trace(trace_cfg, [Step(INIT, states[0])], prop, loop=loop))
    report.lines.append("state 0: initial state ok")
    for i in range(1, len(states)):
        label = steps[i][0]
        matches = [str(a) for a, t in model.next_states(states[i - 1]) if t == states[i]]
        if not matches:
            raise TraceError(f"{source}: step {i} ({label}) is not a transition of the model "
                             f"from state {i - 1}: the trace is not a run of this model")
        shown = label if label in matches else matches[0]
        note = "" if label in matches else f"  (trace says {label!r})"
        report.lines.append(f"step {i}: {shown} ok{note}")
        report.trace.steps.append(Step(shown, states[i]))
    for p in model.properties():
        if p.kind != "always":
            continue
        for i in range(len(states)):
            if p.scope == "state":
                fails = not p.check(states[i])
            else:
                fails = i > 0 and not p.check(states[i - 1], steps[i][0].split("(")[0], states[i])
            if fails:
                report.failures[p.name] = i
                break
    for p in model.properties():
        if p.kind in ("recovery", "liveness") and _graph_fails(model, p, states, loop, source):
            report.failures[p.name] = len(states) - 1
    return report


def _region(p: Property) -> Callable[[bytes], bool]:
    return p.region or (lambda _: True)


def _region_successors(model: Model, p: Property, s: bytes) -> list[bytes]:
    region = _region(p)
    return [t for _, t in model.next_states(s) if region(t)]


def _graph_fails(model: Model, p: Property, states: list[bytes], loop: int | None,
                 source: str) -> bool:
    """Whether the run shows a violation of graph property p (see interface.py)."""
    region = _region(p)
    last = states[-1]
    if p.kind == "liveness" and loop is not None:
        if states[loop] != last:
            raise TraceError(f"{source}: the lasso does not close: state {loop} differs from "
                             f"the last state")
        cycle = states[loop:]
        if len(cycle) < 2 or not all(region(s) for s in cycle) or any(p.check(s) for s in cycle):
            return False
        actor = p.actor or (lambda before, after: 0)
        taken = {actor(a, b) for a, b in zip(cycle, cycle[1:], strict=False)}
        # weak fairness: no actor may stay enabled all along the loop and never step
        always_enabled = set.intersection(*[
            {actor(s, t) for t in _region_successors(model, p, s)} for s in cycle[:-1]])
        return not (always_enabled - taken)
    if not region(last) or p.check(last):
        return False
    if p.kind == "liveness":
        return not _region_successors(model, p, last)
    # recovery: no target in the last state's future (within the region)
    seen = {last}
    frontier = deque([last])
    while frontier:
        s = frontier.popleft()
        for t in _region_successors(model, p, s):
            if t in seen:
                continue
            if p.check(t):
                return False
            seen.add(t)
            if len(seen) > RECOVERY_SEARCH_LIMIT:
                raise TraceError(f"{source}: the last state has more than "
                                 f"{RECOVERY_SEARCH_LIMIT:,} successors to search; cannot "
                                 f"confirm {p.name} fails there")
            frontier.append(t)
    return True
