"""Traces as ITF JSON, the Informal Trace Format of Apalache and Quint.

Validator-indexed variables are ITF maps, message pools ITF sets of records,
ledgers sequences (JSON arrays). `#meta` carries the bftcheck configuration,
so `bftcheck replay` needs nothing but the file.
"""

from __future__ import annotations

import json
from pathlib import Path as FsPath
from typing import Any

from bftcheck.config import Config, ConfigError, read_input
from bftcheck.model.interface import Model
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


def _plain(x: Any) -> Any:
    """ITF value -> plain Python (maps to dicts, sets and sequences to lists)."""
    if isinstance(x, dict):
        if "#map" in x:
            return {_plain(k): _plain(v) for k, v in x["#map"]}
        if "#set" in x:
            return [_plain(e) for e in x["#set"]]
        if "#tup" in x:
            return [_plain(e) for e in x["#tup"]]
        if "#bigint" in x:
            return int(x["#bigint"])
        return {k: _plain(v) for k, v in x.items() if k != "#meta"}
    if isinstance(x, list):
        return [_plain(e) for e in x]
    return x


def read_itf(path: str | FsPath) -> tuple[Config, dict[str, Any], list[tuple[str, dict]]]:
    """Read an ITF file: its config, its #meta (with the top-level "loop", if
    any, as meta["loop"]), and (action, view) per state."""
    p = FsPath(path)
    text = read_input(p, "trace file", TraceError)
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise TraceError(f"{p} is not valid JSON ({exc.msg} at line {exc.lineno}): "
                         f"the file is truncated or not an ITF trace") from None
    if not isinstance(data, dict) or not isinstance(data.get("states"), list):
        raise TraceError(f"{p} is not an ITF trace: it needs a 'states' list")
    meta = data.get("#meta") if isinstance(data.get("#meta"), dict) else {}
    if not isinstance(meta.get("config"), dict):
        raise TraceError(f"{p} has no bftcheck configuration in '#meta'.'config': "
                         f"write it with 'bftcheck check --trace-out'")
    try:
        cfg = Config.from_dict(meta["config"], source=str(p)).validated()
    except ConfigError as exc:
        raise TraceError(str(exc)) from None
    if not data["states"]:
        raise TraceError(f"{p} has no states: the trace is empty")
    loop = data.get("loop")
    if loop is not None and (isinstance(loop, bool) or not isinstance(loop, int)
                             or not 0 <= loop < len(data["states"]) - 1):
        raise TraceError(f"{p}: 'loop' is {loop!r}, not the index of a state before the "
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
        steps.append((str(action), {v: _plain(st[v]) for v in wanted}))
    return cfg, meta, steps
