"""How Tendermint's traces read: the configuration in a line, each validator's
local state, the messages sent, and what a step changed (who moved, what was
sent and to whom it reached, gossip, partitions, Byzantine draws). The trace
formats (bftcheck/trace.py, html.py, itf.py) know none of this; they ask the
model's `vocabulary` (checker/interface.py)."""

from __future__ import annotations

from typing import Any

from bftcheck.checker.interface import Vocabulary
from bftcheck.model import itf_view
from bftcheck.model.config import Config

LOCAL_VARS = ("height", "round", "step", "lockedValue", "lockedRound", "validValue",
              "validRound", "decision")
MESSAGE_VARS = (("proposals", "PROPOSAL"), ("prevotes", "PREVOTE"), ("precommits", "PRECOMMIT"))


class TendermintVocabulary(Vocabulary):
    """The story of a Tendermint run, and its ITF form (model/itf_view.py)."""

    def describe_config(self, config: Any) -> str:
        return describe_config(config)

    def initial(self, view: dict[str, Any]) -> list[str]:
        return ([f"{p}: {describe_local(view, p)}" for p in view["height"]]
                + [f"+ {m}" for m in messages(view)])

    def changes(self, before: dict[str, Any], after: dict[str, Any]) -> list[str]:
        return diff(before, after)

    def ending(self, prop: str) -> str | None:
        return ENDINGS.get(prop)

    def to_itf(self, view: dict[str, Any]) -> dict[str, Any]:
        return itf_view.to_itf(view)

    def itf_vars(self, config: Any) -> list[str] | None:
        return itf_view.variables(config)

    def from_itf(self, view: dict[str, Any], config: Any, where: str) -> dict[str, Any]:
        itf_view.check_view(config, view, where)
        return view


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
