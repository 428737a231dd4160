"""Replay a trace against the Python model: every state must encode, the first
must be initial, every step must be a transition of the model; then each
property is evaluated along the run and the first failing step is shown."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from bftcheck.itf import TraceError
from bftcheck.model.interface import Model
from bftcheck.trace import INIT, Step, Trace


@dataclass
class ReplayReport:
    trace: Trace
    lines: list[str] = field(default_factory=list)
    failures: dict[str, int] = field(default_factory=dict)  # property -> first failing step

    @property
    def exit_code(self) -> int:
        return 1 if self.failures else 0


def replay(model: Model, trace_cfg: Any, steps: list[tuple[str, dict[str, Any]]],
           prop: str | None = None, source: str = "trace") -> ReplayReport:
    """Validate `steps` ((action label, view) pairs); raise TraceError if the
    trace is not a run of the model for its configuration."""
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
    report = ReplayReport(Trace(trace_cfg, [Step(INIT, states[0])], prop))
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
    return report
