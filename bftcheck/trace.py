"""One trace format for every engine and every model: (action, state) steps
from an initial state, rendered as a numbered story (the action, then only what
changed). What the lines say comes from the model's vocabulary
(checker/interface.py); this module knows no protocol."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from bftcheck.checker.interface import Model, vocabulary
from bftcheck.checker.result import Path

INIT = "Init"


@dataclass
class Step:
    action: str
    state: bytes
    actor: str | None = None  # who took the step (the action's `validator`), if known


@dataclass
class Trace:
    """A run of the model; `prop` names the property it violates (or witnesses).
    `config` is the model's configuration (it has `to_dict()` for trace files)."""

    config: Any
    steps: list[Step]
    prop: str | None = None
    kind: str = "violation"  # or "witness"
    loop: int | None = None  # a lasso: after the last step the run returns to this state

    def __len__(self) -> int:
        return len(self.steps) - 1


def from_path(model: Model, cfg: Any, path: Path, prop: str | None,
              kind: str = "violation") -> Trace:
    """Re-run the model along an engine's path (positions in successor order)."""
    state = model.init_states()[path.init]
    steps = [Step(INIT, state)]
    for k in path.steps:
        action, state = list(model.next_states(state))[k]
        steps.append(Step(str(action), state, actor_of(action)))
    return Trace(cfg, steps, prop, kind, path.loop)


def from_states(model: Model, cfg: Any, states: list[bytes], prop: str | None,
                kind: str = "violation", first: str = INIT) -> Trace:
    """Label a path of states found by another engine (Z3, TLC) with the
    model's own actions; ValueError if a step is not a transition of the model."""
    steps = [Step(first, states[0])]
    for i in range(1, len(states)):
        action = next((a for a, t in model.next_states(states[i - 1]) if t == states[i]), None)
        if action is None:
            raise ValueError(f"step {i} of the path is not a transition of the model")
        steps.append(Step(str(action), states[i], actor_of(action)))
    return Trace(cfg, steps, prop, kind)


def actor_of(action: Any) -> str | None:
    """The actor an action names (an `Action`'s validator), else None."""
    actor = getattr(action, "validator", None)
    return actor if isinstance(actor, str) else None


def title(trace: Trace) -> str:
    what = {"violation": "Counterexample to", "witness": "Witness of"}[trace.kind]
    return f"{what} {trace.prop}" if trace.prop else "Trace"


def story(model: Model, trace: Trace) -> list[tuple[str, list[str]]]:
    """(action, lines) per state: the initial state in full, then what each step changed."""
    words = vocabulary(model)
    views = [model.decode(st.state) for st in trace.steps]
    out = [(trace.steps[0].action, words.initial(views[0]))]
    for i in range(1, len(views)):
        out.append((trace.steps[i].action, words.changes(views[i - 1], views[i])))
    return out


def conclusion(model: Model, trace: Trace) -> str | None:
    """The line that ends the story: a lasso's loop, or what the last state of
    a counterexample to a graph property means."""
    if trace.loop is not None:
        return (f"the run is back in state {trace.loop} and repeats steps "
                f"{trace.loop + 1}..{len(trace)} forever, fairly, without recovering")
    if trace.kind == "violation" and trace.prop is not None:
        return vocabulary(model).ending(trace.prop)
    return None


def render(model: Model, trace: Trace) -> str:
    """The trace as text: numbered steps, each the action and then the changes."""
    count = f"{len(trace)} step" + ("" if len(trace) == 1 else "s")
    config = vocabulary(model).describe_config(trace.config)
    lines = [f"{title(trace)}: {count} ({config})"]
    for i, (action, changes) in enumerate(story(model, trace)):
        lines.append(f"{i:3d}. {action}")
        lines.extend(f"       {change}" for change in changes)
    end = conclusion(model, trace)
    if end is not None:
        lines.append(f"  {end}")
    words = vocabulary(model)
    if trace.kind == "violation" and trace.prop and words.explained(trace.prop):
        views = [model.decode(st.state) for st in trace.steps]
        lines.extend(f"  {line}" for line in words.verdict(
            trace.prop, trace.config, views, trace.steps[-1].state))
    return "\n".join(lines)
