"""A Hypothesis `RuleBasedStateMachine` over the Python model (not a second model).

One rule per (validator, action family) of the model. Each rule picks one of
the actions the model says are enabled for that validator in that family, and
the machine steps the model along it. Rules per validator let Hypothesis'
swarm testing switch off, say, p2's locking for a whole run, which is what
many bugs need (the n4-f2 fork is 1 in 7,000 uniformly random runs). Every
`always` property of the model is an `@invariant`, and step properties are
checked on every step. Hypothesis shrinks a failing run into a short one, and
the machine records its runs so that a failure becomes a bftcheck `Trace`.

With GST, `termination` is judged where a run ends: in a state with no step
(the `halted` rule), as the checker judges it on the state graph's leaves. A
state after GST with someone undecided is a violation, unless the round bound
cut the run before the round in which Algorithm 1 guarantees a decision; such
a run is counted as cut (`cut`), not judged. A run that stops before its end
(the step limit, or Hypothesis ending it) is taken on to it by random steps
seeded by the run itself (`finish`), so that every run's end is judged.

Steering (`hypothesis.target`), maximised over each run: the highest round any
validator reached, the number of distinct values locked at once, how close a
height is to a fork (the precommit support of the second-best value), the
number of decisions made, and the Byzantine messages used.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from typing import Any, NoReturn

from hypothesis import HealthCheck, note, settings, target
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
)

from bftcheck.checker.interface import CUT, UNMET, run_end
from bftcheck.checker.result import Path
from bftcheck.model import TendermintModel
from bftcheck.model.config import Config, ConfigError
from bftcheck.model.properties import TERMINATION, mover
from bftcheck.model.state import LOCAL_FIELDS, LOCKED_VALUE, ROUND

# Action families: each is one rule of the machine. An action that draws
# Byzantine messages belongs to "byzantine", whatever its name.
FAMILIES: dict[str, tuple[str, ...]] = {
    "prevote": ("Prevote",),
    "lock": ("Precommit", "UpdateValid"),
    "timeout": ("TimeoutPropose", "TimeoutPrevote", "TimeoutPrecommit"),
    "decide": ("Decide",),
    "round_skip": ("RoundSkip",),
    "sync": ("SyncBlock",),
    "byzantine": (),
}
NETWORK_RULE = "network"  # Split and Heal: one rule, the nemesis's


class PropertyViolation(AssertionError):
    """A model property failed during a fuzzing run."""

    def __init__(self, prop: str) -> None:
        super().__init__(f"{prop} violated")
        self.prop = prop


def machine_for(cfg: Config, properties: list[str] | None = None,
                max_steps: int = 60, trace_out: str | None = None
                ) -> type[RuleBasedStateMachine]:
    """A state machine class for `cfg`; use `.TestCase` in a pytest/unittest suite.

    `properties` restricts the checked properties (default: every `always` one);
    `termination` may be named on a configuration with GST (its catalogue has it).
    The class attribute `last_run` holds the most recent run as a `Path`, and
    `last_violation` the property it violated, if any. A failure's report
    (the shrunk run's) shows the counterexample as a story, and with
    `trace_out` it is also written there as ITF, for `bftcheck replay`.
    """
    model = TendermintModel(cfg.validated())
    lay = model.lay
    judgeable = fuzz_properties(model)
    unknown = [n for n in properties or () if n not in judgeable]
    if unknown:  # checking nothing and reporting no violation would be a false claim
        raise ConfigError(f"unknown or non-safety property {unknown[0]!r}: choose from "
                          f"{', '.join(judgeable)}")
    chosen = [p for p in model.properties() if p.kind == "always"
              and (properties is None or p.name in properties)]
    ends = next((p for p in model.properties() if p.name == TERMINATION
                 and properties is not None and p.name in properties), None)
    state_props = [p for p in chosen if p.scope == "state"]
    step_props = [p for p in chosen if p.scope == "step"]
    budget_at = lay.budget_used

    validators = [f"p{i + 1}" for i in lay.correct]
    rule_names = [f"{p}_{fam}" for p in validators for fam in FAMILIES]
    if lay.partitioned:
        rule_names.append(NETWORK_RULE)

    class Machine(RuleBasedStateMachine):
        last_run: Path | None = None
        last_violation: str | None = None

        def __init__(self) -> None:
            super().__init__()
            self.state: bytes | None = None
            self.path = Path(0, [])
            self._cache: tuple[bytes, dict[str, list[tuple[int, bytes, str]]]] | None = None
            self.max_round = 0
            self.max_locked = 0
            self.max_split = 0
            self.max_precommitted = 0
            self.healed = False
            self.max_lag = 0
            self.ended = False  # the run reached a state with no step
            self.cut = False  # ... that the round bound caused (termination unjudged)
            Machine.last_run = self.path
            Machine.last_violation = None

        def options(self, family: str) -> list[tuple[int, bytes, str]]:
            """(position in successor order, successor, action name) of the enabled
            actions; computed once per state and shared by every rule's precondition."""
            s = self.state
            if s is None:
                return []
            if self._cache is None or self._cache[0] != s:
                states, names = model.successor_states(s)
                groups: dict[str, list[tuple[int, bytes, str]]] = {r: [] for r in rule_names}
                for k, (t, name) in enumerate(zip(states, names, strict=True)):
                    groups[_rule_of(lay, validators, name, s, t)].append((k, t, name))
                self._cache = (s, groups)
            return self._cache[1][family]

        def take(self, family: str, data: Any) -> None:
            opts = self.options(family)
            self.advance(*opts[data.draw(st.integers(0, len(opts) - 1), label=family)])

        def advance(self, k: int, after: bytes, name: str) -> None:
            """Step along successor k (action `name`), checking the step properties."""
            before = self.state
            assert before is not None
            self.state = after
            self.path.steps.append(k)
            for p in step_props:
                if not p.check(before, name, after):
                    violated(Machine, self, p.name)
            rounds = [after[b + ROUND] for b in lay.local]
            self.max_round = max(self.max_round, *rounds)
            locked = {after[b + LOCKED_VALUE] for b in lay.local} - {0}
            self.max_locked = max(self.max_locked, len(locked))
            self.max_split = max(self.max_split, _split_support(lay, after))
            self.max_precommitted = max(self.max_precommitted, _precommitted_values(lay, after))
            if name == "Heal":
                self.healed = True
            if self.healed:  # how far behind a validator is after a heal
                heights = [after[b] for b in lay.local]  # HEIGHT is offset 0
                self.max_lag = max(self.max_lag, max(heights) - min(heights))

        @initialize(data=st.data())
        def start(self, data: Any) -> None:
            inits = model.init_states()
            i = data.draw(st.integers(0, len(inits) - 1), label="initial state")
            self.state = inits[i]
            self.path.init = i

        @precondition(lambda self: self.state is not None and not any(
            self.options(r) for r in rule_names))
        @rule()
        def halted(self) -> None:
            """Every validator is done (or stuck within the bounds): nothing to do.
            With termination chosen, the run's end is judged here, once."""
            if self.ended or self.state is None:
                return
            self.ended = True
            verdict = None if ends is None else run_end(ends, self.state, [])  # no step left
            self.cut = verdict == CUT
            if verdict == UNMET:
                violated(Machine, self, ends.name)

        def decided(self) -> int:
            """Decisions made so far, over all correct validators and heights."""
            s = self.state
            if s is None:
                return 0
            return sum(1 for b in lay.local for h in range(lay.H) if s[b + LOCAL_FIELDS + h])

        def finish(self) -> None:
            """With termination chosen, a run that stopped before its end (the step
            limit, or Hypothesis ending it) is taken on to it by steps chosen at
            random, seeded by the run so far (the same run, the same end: what
            Hypothesis replays and shrinks stays deterministic). Every choice is a
            run of the model, so its end is judged (`halted`); the state
            properties are checked on the way."""
            if ends is None or self.state is None or self.ended:
                return
            rng = random.Random(repr((self.path.init, self.path.steps)))
            while True:
                states, names = model.successor_states(self.state)
                if not states:
                    break
                self.before_step()
                k = rng.randrange(len(states))
                self.advance(k, states[k], names[k])
                for p in state_props:
                    if not p.check(self.state):
                        violated(Machine, self, p.name)
            self.halted()

        def before_step(self) -> None:
            """Called before each step `finish` takes (the runner polls its stop)."""

        def teardown(self) -> None:
            self.finish()
            if self.state is None:
                return
            s = self.state
            target(float(self.max_round), label="highest round reached")
            target(float(self.max_locked), label="distinct values locked")
            target(float(self.decided()), label="decisions")
            target(float(s[budget_at]), label="Byzantine messages used")
            target(float(self.max_split), label="support of the second value")
            target(float(self.max_precommitted), label="values precommitted by correct "
                   "validators at one height")
            if lay.partitioned:
                target(float(self.max_lag), label="heights behind after a heal")

    for name in rule_names:
        add_rule(Machine, name)
    for p in state_props:
        _add_invariant(Machine, p.name, p.check)

    Machine.__name__ = Machine.__qualname__ = f"Tendermint_{_slug(cfg)}"
    Machine.model = model  # type: ignore[attr-defined]
    Machine.cfg = cfg  # type: ignore[attr-defined]
    Machine.trace_out = trace_out  # type: ignore[attr-defined]
    Machine.report_failures = True  # type: ignore[attr-defined]  # the CLI reports its own
    Machine.TestCase.settings = settings(
        max_examples=100, stateful_step_count=max_steps, deadline=None,
        suppress_health_check=list(HealthCheck))
    return Machine


def fuzz_properties(model: TendermintModel) -> list[str]:
    """The properties fuzzing judges on `model`'s configuration: every `always`
    one, and termination where the catalogue has it (with GST)."""
    names = [p.name for p in model.properties()]
    return [p.name for p in model.properties() if p.kind == "always"] + (
        [TERMINATION] if TERMINATION in names else [])


def add_rule(machine: type, family: str, name: str | None = None) -> None:
    """A rule (called `name`, default `family`) that takes one of the enabled
    actions of `family`: the machine's `options(family)` and `take(family, data)`."""
    def step(self: Any, data: Any) -> None:
        self.take(family, data)

    step.__name__ = name or family
    step = rule(data=st.data())(step)
    step = precondition(lambda self: bool(self.options(family)))(step)
    setattr(machine, step.__name__, step)


def violated(machine: Any, run: Any, prop: str) -> NoReturn:
    """Raise PropertyViolation for `run`; in the report of the shrunk failure
    (Hypothesis's final run), first the story of the run and, with the
    machine's `trace_out`, its ITF file."""
    machine.last_violation = prop
    if getattr(machine, "report_failures", False) and machine.cfg is not None and _final_run():
        from bftcheck import itf
        from bftcheck.trace import from_path, render

        trace = from_path(machine.model, machine.cfg, run.path, prop)
        note(render(machine.model, trace))
        if machine.trace_out:
            itf.write_itf(machine.trace_out, machine.model, trace)
            note(f"trace written to {machine.trace_out} (ITF); check it with "
                 f"'bftcheck replay {machine.trace_out}'")
    raise PropertyViolation(prop)


def _final_run() -> bool:
    """Whether Hypothesis is replaying the failure it will report."""
    from hypothesis.control import current_build_context

    try:
        return bool(current_build_context().is_final)
    except Exception:  # noqa: BLE001 - outside a Hypothesis run: no report to add to
        return False


def _add_invariant(machine: Any, name: str, check: Callable[[bytes], bool]) -> None:
    """An invariant that raises PropertyViolation where `check` fails."""
    def holds(self: Any) -> None:
        if self.state is not None and not check(self.state):
            violated(machine, self, name)

    holds.__name__ = f"invariant_{name.replace('-', '_')}"
    setattr(machine, holds.__name__, invariant()(holds))


def _rule_of(lay: Any, validators: list[str], name: str, before: bytes, after: bytes) -> str:
    """The (validator, family) rule an action belongs to: the validator is
    the one whose local variables the step changed."""
    if name in ("Split", "Heal"):
        return NETWORK_RULE
    who = mover(lay, before, after)
    if after[lay.budget_used] > before[lay.budget_used]:
        return f"{validators[who]}_byzantine"
    for fam, names in FAMILIES.items():
        if name in names:
            return f"{validators[who]}_{fam}"
    raise ValueError(f"action {name} belongs to no family")


def _split_support(lay: Any, s: bytes) -> int:
    """How close a height is to a fork: over pairs of different values, the
    smaller of their best precommit support (power, any round), maximised."""
    best = 0
    for h in range(lay.H):
        support: dict[int, int] = {}
        for r in range(lay.R):
            tally: dict[int, int] = {}
            for ci, i in enumerate(lay.correct):
                c = s[lay.precommit(ci, h, r)]
                if c > 1:
                    tally[c] = tally.get(c, 0) + lay.powers[i]
            for bi, i in enumerate(lay.byzantine):
                mask = s[lay.byz_precommit(bi, h, r)]
                for c in lay.valid_codes:
                    if mask >> c & 1:
                        tally[c] = tally.get(c, 0) + lay.powers[i]
            for c, p in tally.items():
                support[c] = max(support.get(c, 0), p)
        if len(support) >= 2:
            best = max(best, sorted(support.values())[-2])
    return best


def _precommitted_values(lay: Any, s: bytes) -> int:
    """The most distinct valid values correct validators precommitted at one
    height (any rounds): two means a certificate for each may exist."""
    best = 0
    for h in range(lay.H):
        values = {s[lay.precommit(ci, h, r)] for ci in range(len(lay.correct))
                  for r in range(lay.R)} & set(lay.valid_codes)
        best = max(best, len(values))
    return best


def _slug(cfg: Config) -> str:
    """A name that differs per configuration, so stored failures stay apart."""
    parts = ["p" + "_".join(map(str, cfg.powers)), f"b{cfg.byzantine}x{cfg.byz_budget}",
             f"h{cfg.heights}", f"r{cfg.rounds}", f"v{cfg.values}"]
    if cfg.partitioned:
        parts.append(f"net{cfg.max_partitions}_" + "_".join(
            p.replace("-", "_") for p in cfg.partitions) + f"_{len(cfg.components)}")
    if cfg.mutant:
        parts.append(cfg.mutant.replace("-", "_"))
    return "_".join(parts)
