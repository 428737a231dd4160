"""Replay a trace against the Python model: every state must encode, the first
must be initial, every step must be a transition of the model; then each
property is evaluated along the run and the first failing step is shown."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from bftcheck.checker.graph import SearchTooLarge, fair_lasso, reaches
from bftcheck.checker.interface import UNMET, Model, Property, run_end
from bftcheck.inputs import shown
from bftcheck.itf import TraceError
from bftcheck.outcome import EXIT_CLAIM_REFUTED, EXIT_OK, EXIT_VIOLATION, Incomplete
from bftcheck.trace import INIT, Step, Trace, actor_of


@dataclass
class ReplayReport:
    """What a replay found. `claimed` is the property the trace claims (its
    #meta.property), `kind` what it claims: a "violation" of it (the default)
    or a "witness" of a reachability property."""

    trace: Trace
    lines: list[str] = field(default_factory=list)
    failures: dict[str, int] = field(default_factory=dict)  # property -> first failing step
    claimed: str | None = None
    kind: str = "violation"
    witnessed: int | None = None  # the step a claimed witness is seen at

    @property
    def confirmed(self) -> bool | None:
        """Whether the claim holds along the run (None: nothing is claimed)."""
        if self.claimed is None:
            return None
        if self.kind == "witness":
            return self.witnessed is not None
        return self.claimed in self.failures

    @property
    def outcome(self) -> str:
        if self.confirmed is None:
            return "violation" if self.failures else "no-violation"
        return "claim-confirmed" if self.confirmed else "claim-refuted"

    @property
    def exit_code(self) -> int:
        """1 a counterexample (the claimed violation, or for a trace that claims
        nothing any failure), 5 a legal run whose claim does not occur, 0 a run
        with nothing failing (a claimed witness seen, or nothing claimed)."""
        if self.confirmed is False:
            return EXIT_CLAIM_REFUTED
        return EXIT_VIOLATION if self.failures else EXIT_OK


# How far replay searches from the last state to confirm that no target is
# reachable (a Recovery counterexample ends in a state with a small future).
RECOVERY_SEARCH_LIMIT = 2_000_000

KINDS = ("violation", "witness")


def check_claim(model: Model, prop: Any, kind: Any = "violation", source: str = "trace") -> None:
    """TraceError unless `prop` (None: no claim) names a property of `model`
    that a trace of `kind` can claim."""
    if kind not in KINDS:
        raise TraceError(f"{source}: '#meta'.'kind' is {shown(kind)}: a trace claims a "
                         f"'violation' or a 'witness'")
    if prop is None:
        return
    catalogue = {p.name: p for p in model.properties()}
    if not isinstance(prop, str) or prop not in catalogue:
        raise TraceError(f"{source}: the trace claims unknown property {shown(prop)}: known "
                         f"properties of its configuration are {', '.join(catalogue)}")
    witness = catalogue[prop].kind == "sometimes"
    if witness and kind == "violation":
        raise TraceError(f"{source}: the trace claims a violation of {prop}, a reachability "
                         f"witness no run can violate: set '#meta'.'kind' to 'witness'")
    if kind == "witness" and not witness:
        raise TraceError(f"{source}: the trace claims a witness of {prop}, which is not a "
                         f"reachability property: set '#meta'.'kind' to 'violation'")


def replay(model: Model, trace_cfg: Any, steps: list[tuple[str, dict[str, Any]]],
           prop: str | None = None, source: str = "trace",
           loop: int | None = None, kind: str = "violation") -> ReplayReport:
    """Validate `steps` ((action label, view) pairs); raise TraceError if the
    trace is not a run of the model for its configuration, or claims what no
    trace can. Properties over the state graph are judged at the end: Recovery
    by searching the last state's future, liveness by the lasso (`loop`) or the
    last state being terminal. A `loop` must close: the state at `loop` is the
    last state, whatever the trace claims (the step back is then a real step)."""
    check_claim(model, prop, kind, source)
    states: list[bytes] = []
    for i, (_, v) in enumerate(steps):
        try:
            s = model.encode(v)
        except (KeyError, ValueError, TypeError, IndexError, AttributeError) as exc:
            # the vocabulary's from_itf refuses what it can name; this is what only the
            # encoding sees (e.g. a split that is not configured)
            raise TraceError(
                f"{source}: state {i} does not fit the configuration in the trace's #meta "
                f"({shown(str(exc), 80)}): the trace is damaged or from another "
                f"configuration") from None
        back = model.decode(s)
        missing = [var for var in back if var not in v]
        if missing:  # the encoding filled it in: the trace does not say it
            raise TraceError(f"{source}: state {i} lacks variable {missing[0]!r}: the file is "
                             f"truncated or from another model")
        for var in v:
            if _canonical(back.get(var)) != _canonical(v[var]):
                raise TraceError(
                    f"{source}: state {i}, variable '{var}' is not a state of the model (it "
                    f"holds a message twice, two votes of one validator in one round, or a "
                    f"message the model does not keep): the trace is damaged")
        states.append(s)
    if loop is not None and states[loop] != states[-1]:
        raise TraceError(f"{source}: the lasso does not close: 'loop' is {loop}, but state "
                         f"{loop} differs from the last state {len(states) - 1}: fix 'loop' "
                         f"or drop it")
    if states[0] not in model.init_states():
        raise TraceError(f"{source}: state 0 is not an initial state of the model")
    report = ReplayReport(Trace(trace_cfg, [Step(INIT, states[0])], prop, kind, loop=loop),
                          claimed=prop, kind=kind)
    report.lines.append("state 0: initial state ok")
    names = [INIT]
    for i in range(1, len(states)):
        label = steps[i][0]
        matches = {str(a): a for a, t in model.next_states(states[i - 1]) if t == states[i]}
        if not matches:
            raise TraceError(f"{source}: step {i} ({shown(label, 60)}) is not a transition of "
                             f"the model from state {i - 1}: the trace is not a run of this "
                             f"model")
        shown_label = label if label in matches else next(iter(matches))
        note = "" if label in matches else f"  (trace says {shown(label, 60)})"
        report.lines.append(f"step {i}: {shown_label} ok{note}")
        action = matches[shown_label]
        report.trace.steps.append(Step(shown_label, states[i], actor_of(action)))
        names.append(getattr(action, "name", shown_label))
    for p in model.properties():
        if p.kind not in ("always", "sometimes"):
            continue
        for i in range(len(states)):
            if p.scope == "state":
                holds = p.check(states[i])
            else:
                holds = i == 0 or p.check(states[i - 1], names[i], states[i])
            if p.kind == "always" and not holds:
                report.failures[p.name] = i
                break
            if p.kind == "sometimes" and holds and (p.scope == "state" or i > 0):
                if p.name == prop:
                    report.witnessed = i
                break
    for p in model.properties():
        if p.kind in ("recovery", "liveness") and _graph_fails(model, p, states, loop, source):
            report.failures[p.name] = len(states) - 1
    return report


def _canonical(x: Any) -> Any:
    """A variable's value with set order (messages, seenBy, split) ignored."""
    if isinstance(x, dict):
        return tuple(sorted((k, _canonical(v)) for k, v in x.items()))
    if isinstance(x, list):
        items = [_canonical(e) for e in x]
        if all(isinstance(e, tuple) for e in items) or all(isinstance(e, str) for e in items):
            return tuple(sorted(items, key=repr))
        return tuple(items)
    return x


def _graph_fails(model: Model, p: Property, states: list[bytes], loop: int | None,
                 source: str) -> bool:
    """Whether the run shows a violation of graph property p (see checker/interface.py)."""
    region = p.region or (lambda _: True)

    def successors(s: bytes) -> list[bytes]:
        return [t for _, t in model.next_states(s) if region(t)]

    last = states[-1]
    if p.kind == "liveness" and loop is not None:
        cycle = states[loop:]
        if len(cycle) < 2 or not all(region(s) for s in cycle) or any(p.check(s) for s in cycle):
            return False
        return fair_lasso(cycle, successors, p.actor or (lambda before, after: 0))
    if not region(last) or p.check(last):
        return False
    if p.kind == "liveness":
        return run_end(p, last, successors(last)) == UNMET
    try:  # recovery: no target in the last state's future (within the region)
        return not reaches(last, successors, p.check, RECOVERY_SEARCH_LIMIT)
    except SearchTooLarge:
        raise Incomplete(f"{source}: the last state has more than "
                         f"{RECOVERY_SEARCH_LIMIT:,} successors to search, so replay "
                         f"cannot tell whether {p.name} fails there; check the "
                         f"configuration with 'bftcheck check' instead") from None
