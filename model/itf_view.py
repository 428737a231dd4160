"""Tendermint's variables in ITF (the Informal Trace Format of Apalache and
Quint): validator-indexed variables are ITF maps, message pools ITF sets of
records, ledgers sequences (JSON arrays). `check_view` tells a well-formed
view from a damaged one, in the model's words, before replay encodes it."""

from __future__ import annotations

from typing import Any

from bftcheck.model.config import Config, shown

MAP_VARS = ("height", "round", "step", "lockedValue", "lockedRound", "validValue",
            "validRound", "decision")
SET_VARS = ("proposals", "prevotes", "precommits")
VARS = MAP_VARS + SET_VARS + ("byzantineUsed",)


class ViewError(ValueError):
    """A state of a trace that does not fit its configuration; one line."""


def to_itf(view: dict[str, Any]) -> dict[str, Any]:
    st: dict[str, Any] = {}
    for var in MAP_VARS:
        st[var] = {"#map": [[p, x] for p, x in view[var].items()]}
    for var in SET_VARS:
        st[var] = {"#set": view[var]}
    st["byzantineUsed"] = view["byzantineUsed"]
    if "network" in view:
        st["network"] = view["network"]
    return st


def variables(cfg: Config) -> list[str]:
    return list(VARS) + (["network"] if cfg.partitioned else [])


STEP_NAMES = ("propose", "prevote", "precommit")


def check_view(cfg: Config, v: dict[str, Any], where: str) -> None:
    """ViewError unless `v` is well formed for `cfg`: every variable present
    with the right shape, validator names and values of this configuration,
    numbers in range. (Whether the state is reachable is replay's question.)"""
    from bftcheck.model.config import validator_index

    H, R, V = cfg.heights, cfg.rounds, cfg.values
    correct = [f"p{i + 1}" for i in range(cfg.n - cfg.byzantine)]
    values = ["nil", *(f"v{k}" for k in range(V)), "x"]

    def fail(var: str, what: str, fix: str = "") -> None:
        raise ViewError(f"{where}, variable '{var}': {what}"
                         + (f": {fix}" if fix else ": it does not fit the configuration in "
                                                    "#meta"))

    def number(var: str, who: str, x: Any, lo: int, hi: int) -> None:
        if isinstance(x, bool) or not isinstance(x, int):
            fail(var, f"{who} is {shown(x)}, not a whole number")
        if not lo <= x <= hi:
            fail(var, f"{who} is {shown(x)}, outside {lo}..{hi} for this configuration")

    def value(var: str, who: str, x: Any, allowed: list[str] = values) -> None:
        if x not in allowed:
            fail(var, f"{who} is {shown(x)}, not one of {', '.join(allowed)}")

    def validator(var: str, who: str, x: Any) -> int:
        i = validator_index(x)
        if i is None or i >= cfg.n:
            fail(var, f"{who} is {shown(x)}, not a validator of this configuration "
                      f"(p1..p{cfg.n})")
        return i

    for var in MAP_VARS:
        m = v[var]
        if not isinstance(m, dict):
            fail(var, f"it is {shown(m)}, not a map from validator to value")
        for key in m:
            if key not in correct:
                fail(var, f"it has an entry for {shown(key)}, which is not a correct validator "
                          f"of this configuration ({', '.join(correct)})")
        for p in correct:
            if p not in m:
                fail(var, f"it has no entry for {p}")
            x = m[p]
            if var == "height":
                number(var, p, x, 0, H)
            elif var == "round":
                number(var, p, x, 0, R - 1)
            elif var == "step":
                value(var, p, x, list(STEP_NAMES))
            elif var in ("lockedRound", "validRound"):
                number(var, p, x, -1, R - 1)
            elif var in ("lockedValue", "validValue"):
                value(var, p, x)
            else:  # decision: the ledger, one entry per height
                if not isinstance(x, list) or len(x) != H:
                    fail(var, f"{p}'s ledger is {shown(x)}, not a list of {H} entries")
                for h, d in enumerate(x):
                    value(var, f"{p}'s entry for height {h}", d)
    for var in SET_VARS:
        msgs = v[var]
        if not isinstance(msgs, list):
            fail(var, f"it is {shown(msgs)}, not a set of messages")
        for k, msg in enumerate(msgs):
            who = f"message {k + 1}"
            keys = ("height", "round", "src", "value") + (
                ("validRound",) if var == "proposals" else ())
            if not isinstance(msg, dict):
                fail(var, f"{who} is {shown(msg)}, not a record")
            for key in keys:
                if key not in msg:
                    fail(var, f"{who} has no '{key}'")
            number(var, f"{who}'s height", msg["height"], 0, H - 1)
            number(var, f"{who}'s round", msg["round"], 0, R - 1)
            src = validator(var, f"{who}'s src", msg["src"])
            h, r = msg["height"], msg["round"]
            if var == "proposals":
                if src != (h + r) % cfg.n:
                    fail(var, f"{who} is from {msg['src']}, who is not the proposer of "
                              f"height {h} round {r} (p{(h + r) % cfg.n + 1} is)")
                value(var, f"{who}'s value", msg["value"], values[1:])
                number(var, f"{who}'s validRound", msg["validRound"], -1, r - 1)
            else:
                value(var, f"{who}'s value", msg["value"])
            if cfg.partitioned and src < len(correct):
                seen = msg.get("seenBy")
                if not isinstance(seen, list):
                    fail(var, f"{who} has no 'seenBy' list of the validators it reached")
                for name in seen:
                    validator(var, f"a validator in {who}'s seenBy", name)
    number("byzantineUsed", "it", v["byzantineUsed"], 0, 255)
    if cfg.partitioned:
        net = v["network"]
        if not isinstance(net, dict) or not isinstance(net.get("split"), list):
            fail("network", f"it is {shown(net)}, not a record with 'split' and 'events'")
        for comp in net["split"]:
            if not isinstance(comp, list):
                fail("network", f"a component of the split is {shown(comp)}, not a list of "
                                f"validators")
            for name in comp:
                validator("network", "a member of the split", name)
        if "events" not in net:
            fail("network", "it has no 'events'")
        number("network", "'events'", net["events"], 0, cfg.max_partitions)
