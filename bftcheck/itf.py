"""Traces as ITF JSON, the Informal Trace Format of Apalache and Quint.

How a model's variables look in ITF is the model's vocabulary
(checker/interface.py); this module knows no protocol. `#meta` carries the
model's configuration and, for a model other than Tendermint, the reference
of the plug-in that builds it, so `bftcheck replay` needs nothing but the file.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path as FsPath
from typing import Any

from bftcheck.checker.interface import Model, vocabulary
from bftcheck.inputs import InputError, read_input, shown
from bftcheck.trace import INIT, Trace


class TraceError(InputError):
    """A trace file that cannot be read or does not fit the model; one line."""


def to_itf(model: Model, trace: Trace) -> dict[str, Any]:
    words = vocabulary(model)
    states = []
    for i, step in enumerate(trace.steps):
        st: dict[str, Any] = {"#meta": {"index": i, "action": step.action}}
        st.update(words.to_itf(model.decode(step.state)))
        states.append(st)
    meta: dict[str, Any] = {
        "format": "ITF",
        "format-description": "https://apalache-mc.org/docs/adr/015adr-trace.html",
        "source": "bftcheck",
        "description": (f"{trace.kind} of {trace.prop}" if trace.prop else "trace"),
        "property": trace.prop,
        "kind": trace.kind,
        "config": trace.config.to_dict(),
    }
    reference = getattr(model, "reference", None)
    if reference is not None:
        meta["model"] = reference
    names = words.itf_vars(trace.config)
    out = {
        "#meta": meta,
        "vars": names if names is not None else [v for v in states[0] if v != "#meta"],
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


@dataclass
class ItfTrace:
    """A trace file as read: the model it is a run of (built from its #meta),
    that model's configuration, the #meta (with the top-level "loop", if any,
    as meta["loop"]), and (action, view) per state."""

    model: Model
    config: Any
    meta: dict[str, Any]
    steps: list[tuple[str, dict[str, Any]]]


def read_itf(path: str | FsPath) -> ItfTrace:
    """Read an ITF file and build its model. Every state is checked against
    the configuration (the vocabulary's `from_itf`), so what reaches the model
    is well formed; any problem is a TraceError in the model's words."""
    p = FsPath(path)
    text = read_input(p, "trace file", TraceError)
    data = _load_json(p, text)
    if not isinstance(data, dict) or not isinstance(data.get("states"), list):
        raise TraceError(f"{p} is not an ITF trace: it needs a 'states' list")
    if "#meta" in data and not isinstance(data["#meta"], dict):
        raise TraceError(f"{p}: '#meta' must be an object, not {shown(data['#meta'])}")
    meta = data.get("#meta", {})
    model, cfg = _model_of(p, meta)
    if not data["states"]:
        raise TraceError(f"{p} has no states: the trace is empty")
    loop = data.get("loop")
    if loop is not None and (isinstance(loop, bool) or not isinstance(loop, int)
                             or not 0 <= loop < len(data["states"]) - 1):
        raise TraceError(f"{p}: 'loop' is {shown(loop)}, not the index of a state before the "
                         f"last (a lasso returns to an earlier state)")
    meta = {**meta, "loop": loop}
    words = vocabulary(model)
    wanted = words.itf_vars(cfg)
    if wanted is None:
        wanted = data.get("vars")
        if not (isinstance(wanted, list) and all(isinstance(v, str) for v in wanted)):
            raise TraceError(f"{p} has no 'vars' list naming the variables of its states")
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
        try:
            view = words.from_itf(view, cfg, f"{p}: state {i}")
        except ValueError as exc:
            raise TraceError(str(exc)) from None
        steps.append((action if isinstance(action, str) else shown(action), view))
    return ItfTrace(model, cfg, meta, steps)


def _model_of(p: FsPath, meta: dict[str, Any]) -> tuple[Model, Any]:
    """The model a trace's #meta names (Tendermint unless 'model' says
    otherwise), built for its 'config'."""
    from bftcheck import plugins

    if not isinstance(meta.get("config"), dict):
        raise TraceError(f"{p} has no bftcheck configuration in '#meta'.'config': "
                         f"write it with 'bftcheck check --trace-out'")
    reference = meta.get("model", plugins.TENDERMINT)
    if not isinstance(reference, str):
        raise TraceError(f"{p}: '#meta'.'model' is {shown(reference)}, not a "
                         f"MODULE:ATTRIBUTE reference")
    source = f"{p} ('#meta'.'config')"
    try:
        plugin = plugins.load(reference)
        cfg = plugins.configure(plugin, _plain(meta["config"], source), source)
    except InputError as exc:
        raise TraceError(str(exc)) from None
    return plugins.build(plugin, reference, cfg), cfg
