"""A Hypothesis state machine over any model (checker/interface.py), for a
protocol plugged in with `--model`: one rule per actor (an action's
`validator`), each taking one of the actions the model says that actor has
enabled. Rules per actor let Hypothesis' swarm testing silence an actor for a
whole run. Every `always` property is checked on every state or step. The
Tendermint machine (machine.py) adds action families and steering; this one
knows only the interface, and runs in the same runner (runner.py)."""

from __future__ import annotations

from collections import deque
from typing import Any

from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, precondition, rule

from bftcheck.checker.interface import Model
from bftcheck.checker.result import Path
from bftcheck.fuzz.machine import add_rule, violated

DEFAULT_STEPS = 50
OTHER = "other actors"


def machine_for_model(model: Model, name: str, properties: list[str] | None = None,
                      max_steps: int = DEFAULT_STEPS, trace_out: str | None = None,
                      config: Any = None) -> type[RuleBasedStateMachine]:
    """The machine class for `model` (use `.TestCase` in a pytest/unittest
    suite); `properties` restricts the checked `always` properties (an unknown
    name is a ValueError, never a silent pass). As with machine_for, a
    failure's report shows the shrunk run as a story, and with `trace_out` it
    is also written there as ITF; `config` is the model's configuration the
    trace names (default: the model's `cfg`)."""
    config = config if config is not None else getattr(model, "cfg", None)
    if config is None and trace_out is not None:
        raise ValueError("machine_for_model: pass config=, the configuration the model was "
                         "built from (its traces name it)")
    always = [p for p in model.properties() if p.kind == "always"]
    unknown = [n for n in properties or () if n not in {p.name for p in always}]
    if unknown:
        raise ValueError(f"unknown or non-safety property {unknown[0]!r}: choose from "
                         f"{', '.join(p.name for p in always)}")
    chosen = [p for p in always if properties is None or p.name in properties]
    actors = _actors(model)
    known = set(actors)
    actors.append(OTHER)  # an actor the first look did not meet still gets its turn

    class Machine(RuleBasedStateMachine):
        last_run: Path | None = None
        last_violation: str | None = None
        max_round = 0  # the runner's progress figures, which only Tendermint has

        def __init__(self) -> None:
            super().__init__()
            self.state: bytes | None = None
            self.path = Path(0, [])
            self._cache: tuple[bytes, dict[str, list[tuple[int, bytes, str]]]] | None = None
            Machine.last_run = self.path
            Machine.last_violation = None

        def options(self, actor: str) -> list[tuple[int, bytes, str]]:
            s = self.state
            if s is None:
                return []
            if self._cache is None or self._cache[0] != s:
                groups: dict[str, list[tuple[int, bytes, str]]] = {a: [] for a in actors}
                for k, (action, t) in enumerate(model.next_states(s)):
                    who = action.validator if action.validator in known else OTHER
                    groups[who].append((k, t, action.name))
                self._cache = (s, groups)
            return self._cache[1][actor]

        def take(self, actor: str, data: Any) -> None:
            opts = self.options(actor)
            k, after, action = opts[data.draw(st.integers(0, len(opts) - 1), label=actor)]
            before, self.state = self.state, after
            self.path.steps.append(k)
            for p in chosen:
                holds = p.check(after) if p.scope == "state" else p.check(before, action, after)
                if not holds:
                    violated(Machine, self, p.name)

        @initialize(data=st.data())
        def start(self, data: Any) -> None:
            inits = model.init_states()
            self.path.init = data.draw(st.integers(0, len(inits) - 1), label="initial state")
            self.state = inits[self.path.init]
            for p in chosen:
                if p.scope == "state" and not p.check(self.state):
                    violated(Machine, self, p.name)

        @precondition(lambda self: self.state is not None
                      and not any(self.options(a) for a in actors))
        @rule()
        def halted(self) -> None:
            """No actor has anything to do."""

        def decided(self) -> int:
            return 0

    for actor in actors:
        add_rule(Machine, actor, "actor_" + "".join(c if c.isalnum() else "_" for c in actor))
    Machine.__name__ = Machine.__qualname__ = name
    Machine.model = model  # type: ignore[attr-defined]
    Machine.cfg = config  # type: ignore[attr-defined]
    Machine.trace_out = trace_out  # type: ignore[attr-defined]
    Machine.report_failures = True  # type: ignore[attr-defined]  # the CLI reports its own
    return Machine


def _actors(model: Model, limit: int = 10_000) -> list[str]:
    """The actors of the model, in order of appearance, from a breadth-first look
    at the first `limit` states (rules are fixed when the class is made)."""
    seen: set[bytes] = set(model.init_states())
    queue = deque(seen)
    actors: dict[str, None] = {}
    while queue and len(seen) < limit:
        s = queue.popleft()
        for action, t in model.next_states(s):
            actors.setdefault(action.validator, None)
            if t not in seen:
                seen.add(t)
                queue.append(t)
    return list(actors)
