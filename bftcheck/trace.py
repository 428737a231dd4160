"""One trace format for every engine: (action, state) steps from an initial
state, rendered as a numbered story (the action, then only what changed)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from bftcheck.checker.interface import Model
from bftcheck.checker.result import Path
from bftcheck.config import Config

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
    loop: int | None = None  # a lasso: after the last step the run returns to this state

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
    return Trace(cfg, steps, prop, kind, path.loop)


def from_states(model: Model, cfg: Config, states: list[bytes], prop: str | None,
                kind: str = "violation", first: str = INIT) -> Trace:
    """Label a path of states found by another engine (Z3, TLC) with the
    model's own actions; ValueError if a step is not a transition of the model."""
    steps = [Step(first, states[0])]
    for i in range(1, len(states)):
        action = next((a for a, t in model.next_states(states[i - 1]) if t == states[i]), None)
        if action is None:
            raise ValueError(f"step {i} of the path is not a transition of the model")
        steps.append(Step(str(action), states[i]))
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


def reach(view: dict[str, Any]) -> dict[str, list[str]]:
    """With partitions: who has each correct message (message text -> names)."""
    return {_message(tag, m): m["seenBy"] for var, tag in MESSAGE_VARS
            for m in view[var] if "seenBy" in m}


def split_text(view: dict[str, Any]) -> str:
    comps = view["network"]["split"]
    return " | ".join("{" + ",".join(c) + "}" for c in comps) if comps else "whole"


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
    seen_before, seen_after = reach(before), reach(after)
    validators = len(_all_validators(after))
    for m in messages(after):
        if m in old:
            continue
        who = seen_after.get(m)  # Byzantine messages reach everyone (network.py)
        partial = who is not None and len(who) < validators
        lines.append(f"+ {m}" + (f", reaches {{{','.join(who)}}}" if partial else ""))
    grown: dict[tuple[str, ...], int] = {}
    for m, who in seen_after.items():
        if m in seen_before and seen_before[m] != who:
            gained = tuple(p for p in who if p not in seen_before[m])
            grown[gained] = grown.get(gained, 0) + 1
    for gained, count in sorted(grown.items()):
        lines.append(f"gossip: {{{','.join(gained)}}} now {'has' if len(gained) == 1 else 'have'}"
                     f" {count} more message{'s' if count > 1 else ''}")
    if "network" in after and before["network"] != after["network"]:
        lines.append(f"network: {split_text(before)} -> {split_text(after)} "
                     f"({after['network']['events']} partition events used)")
    if before["byzantineUsed"] != after["byzantineUsed"]:
        lines.append(f"byzantine messages used: {before['byzantineUsed']} -> "
                     f"{after['byzantineUsed']}")
    return lines


def _all_validators(view: dict[str, Any]) -> set[str]:
    """Every validator's name, correct or Byzantine (messages name their senders)."""
    names = set(view["height"])
    for var, _ in MESSAGE_VARS:
        names.update(m["src"] for m in view[var])
    return names | {p for m in reach(view).values() for p in m}


def render(model: Model, trace: Trace) -> str:
    """The trace as text: numbered steps, each the action and then the changes."""
    cfg = trace.config
    what = {"violation": "Counterexample to", "witness": "Witness of"}[trace.kind]
    head = f"{what} {trace.prop}" if trace.prop else "Trace"
    count = f"{len(trace)} step" + ("" if len(trace) == 1 else "s")
    lines = [f"{head}: {count} ({describe_config(cfg)})"]
    views = [model.decode(st.state) for st in trace.steps]
    first = views[0]
    lines.append(f"  0. {trace.steps[0].action}")
    for p in first["height"]:
        lines.append(f"       {p}: {describe_local(first, p)}")
    for m in messages(first):
        lines.append(f"       + {m}")
    for i in range(1, len(views)):
        lines.append(f"{i:3d}. {trace.steps[i].action}")
        for change in diff(views[i - 1], views[i]):
            lines.append(f"       {change}")
    if trace.loop is not None:
        lines.append(f"  the run is back in state {trace.loop} and repeats steps "
                     f"{trace.loop + 1}..{len(trace)} forever, fairly, without recovering")
    elif trace.kind == "violation" and trace.prop in ENDINGS:
        lines.append(f"  {ENDINGS[trace.prop]}")
    return "\n".join(lines)


# What the last state of a counterexample to a graph property means.
ENDINGS = {
    "recovery": "the network is whole, and from here no run (without a new split) reaches a "
                "state where every correct validator has decided every height",
    "fair-recovery": "the network is whole and no step is enabled, yet not every correct "
                     "validator has decided every height: a fair run that never recovers",
}


def describe_config(cfg: Config) -> str:
    byz = ", ".join(f"p{i + 1}" for i in range(cfg.n - cfg.byzantine, cfg.n)) or "none"
    text = (f"{cfg.name}: powers {','.join(map(str, cfg.powers))}, Byzantine {byz}"
            f" (budget {cfg.byz_budget}), heights {cfg.heights}, rounds {cfg.rounds}, "
            f"values {cfg.values}")
    if cfg.partitioned:
        pats = list(cfg.partitions) + [f"{len(cfg.components)} explicit"] * bool(cfg.components)
        text += f", partitions {'+'.join(pats)} (at most {cfg.max_partitions} events)"
    if cfg.mutant:
        text += f", mutant {cfg.mutant}"
    return text
