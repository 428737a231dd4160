"""Traces as ITF JSON, the Informal Trace Format of Apalache and Quint.

Validator-indexed variables are ITF maps, message pools ITF sets of records,
ledgers sequences (JSON arrays). `#meta` carries the bftcheck configuration,
so `bftcheck replay` needs nothing but the file.
"""

from __future__ import annotations

import json
from pathlib import Path as FsPath
from typing import Any

from bftcheck.checker.interface import Model
from bftcheck.config import Config, ConfigError, Origin, read_input, shown
from bftcheck.trace import INIT, Trace

MAP_VARS = ("height", "round", "step", "lockedValue", "lockedRound", "validValue",
            "validRound", "decision")
SET_VARS = ("proposals", "prevotes", "precommits")
VARS = MAP_VARS + SET_VARS + ("byzantineUsed",)


class TraceError(ValueError):
    """A trace file that cannot be read or does not fit the model; one line."""


def to_itf(model: Model, trace: Trace) -> dict[str, Any]:
    states = []
    for i, step in enumerate(trace.steps):
        v = model.decode(step.state)
        st: dict[str, Any] = {"#meta": {"index": i, "action": step.action}}
        for var in MAP_VARS:
            st[var] = {"#map": [[p, x] for p, x in v[var].items()]}
        for var in SET_VARS:
            st[var] = {"#set": v[var]}
        st["byzantineUsed"] = v["byzantineUsed"]
        if "network" in v:
            st["network"] = v["network"]
        states.append(st)
    out = {
        "#meta": {
            "format": "ITF",
            "format-description": "https://apalache-mc.org/docs/adr/015adr-trace.html",
            "source": "bftcheck",
            "description": (f"{trace.kind} of {trace.prop}" if trace.prop else "trace"),
            "property": trace.prop,
            "kind": trace.kind,
            "config": trace.config.to_dict(),
        },
        "vars": list(VARS) + (["network"] if trace.config.partitioned else []),
        "states": states,
    }
    if trace.loop is not None:
        out["loop"] = trace.loop
    return out


def write_itf(path: str | FsPath, model: Model, trace: Trace) -> None:
    """Write atomically: a reader never sees a half-written trace."""
    from bftcheck.outputs import write_atomic

    write_atomic(path, json.dumps(to_itf(model, trace), indent=1) + "\n", "ITF trace")


# A trace nests a few levels deep (a set of records of lists); anything deeper
# is not a trace. Numbers in a trace are small; a longer one is refused unread.
MAX_DEPTH = 16
MAX_DIGITS = 30


def _plain(x: Any, where: str = "trace", depth: int = 0) -> Any:
    """ITF value -> plain Python (maps to dicts, sets and sequences to lists);
    TraceError, naming `where`, if the ITF structure is broken."""
    if depth > MAX_DEPTH:
        raise TraceError(f"{where} is nested more than {MAX_DEPTH} levels deep: the file is "
                         f"not a bftcheck trace")
    if isinstance(x, dict):
        if "#map" in x:
            pairs = x["#map"]
            if not isinstance(pairs, list) or not all(
                    isinstance(kv, list) and len(kv) == 2 for kv in pairs):
                raise TraceError(f"{where}: '#map' must be a list of [key, value] pairs")
            out = {}
            for k, v in pairs:
                key = _plain(k, where, depth + 1)
                if not isinstance(key, (str, int)):
                    raise TraceError(f"{where}: a '#map' key is {shown(key)}, not a name")
                if key in out:
                    raise TraceError(f"{where}: '#map' has {shown(key)} twice")
                out[key] = _plain(v, where, depth + 1)
            return out
        for tag in ("#set", "#tup"):
            if tag in x:
                if not isinstance(x[tag], list):
                    raise TraceError(f"{where}: '{tag}' must be a list, not {shown(x[tag])}")
                return [_plain(e, where, depth + 1) for e in x[tag]]
        if "#bigint" in x:
            text = x["#bigint"]
            digits = text[1:] if isinstance(text, str) and text[:1] == "-" else text
            if not (isinstance(digits, str) and digits.isascii() and digits.isdigit()):
                raise TraceError(f"{where}: '#bigint' must be a string of digits, not "
                                 f"{shown(text)}")
            if len(digits) > MAX_DIGITS:
                raise TraceError(f"{where}: '#bigint' has {len(digits)} digits: no variable "
                                 f"of the model is that large")
            return int(text)
        return {k: _plain(v, where, depth + 1) for k, v in x.items() if k != "#meta"}
    if isinstance(x, list):
        return [_plain(e, where, depth + 1) for e in x]
    return x


def _load_json(p: FsPath, text: str) -> Any:
    """JSON, refusing what no trace holds: NaN/Infinity, numbers of more than
    MAX_DIGITS digits, nesting deeper than the parser's stack."""
    def parse_int(digits: str) -> int:
        if len(digits.lstrip("-")) > MAX_DIGITS:
            raise TraceError(f"{p} holds a number of {len(digits.lstrip('-'))} digits: no "
                             f"variable of the model is that large; the file is damaged")
        return int(digits)

    def parse_constant(name: str) -> float:
        raise TraceError(f"{p} holds {name}, which is not a number a trace can hold: the file "
                         f"is damaged or not an ITF trace")

    if not text.strip():
        raise TraceError(f"{p} is empty: give an ITF trace, e.g. one written by "
                         f"'bftcheck check --trace-out'")
    try:
        return json.loads(text, parse_int=parse_int, parse_constant=parse_constant)
    except json.JSONDecodeError as exc:
        raise TraceError(f"{p} is not valid JSON ({exc.msg} at line {exc.lineno}): "
                         f"the file is truncated or not an ITF trace") from None
    except RecursionError:  # the parser's own limit on nesting
        raise TraceError(f"{p} is nested too deeply to be a trace: the file is not an ITF "
                         f"trace") from None


def read_itf(path: str | FsPath) -> tuple[Config, dict[str, Any], list[tuple[str, dict]]]:
    """Read an ITF file: its config, its #meta (with the top-level "loop", if
    any, as meta["loop"]), and (action, view) per state. Every state is checked
    against the configuration (`check_view`), so what reaches the model is
    well formed; any problem is a TraceError in the model's words."""
    p = FsPath(path)
    text = read_input(p, "trace file", TraceError)
    data = _load_json(p, text)
    if not isinstance(data, dict) or not isinstance(data.get("states"), list):
        raise TraceError(f"{p} is not an ITF trace: it needs a 'states' list")
    if "#meta" in data and not isinstance(data["#meta"], dict):
        raise TraceError(f"{p}: '#meta' must be an object, not {shown(data['#meta'])}")
    meta = data.get("#meta", {})
    if not isinstance(meta.get("config"), dict):
        raise TraceError(f"{p} has no bftcheck configuration in '#meta'.'config': "
                         f"write it with 'bftcheck check --trace-out'")
    source = f"{p} ('#meta'.'config')"
    try:
        conf = _plain(meta["config"], source)
        cfg = Config.from_dict(conf, source=source).validated(Origin.of_keys(source, conf))
    except ConfigError as exc:
        raise TraceError(str(exc)) from None
    if not data["states"]:
        raise TraceError(f"{p} has no states: the trace is empty")
    loop = data.get("loop")
    if loop is not None and (isinstance(loop, bool) or not isinstance(loop, int)
                             or not 0 <= loop < len(data["states"]) - 1):
        raise TraceError(f"{p}: 'loop' is {shown(loop)}, not the index of a state before the "
                         f"last (a lasso returns to an earlier state)")
    meta = {**meta, "loop": loop}
    wanted = VARS + (("network",) if cfg.partitioned else ())
    steps = []
    for i, st in enumerate(data["states"]):
        if not isinstance(st, dict):
            raise TraceError(f"{p}: state {i} is not a JSON object")
        missing = [v for v in wanted if v not in st]
        if missing:
            raise TraceError(f"{p}: state {i} lacks variable {missing[0]!r}: "
                             f"the file is truncated or from another tool")
        m = st.get("#meta") if isinstance(st.get("#meta"), dict) else {}
        action = m.get("action", INIT if i == 0 else "?")
        view = {v: _plain(st[v], f"{p}: state {i}, variable '{v}'") for v in wanted}
        check_view(cfg, view, f"{p}: state {i}")
        steps.append((action if isinstance(action, str) else shown(action), view))
    return cfg, meta, steps


STEP_NAMES = ("propose", "prevote", "precommit")


def check_view(cfg: Config, v: dict[str, Any], where: str) -> None:
    """TraceError unless `v` is well formed for `cfg`: every variable present
    with the right shape, validator names and values of this configuration,
    numbers in range. (Whether the state is reachable is replay's question.)"""
    from bftcheck.config import validator_index

    H, R, V = cfg.heights, cfg.rounds, cfg.values
    correct = [f"p{i + 1}" for i in range(cfg.n - cfg.byzantine)]
    values = ["nil", *(f"v{k}" for k in range(V)), "x"]

    def fail(var: str, what: str, fix: str = "") -> None:
        raise TraceError(f"{where}, variable '{var}': {what}"
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
