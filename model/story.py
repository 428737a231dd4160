"""How Tendermint's traces read: the configuration in a line, each validator's
local state, the messages sent, and what a step changed (who moved, what was
sent and to whom it reached, gossip, partitions, Byzantine draws). The trace
formats (bftcheck/trace.py, html.py, itf.py) know none of this; they ask the
model's `vocabulary` (checker/interface.py)."""

from __future__ import annotations

from typing import Any

from bftcheck.checker.interface import Arrow, Lane, Mark, Scene, Vocabulary
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

    def lanes(self, config: Any, view: dict[str, Any]) -> list[Lane]:
        return [Lane(f"p{i + 1}", faulty=i >= config.n - config.byzantine)
                for i in range(config.n)]

    def initial_scene(self, view: dict[str, Any]) -> Scene:
        return Scene(arrows=new_messages(None, view), split=_split(view))

    def scene(self, before: dict[str, Any], after: dict[str, Any]) -> Scene:
        return Scene(arrows=new_messages(before, after), marks=marks(before, after),
                     split=_split(after))

    def verdict(self, prop: str, config: Any, views: list[dict[str, Any]],
                last: bytes) -> list[str]:
        if prop == "termination":
            from bftcheck.model import livelock

            return livelock.verdict(config, views, last)
        if prop == "valid-block":
            return valid_block_verdict(config, last)
        if prop not in ("agreement", "ledger-consistency", "accountability"):
            return []
        return fork_verdict(config, views, last)

    def explained(self, prop: str) -> bool:
        return prop in ("termination", "valid-block")

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


def _split(view: dict[str, Any]) -> list[list[str]] | None:
    return view.get("network", {}).get("split") or None


def new_messages(before: dict[str, Any] | None, after: dict[str, Any]) -> list[Arrow]:
    """The step's new messages (all of them after no state) as arrows to whom
    they reached (a Byzantine sender's reach everyone: network.py)."""
    old = {(var, _key(m)) for var, _ in MESSAGE_VARS for m in (before or {}).get(var, [])}
    correct = set(after["height"])
    arrows = []
    for var, tag in MESSAGE_VARS:
        for m in after[var]:
            if (var, _key(m)) in old:
                continue
            label = _message(tag, m).rsplit(" from ", 1)[0]
            to = tuple(p for p in m["seenBy"] if p != m["src"]) if "seenBy" in m else None
            arrows.append(Arrow(m["src"], label, to, faulty=m["src"] not in correct))
    return arrows


def _key(m: dict[str, Any]) -> tuple[Any, ...]:
    return tuple(v for k, v in sorted(m.items()) if k != "seenBy")


def marks(before: dict[str, Any], after: dict[str, Any]) -> list[Mark]:
    """Locks, decisions, new rounds and heights, and gossip, on the lanes."""
    out = []
    for p in after["height"]:
        new_height = before["height"][p] != after["height"][p]  # the lock resets: no mark
        if not new_height and (before["lockedValue"][p], before["lockedRound"][p]) != (
                after["lockedValue"][p], after["lockedRound"][p]):
            value = after["lockedValue"][p]
            out.append(Mark(p, "unlock" if value == "nil" else
                            f"lock {value} r{after['lockedRound'][p]}", "lock"))
        decided = zip(before["decision"][p], after["decision"][p], strict=True)
        for h, (old, new) in enumerate(decided):
            if old != new:
                out.append(Mark(p, f"decide {new} at h{h}", "decide"))
        if new_height:
            out.append(Mark(p, f"height {after['height'][p]}"))
        elif before["round"][p] != after["round"][p]:
            out.append(Mark(p, f"round {after['round'][p]}"))
    seen_before = reach(before)
    gained: dict[str, int] = {}
    for m, who in reach(after).items():
        for p in who:
            if m in seen_before and p not in seen_before[m]:
                gained[p] = gained.get(p, 0) + 1
    out += [Mark(p, f"+{n} by gossip") for p, n in sorted(gained.items())]
    return out


def fork_verdict(config: Any, views: list[dict[str, Any]], last: bytes) -> list[str]:
    """Who decided what at which step, and who is provably faulty and why."""
    from bftcheck.model.state import Layout

    first: dict[tuple[str, int], tuple[str, int]] = {}  # (p, h) -> (value, step)
    for step, view in enumerate(views):
        for p, decided in view["decision"].items():
            for h, v in enumerate(decided):
                if v != "nil" and (p, h) not in first:
                    first[p, h] = (v, step)
    lay = Layout(config)
    lines = []
    for h in range(config.heights):
        at = {p: vs for (p, hh), vs in first.items() if hh == h}
        if len({v for v, _ in at.values()}) < 2:
            continue
        said = ", ".join(f"{p} decided {v} at step {step}" for p, (v, step) in
                         sorted(at.items(), key=lambda kv: kv[1][1]))
        lines.append(f"A fork at height {h}: {said}. Correct validators decided "
                     f"differently.")
        lines += _accused(lay, config, last, h)
    return lines


def valid_block_verdict(config: Any, last: bytes) -> list[str]:
    """Who locked what in which round, and who left that round without
    recording it as its valid value (what it prevoted instead)."""
    from bftcheck.model.properties import valid_block_breach
    from bftcheck.model.state import NIL, VALID_ROUND, VALID_VALUE, Layout

    lay = Layout(config)
    breach = valid_block_breach(lay, config.gst, last)
    if breach is None:
        return []
    h, r, lockers, ci = breach
    name = lay.value_name
    locked = ", ".join(f"p{c + 1} locked {name(last[lay.precommit(c, h, r)])}" for c in lockers)
    b = lay.local[ci]
    valid = f"{name(last[b + VALID_VALUE] or NIL)}/{last[b + VALID_ROUND] - 1}"
    prevote = last[lay.prevote(ci, h, r)]
    said = f"it prevoted {name(prevote)}" if prevote else "it sent no prevote"
    return [f"At height {h}, round {r} (at or after GST): {locked}; p{ci + 1} left the round "
            f"with valid value {valid} ({said} in round {r}), so a later correct proposer "
            f"may not re-propose the locked value."]


def _accused(lay: Any, config: Any, last: bytes, h: int) -> list[str]:
    """The provably faulty at height h, why, and their share of the power."""
    from bftcheck.model.properties import evidence

    why = {i: evidence(lay, last, i, h) for i in range(config.n)}
    guilty = [i for i in why if why[i]]
    if not guilty:
        return ["No validator is provably faulty from the messages correct validators "
                "acted on."]
    lines = [f"p{i + 1} is provably faulty: it " + "; it ".join(why[i]) + "."
             for i in guilty]
    power = sum(config.powers[i] for i in guilty)
    total = sum(config.powers)
    share = "more than" if 3 * power > total else "at most"
    byzantine = [f"p{i + 1}" for i in range(config.n - config.byzantine, config.n)]
    lines.append(f"The provably faulty hold {power} of {total} voting power, {share} 1/3 "
                 f"(Byzantine in this configuration: {', '.join(byzantine) or 'none'}).")
    return lines


# What the last state of a counterexample to a graph property means.
ENDINGS = {
    "recovery": "the network is whole, and from here no run (without a new split) reaches a "
                "state where every correct validator has decided every height",
    "termination": "after GST no step is enabled here within the round bound, yet not every "
                   "correct validator has decided every height",
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
    if cfg.gst is not None:
        text += f", synchronous from round {cfg.gst} (GST)"
    if cfg.mutant:
        text += f", mutant {cfg.mutant}"
    return text
