"""One trace format for every engine: (action, state) steps from an initial
state, rendered as a numbered story (the action, then only what changed)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from bftcheck.checker.result import Path
from bftcheck.config import Config
from bftcheck.model.interface import Model

INIT = "Init"
LOCAL_VARS = ("height", "round", "step", "lockedValue", "lockedRound", "validValue",
              "validRound", "decision")
MESSAGE_VARS = (("proposals", "PROPOSAL"), ("prevotes", "PREVOTE"), ("precommits", "PRECOMMIT"))


@dataclass
class Step:
    action: str
    state: bytes


@dataclass
class Trace:
    """A run of the model; `prop` names the property it violates (or witnesses)."""

    config: Config
    steps: list[Step]
    prop: str | None = None
    kind: str = "violation"  # or "witness"

    def __len__(self) -> int:
        return len(self.steps) - 1


def from_path(model: Model, cfg: Config, path: Path, prop: str | None,
              kind: str = "violation") -> Trace:
    """Re-run the model along an engine's path (positions in successor order)."""
    state = model.init_states()[path.init]
    steps = [Step(INIT, state)]
    for k in path.steps:
        action, state = list(model.next_states(state))[k]
        steps.append(Step(str(action), state))
    return Trace(cfg, steps, prop, kind)


def _message(tag: str, m: dict[str, Any]) -> str:
    text = f"{tag} h{m['height']} r{m['round']} {m['value']}"
    if "validRound" in m:
        text += f" vr{m['validRound']}"
    return f"{text} from {m['src']}"


def messages(view: dict[str, Any]) -> list[str]:
    out = []
    for var, tag in MESSAGE_VARS:
        out.extend(_message(tag, m) for m in view[var])
    return out


def describe_local(view: dict[str, Any], p: str) -> str:
    return (f"h{view['height'][p]} r{view['round'][p]} {view['step'][p]}, "
            f"locked {view['lockedValue'][p]}/{view['lockedRound'][p]}, "
            f"valid {view['validValue'][p]}/{view['validRound'][p]}, "
            f"ledger [{', '.join(ledger(view, p))}]")


def ledger(view: dict[str, Any], p: str) -> list[str]:
    """The decided prefix of a validator's decisions ("nil" marks undecided)."""
    out = []
    for v in view["decision"][p]:
        if v == "nil":
            break
        out.append(v)
    return out


def diff(before: dict[str, Any], after: dict[str, Any]) -> list[str]:
    """What changed between two views, one line each."""
    lines = []
    for p in after["height"]:
        for var in LOCAL_VARS:
            if before[var][p] != after[var][p]:
                lines.append(f"{p}.{var}: {before[var][p]} -> {after[var][p]}")
    old = set(messages(before))
    lines.extend(f"+ {m}" for m in messages(after) if m not in old)
    if before["byzantineUsed"] != after["byzantineUsed"]:
        lines.append(f"byzantine messages used: {before['byzantineUsed']} -> "
                     f"{after['byzantineUsed']}")
    return lines


def render(model: Model, trace: Trace) -> str:
    """The trace as text: numbered steps, each the action and then the changes."""
    cfg = trace.config
    what = {"violation": "Counterexample to", "witness": "Witness of"}[trace.kind]
    head = f"{what} {trace.prop}" if trace.prop else "Trace"
    lines = [f"{head}: {len(trace)} steps ({describe_config(cfg)})"]
    views = [model.decode(st.state) for st in trace.steps]
    first = views[0]
    lines.append(f"  0. {INIT}")
    for p in first["height"]:
        lines.append(f"       {p}: {describe_local(first, p)}")
    for m in messages(first):
        lines.append(f"       + {m}")
    for i in range(1, len(views)):
        lines.append(f"{i:3d}. {trace.steps[i].action}")
        for change in diff(views[i - 1], views[i]):
            lines.append(f"       {change}")
    return "\n".join(lines)


def describe_config(cfg: Config) -> str:
    byz = ", ".join(f"p{i + 1}" for i in range(cfg.n - cfg.byzantine, cfg.n)) or "none"
    text = (f"{cfg.name}: powers {','.join(map(str, cfg.powers))}, Byzantine {byz}"
            f" (budget {cfg.byz_budget}), heights {cfg.heights}, rounds {cfg.rounds}, "
            f"values {cfg.values}")
    if cfg.mutant:
        text += f", mutant {cfg.mutant}"
    return text
