"""TLA+ values as TLC prints them, read into Python, and Python values written as TLA+.

TLC prints integers, strings, booleans, sequences `<<a, b>>`, sets `{a, b}`
(and a set of consecutive integers as `1..3`),
records `[f |-> a]` and other functions `(0 :> a @@ 1 :> b)`. They are read
into int, str, bool, list, `TlaSet` (a list: TLC's order, no duplicates),
dict with str keys (records) and dict with value keys (functions).
"""

from __future__ import annotations

import re
from typing import Any


class TlaSyntaxError(ValueError):
    """Text that is not a TLA+ value as TLC prints it."""


class TlaSet(list):
    """A TLA+ set, kept as the list of its elements in TLC's order."""


class TlaFunction(dict):
    """A TLA+ function printed as `(k1 :> v1 @@ k2 :> v2)`; keys are hashable values."""


_TOKEN = re.compile(r"""\s*(?:
    (?P<str>"(?:[^"\\]|\\.)*")
  | (?P<int>-?\d+)
  | (?P<sym><<|>>|\|->|:>|@@|\.\.|[{}\[\](),])
  | (?P<id>[A-Za-z_][A-Za-z0-9_]*)
)""", re.VERBOSE)


def _tokens(text: str) -> list[tuple[str, str]]:
    out = []
    pos = 0
    text = text.rstrip()
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if m is None or m.end() == pos:
            raise TlaSyntaxError(f"unexpected text at {text[pos:pos + 20]!r}")
        kind = m.lastgroup
        assert kind is not None
        out.append((kind, m.group(kind)))
        pos = m.end()
    return out


class _Reader:
    def __init__(self, text: str) -> None:
        self.toks = _tokens(text)
        self.i = 0

    def peek(self) -> tuple[str, str] | None:
        return self.toks[self.i] if self.i < len(self.toks) else None

    def take(self, sym: str | None = None) -> tuple[str, str]:
        tok = self.peek()
        if tok is None or (sym is not None and tok[1] != sym):
            raise TlaSyntaxError(f"expected {sym or 'a value'}, found "
                                 f"{tok[1] if tok else 'the end'}")
        self.i += 1
        return tok

    def items(self, close: str, item: Any) -> list[Any]:
        out: list[Any] = []
        if self.peek() is not None and self.peek()[1] == close:  # type: ignore[index]
            self.take(close)
            return out
        while True:
            out.append(item())
            if self.take()[1] == close:
                return out
            if self.toks[self.i - 1][1] != ",":
                raise TlaSyntaxError(f"expected ',' or {close!r}")

    def value(self) -> Any:
        kind, text = self.take()
        if kind == "int":
            nxt = self.peek()
            if nxt is not None and nxt[1] == "..":  # TLC prints {1, 2, 3} as 1..3
                self.take("..")
                high = self.take()
                if high[0] != "int":
                    raise TlaSyntaxError(f"expected a number after '..', found {high[1]!r}")
                return TlaSet(range(int(text), int(high[1]) + 1))
            return int(text)
        if kind == "str":
            return text[1:-1].replace('\\"', '"').replace("\\\\", "\\")
        if kind == "id":
            if text in ("TRUE", "FALSE"):
                return text == "TRUE"
            raise TlaSyntaxError(f"unexpected name {text!r}")
        if text == "<<":
            return self.items(">>", self.value)
        if text == "{":
            return TlaSet(self.items("}", self.value))
        if text == "[":
            return dict(self.items("]", self.field))
        if text == "(":
            fn = TlaFunction()
            while True:
                key = self.value()
                self.take(":>")
                fn[_hashable(key)] = self.value()
                if self.take()[1] == ")":
                    return fn
                if self.toks[self.i - 1][1] != "@@":
                    raise TlaSyntaxError("expected '@@' or ')'")
        raise TlaSyntaxError(f"unexpected {text!r}")

    def field(self) -> tuple[str, Any]:
        kind, name = self.take()
        if kind != "id":
            raise TlaSyntaxError(f"expected a record field name, found {name!r}")
        self.take("|->")
        return name, self.value()


def _hashable(x: Any) -> Any:
    if isinstance(x, list):
        return tuple(_hashable(e) for e in x)
    if isinstance(x, dict):
        return tuple(sorted((k, _hashable(v)) for k, v in x.items()))
    return x


def parse(text: str) -> Any:
    """One TLA+ value, as TLC prints it."""
    reader = _Reader(text)
    out = reader.value()
    if reader.peek() is not None:
        raise TlaSyntaxError(f"unexpected {reader.peek()[1]!r} after the value")  # type: ignore[index]
    return out


_ASSIGN = re.compile(r"^(?:/\\\s*)?([A-Za-z_][A-Za-z0-9_]*)\s*=\s*", re.MULTILINE)


def parse_state(text: str) -> dict[str, Any]:
    """A state as TLC prints it: `/\\ var = value` conjuncts (a value may span lines)."""
    out: dict[str, Any] = {}
    matches = list(_ASSIGN.finditer(text))
    if not matches:
        raise TlaSyntaxError("no 'var = value' lines in the state")
    for k, m in enumerate(matches):
        end = matches[k + 1].start() if k + 1 < len(matches) else len(text)
        out[m.group(1)] = parse(text[m.end():end])
    return out


def at(fn: Any, key: int) -> Any:
    """fn[key] for a TLA+ function over 1..n printed as a sequence, or any other one."""
    if isinstance(fn, list):
        return fn[key - 1]
    return fn[key]


def write(x: Any) -> str:
    """A Python value as a TLA+ expression: str, int, bool, list (sequence),
    TlaSet / set (set), dict with str keys (record), TlaFunction (function)."""
    if isinstance(x, bool):
        return "TRUE" if x else "FALSE"
    if isinstance(x, int):
        return str(x)
    if isinstance(x, str):
        return '"' + x.replace("\\", "\\\\").replace('"', '\\"') + '"'
    if isinstance(x, TlaFunction):
        if not x:
            return "<<>>"
        return "(" + " @@ ".join(f"{write(k)} :> {write(v)}" for k, v in x.items()) + ")"
    if isinstance(x, (TlaSet, set, frozenset)):
        return "{" + ", ".join(sorted(write(e) for e in x)) + "}"
    if isinstance(x, list):
        return "<<" + ", ".join(write(e) for e in x) + ">>"
    if isinstance(x, dict):
        return "[" + ", ".join(f"{k} |-> {write(v)}" for k, v in x.items()) + "]"
    raise TypeError(f"no TLA+ form for {type(x).__name__}")
