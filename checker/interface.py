"""The seam between a protocol model and the engines (README, "The model interface").

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
        if self.validator == NETWORK:  # the nemesis: `Split {p1,p2} | {p3,p4}`, `Heal: ...`
            return f"{self.name} {self.detail}" if self.name == "Split" else \
                f"{self.name}: {self.detail}"
        where = f"; line {self.line}" if self.line else ""
        return f"{self.name}({self.validator}, {self.detail}{where})"


NETWORK = "network"  # the `validator` of partition events


Kind = Literal["always", "sometimes", "recovery", "liveness"]
Scope = Literal["state", "step"]


@dataclass(frozen=True)
class Property:
    """A named property.

    kind "always": must hold on every reachable state (scope "state") or every
    step (scope "step", an action invariant). kind "sometimes": a reachability
    witness that should hold on at least one state or step.
    `check(state)` or `check(before, action_name, after)` returns True when it holds.

    kinds over the state graph (scope "state"; `check` is the *target*): in
    every state where `region` holds (e.g. the network is whole, after the
    last heal), "recovery" asks that a target state stay reachable (AG EF),
    and "liveness" that every fair run reach one: no reachable terminal state
    or weakly fair cycle without a target, where `actor(before, after)` names
    who took a step, each actor being weakly fair. Steps that leave the
    region (the environment's, e.g. a new split) are not part of these runs.
    """

    name: str
    kind: Kind
    scope: Scope
    check: Callable[..., bool]
    description: str
    region: Callable[[bytes], bool] | None = None
    actor: Callable[[bytes, bytes], int] | None = None


class Model(Protocol):
    """What every engine needs from a protocol model."""

    def init_states(self) -> list[bytes]: ...

    def next_states(self, state: bytes) -> Iterator[tuple[Action, bytes]]: ...

    def properties(self) -> list[Property]: ...

    def encode(self, view: dict[str, Any]) -> bytes: ...

    def decode(self, state: bytes) -> dict[str, Any]: ...

