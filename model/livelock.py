"""How a termination counterexample reads: why no decision can come, and who
voted and locked on what, round after round, from the run's views."""

from __future__ import annotations

from typing import Any


def undecided(view: dict[str, Any], heights: int) -> list[str]:
    return [p for p, h in view["height"].items() if h < heights]


def why_stuck(config: Any, last: bytes) -> str:
    """The last state's reading: stopped by the round bound after the round in
    which Algorithm 1 guarantees a decision, or with no step at all."""
    from bftcheck.model.properties import round_bounded
    from bftcheck.model.tendermint import TendermintModel

    model = TendermintModel(config)
    bounded = [ci for ci in range(len(model.lay.correct)) if round_bounded(model, last, ci)]
    if not bounded:
        return ("No step is enabled in the last state and not every correct validator has "
                "decided: the run is stuck (a deadlock), whatever the round bound.")
    names = ", ".join(model.names[model.lay.correct[ci]] for ci in bounded)
    return (f"The run reached round {config.rounds - 1}, the last of the bound, undecided "
            f"({names} would start round {config.rounds}). It is past a round in which "
            f"Algorithm 1 guarantees a decision (at or after GST, every correct validator "
            f"prevoted one value, or one holding the highest validRound proposed), so the "
            f"bound did not cut it short: the rounds go on without a decision (a livelock).")


def rounds_table(config: Any, views: list[dict[str, Any]]) -> list[str]:
    """Per round of the first undecided height: the proposal, the votes, and the
    locks each correct validator held when it left the round."""
    last = views[-1]
    open_heights = [view_h for view_h in last["height"].values() if view_h < config.heights]
    if not open_heights:
        return []
    h = min(open_heights)
    top = max(r for v in views for p, r in v["round"].items() if v["height"][p] == h)
    lines = []
    for r in range(top + 1):
        lines.append(_round_line(config, views, h, r))
    return lines


def _votes(view: dict[str, Any], var: str, h: int, r: int) -> str:
    got = [f"{m['src']} {m['value']}" for m in view[var] if m["height"] == h and m["round"] == r]
    return ", ".join(sorted(got)) or "none"


def _round_line(config: Any, views: list[dict[str, Any]], h: int, r: int) -> str:
    last = views[-1]
    proposer = f"p{(h + r) % config.n + 1}"
    proposals = [f"{m['value']} vr{m['validRound']}" for m in last["proposals"]
                 if m["height"] == h and m["round"] == r]
    gst = " (GST)" if config.gst == r and h == 0 else ""
    locks = []
    for p in last["height"]:
        held = [v for v in views if v["height"][p] == h and v["round"][p] == r]
        if held:
            at = held[-1]
            locks.append(f"{p} {at['lockedValue'][p]}/{at['lockedRound'][p]}")
    return (f"round {r}{gst}, proposer {proposer}: proposal {', '.join(proposals) or 'none'}; "
            f"prevotes {_votes(last, 'prevotes', h, r)}; precommits "
            f"{_votes(last, 'precommits', h, r)}; locks on leaving {', '.join(locks) or '-'}")


def verdict(config: Any, views: list[dict[str, Any]], last: bytes) -> list[str]:
    """The termination counterexample in sentences, then round after round."""
    waiting = undecided(views[-1], config.heights)
    return ([why_stuck(config, last),
             f"Undecided: {', '.join(waiting)}. Round after round (value/round of each lock):"]
            + rounds_table(config, views))
