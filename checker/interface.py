"""The seam between a protocol model and the engines (ARCHITECTURE.md, "The seam").

Engines see a model only through `Model`: initial states, successors labelled
with actions, named properties, and the encode/decode pair. States are the
model's canonical byte strings; engines hash and store them, never objects.
How a trace of the model reads (story text, HTML, ITF) is the model's
`Vocabulary`; a protocol a user plugs in (`--model module:attribute`) is a
`Plugin`: it turns settings into a configuration and a configuration into a
`Model`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
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
    With `inconclusive`, a terminal state where it holds is not a violation,
    but leaves the verdict unknown.
    """

    name: str
    kind: Kind
    scope: Scope
    check: Callable[..., bool]
    description: str
    region: Callable[[bytes], bool] | None = None
    actor: Callable[[bytes, bytes], int] | None = None
    # "liveness" only: a terminal region state where this holds ends its run
    # without evidence either way (a bound of the model, not the protocol, cut
    # it); if one is reachable and no violation, the verdict is unknown.
    inconclusive: Callable[[bytes], bool] | None = None
    cut_reason: str = ""  # what to do about such a run, for the output
    # "liveness" only: a number per state (e.g. the round reached) whose largest
    # value along a run the latency report gives (checker/latency.py)
    measure: Callable[[bytes], int] | None = None


# How a liveness property judges a run that ends in a state (`run_end`).
UNMET, CUT = "unmet", "cut"


def run_end(p: Property, s: bytes, region_successors: list[bytes]) -> str | None:
    """A run of liveness property p ends at s, whose successors inside p's region
    are `region_successors`: UNMET if no run from s reaches a target (a
    violation), CUT if a bound of the model ended it (`inconclusive`: no
    evidence either way), None if s is outside the region, a target, or the
    run goes on. The rule every engine applies to a run's last state."""
    inside = p.region is None or p.region(s)
    if not inside or p.check(s) or region_successors:
        return None
    return CUT if p.inconclusive is not None and p.inconclusive(s) else UNMET


class Model(Protocol):
    """What every engine needs from a protocol model."""

    def init_states(self) -> list[bytes]: ...

    def next_states(self, state: bytes) -> Iterator[tuple[Action, bytes]]: ...

    def properties(self) -> list[Property]: ...

    def encode(self, view: dict[str, Any]) -> bytes: ...

    def decode(self, state: bytes) -> dict[str, Any]: ...

    # Optional capabilities, looked up with getattr:
    #   vocabulary: Vocabulary           how its traces read (default: Vocabulary())
    #   successor_states(state) -> (states, action names)   the same successors as
    #                                    next_states, in the same order, faster
    #   compiled: bool                   whether successor_states runs compiled code
    #   native: NativeEntry | None       C entry points: the search runs in C
    #   symmetry: Symmetry | None        its symmetry group as byte maps of its
    #                                    states (checker/symmetry.py), for reduction
    #   reference: str                   "module:attribute" of the Plugin that built
    #                                    it (set by bftcheck.plugins), for trace files


class NativeEntry(NamedTuple):
    """A model's C entry points (checker/native_model.h) for the compiled
    search: the capsule, the names of the properties its state and step
    predicates evaluate (bit i = name i), and its action kinds' names."""

    capsule: Any
    state_predicates: tuple[str, ...]
    step_predicates: tuple[str, ...]
    action_names: tuple[str, ...]


class Vocabulary:
    """How the traces of a model read: the configuration in one line, the
    initial state, and what a step changed, each a list of lines; the ending
    that explains a counterexample to a graph property; and the ITF form of a
    view. These defaults serve any model whose views are dicts of JSON values
    (a variable that is a dict is shown per key: `p1.delivered: None -> 'v0'`);
    a protocol overrides what it can say better."""

    def describe_config(self, config: Any) -> str:
        return str(config)

    def initial(self, view: dict[str, Any]) -> list[str]:
        return [f"{var}: {_shown(value)}" for var, value in view.items()]

    def changes(self, before: dict[str, Any], after: dict[str, Any]) -> list[str]:
        lines = []
        for var, new in after.items():
            old = before.get(var)
            if isinstance(old, dict) and isinstance(new, dict):
                for key, value in new.items():
                    lines += _changed(f"{key}.{var}", old.get(key), value)
            else:
                lines += _changed(var, old, new)
        return lines

    def ending(self, prop: str) -> str | None:
        """What the last state of a counterexample to graph property `prop` means."""
        return None

    def to_itf(self, view: dict[str, Any]) -> dict[str, Any]:
        """The view's variables as ITF values (JSON as it is, by default)."""
        return view

    def itf_vars(self, config: Any) -> list[str] | None:
        """The variables every state of a trace must have (None: those the file names)."""
        return None

    def from_itf(self, view: dict[str, Any], config: Any, where: str) -> dict[str, Any]:
        """A view read from ITF (maps, sets and sequences already plain Python),
        checked against `config`; ValueError with one line naming `where` if it
        does not fit. By default the encoding (`Model.encode`) is the check."""
        return view


    # -- the sequence diagram (bftcheck/sequence.py) ---------------------------

    def lanes(self, config: Any, view: dict[str, Any]) -> list[Lane]:
        """The actors, one lane each: by default the keys of the view's
        dict-valued variables, in the order they first appear."""
        names: dict[str, None] = {}
        for value in view.values():
            if isinstance(value, dict):
                names.update(dict.fromkeys(map(str, value)))
        return [Lane(name) for name in names]

    def initial_scene(self, view: dict[str, Any]) -> Scene:
        """What the initial state draws (messages already sent, a split)."""
        return Scene()

    def scene(self, before: dict[str, Any], after: dict[str, Any]) -> Scene:
        """What one step draws: its messages, the marks on the lanes, the
        network's split. By default each changed key of a dict-valued variable
        is a note on that key's lane, and there are no messages."""
        marks = []
        for var, new in after.items():
            old = before.get(var)
            if isinstance(old, dict) and isinstance(new, dict):
                marks += [Mark(str(key), line) for key, value in new.items()
                          for line in _changed(var, old.get(key), value)]
        return Scene(marks=marks)

    def verdict(self, prop: str, config: Any, views: list[dict[str, Any]],
                last: bytes) -> list[str]:
        """The violation of `prop` at the end of the trace, in sentences (none by
        default: the page states the property's description)."""
        return []

    def explained(self, prop: str) -> bool:
        """Whether the text trace of a counterexample to `prop` ends with its
        `verdict` (by default only the HTML page shows it)."""
        return False


@dataclass(frozen=True)
class Lane:
    """An actor of the sequence diagram; `faulty` marks a Byzantine one."""

    name: str
    faulty: bool = False


@dataclass(frozen=True)
class Arrow:
    """A message: from `sender` to the lanes in `to` (None: to every other lane)."""

    sender: str
    label: str
    to: tuple[str, ...] | None = None
    faulty: bool = False


@dataclass(frozen=True)
class Mark:
    """A note on a lane at a step; kind "lock" and "decide" are drawn apart."""

    lane: str
    text: str
    kind: Literal["note", "lock", "decide"] = "note"


@dataclass
class Scene:
    """What a step draws on the sequence diagram; `split` is the network's
    components after the step (None: whole, or a model without partitions)."""

    arrows: list[Arrow] = field(default_factory=list)
    marks: list[Mark] = field(default_factory=list)
    split: list[list[str]] | None = None


def _changed(name: str, old: Any, new: Any) -> list[str]:
    """`name: old -> new`, or for a list what it gained (+) and lost (-)."""
    if old == new:
        return []
    if isinstance(old, list) and isinstance(new, list):
        return ([f"+ {name}: {_shown(x)}" for x in new if x not in old]
                + [f"- {name}: {_shown(x)}" for x in old if x not in new])
    return [f"{name}: {_shown(old)} -> {_shown(new)}"]


def _shown(value: Any) -> str:
    return repr(value) if isinstance(value, str) else str(value)


def vocabulary(model: Model) -> Vocabulary:
    """The model's vocabulary, or the default one."""
    return getattr(model, "vocabulary", None) or Vocabulary()


class Plugin(Protocol):
    """A protocol model as `bftcheck --model module:attribute` loads it.

    `configure(settings, source)` checks the settings (a TOML table, `--set
    KEY=VALUE` pairs, or a trace's `#meta.config`; `source` names where they
    came from) and returns a configuration with `to_dict()` (the settings back,
    for trace files) and a `name`; bad settings raise ValueError with one line.
    `build(config)` returns the `Model`. `variants` names the variants (broken
    versions) it implements, each with what it breaks; the settings key
    "variant" picks one."""

    name: str
    variants: dict[str, str]

    def configure(self, settings: dict[str, Any], source: str) -> Any: ...

    def build(self, config: Any) -> Model: ...

