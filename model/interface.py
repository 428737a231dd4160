"""The seam between a protocol model and the engines (DESIGN.md, "The model interface").

Engines see a model only through `Model`: initial states, successors labelled
with actions, named properties, and the encode/decode pair. States are the
model's canonical byte strings; engines hash and store them, never objects.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, Literal, NamedTuple, Protocol


class Action(NamedTuple):
    """A named, printable transition label: `Prevote(p2, h0 r1 v0; line 28)`."""

    name: str
    validator: str
    detail: str
    line: int = 0

    def __str__(self) -> str:
        where = f"; line {self.line}" if self.line else ""
        return f"{self.name}({self.validator}, {self.detail}{where})"


Kind = Literal["always", "sometimes"]
Scope = Literal["state", "step"]


@dataclass(frozen=True)
class Property:
    """A named property.

    kind "always": must hold on every reachable state (scope "state") or every
    step (scope "step", an action invariant). kind "sometimes": a reachability
    witness that should hold on at least one state or step.
    `check(state)` or `check(before, action_name, after)` returns True when it holds.
    """

    name: str
    kind: Kind
    scope: Scope
    check: Callable[..., bool]
    description: str


class Model(Protocol):
    """What every engine needs from a protocol model."""

    def init_states(self) -> list[bytes]: ...

    def next_states(self, state: bytes) -> Iterator[tuple[Action, bytes]]: ...

    def properties(self) -> list[Property]: ...

    def encode(self, view: dict[str, Any]) -> bytes: ...

    def decode(self, state: bytes) -> dict[str, Any]: ...

