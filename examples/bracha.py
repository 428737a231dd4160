"""Bracha's Byzantine reliable broadcast, as a bftcheck model plug-in.

A second protocol, small on purpose, that goes through the same seam as
Tendermint (checker/interface.py): `bftcheck check --model
examples/bracha.py:PLUGIN`, and likewise `fuzz`; its traces replay with
`bftcheck replay`. README, "Checking your own protocol", starts from here.

The protocol (Bracha 1987), for n processes of which at most f are Byzantine:
the sender broadcasts INITIAL(v); a process echoes the first INITIAL it acts
on; on ECHO(v) from ceil((n+f+1)/2) processes, or READY(v) from f+1, it sends
READY(v) (once); on READY(v) from 2f+1 it delivers v (once). Agreement: no two
correct processes deliver different values. Validity: with a correct sender,
whatever is delivered is the sender's value.

The network is a pool of sent messages that every process may act on, as in
the Tendermint model: every rule is an "upon" guard monotone in the messages
received, and whether an enabled rule fires is already a choice of the model,
so acting on any sent message is exactly an asynchronous network. A correct
process's messages are implied by its state (it echoed v: ECHO(v) is sent); a
Byzantine process sends any message at any time, each once (sending it twice
changes nothing).

The variant "quorum-off-by-one" uses one less than both quorums (echo and
delivery): with n = 4 and f = 1 a Byzantine sender then splits the correct
processes and two of them deliver different values.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import asdict, dataclass
from typing import Any

from bftcheck.checker.interface import Action, Arrow, Lane, Mark, Property, Scene, Vocabulary

KINDS = ("INITIAL", "ECHO", "READY")
VARIANTS = {"quorum-off-by-one": "agreement"}
MAX_PROCESSES = 8
MAX_VALUES = 3


@dataclass(frozen=True)
class Settings:
    """A configuration: `processes` of which the last `byzantine` are
    Byzantine; the sender is the last process (Byzantine) when
    `byzantine_sender`, else p1."""

    processes: int = 4
    byzantine: int = 1
    values: int = 2
    byzantine_sender: bool = True
    variant: str | None = None

    @property
    def name(self) -> str:
        return f"bracha-n{self.processes}-f{self.byzantine}"

    def __str__(self) -> str:
        sender = f"p{self.processes} (Byzantine)" if self.byzantine_sender else "p1 (correct)"
        text = (f"{self.name}: {self.processes} processes, the last {self.byzantine} "
                f"Byzantine, sender {sender}, values {self.values}")
        return text + (f", variant {self.variant}" if self.variant else "")

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _whole(settings: dict[str, Any], key: str, default: int, lo: int, hi: int,
           source: str) -> int:
    value = settings.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int) or not lo <= value <= hi:
        raise ValueError(f"{source}: '{key}' is {value!r}: give a whole number from {lo} "
                         f"to {hi}")
    return value


class BrachaPlugin:
    """Settings -> Settings -> model (the Plugin of checker/interface.py)."""

    name = "bracha"
    variants = VARIANTS

    def configure(self, settings: dict[str, Any], source: str) -> Settings:
        known = {"processes", "byzantine", "values", "byzantine_sender", "variant", "name"}
        unknown = sorted(set(settings) - known)
        if unknown:
            raise ValueError(f"{source}: unknown setting {unknown[0]!r}: the settings are "
                             f"{', '.join(sorted(known - {'name'}))}")
        n = _whole(settings, "processes", 4, 1, MAX_PROCESSES, source)
        f = _whole(settings, "byzantine", 1, 0, n - 1, source)
        values = _whole(settings, "values", 2, 1, MAX_VALUES, source)
        sender = settings.get("byzantine_sender", f > 0)
        if not isinstance(sender, bool):
            raise ValueError(f"{source}: 'byzantine_sender' is {sender!r}: give true or false")
        if sender and f == 0:
            raise ValueError(f"{source}: 'byzantine_sender' is true but no process is "
                             f"Byzantine: set 'byzantine' to 1 or more, or the sender correct")
        variant = settings.get("variant")
        if variant is not None and variant not in VARIANTS:
            raise ValueError(f"{source}: unknown variant {variant!r}: choose from "
                             f"{', '.join(VARIANTS)}")
        return Settings(n, f, values, sender, variant)

    def build(self, config: Settings) -> BrachaModel:
        return BrachaModel(config)


PLUGIN = BrachaPlugin()

# The state: per correct process three bytes, echoed / readied / delivered
# (0 none, 1 + k for value vk); the correct sender's broadcast value (0 none);
# per Byzantine process one byte per kind, a bit per value it sent.
NONE = 0


class BrachaVocabulary(Vocabulary):
    """How its traces draw: the story text is the default vocabulary's (each
    changed variable per process); the sequence diagram gets the faulty lanes,
    each message as an arrow (a correct process's ECHO and READY are implied by
    its state, so they appear when echoed and readied are set), and deliveries
    marked."""

    def lanes(self, config: Any, view: dict[str, Any]) -> list[Lane]:
        n, f = config.processes, config.byzantine
        return [Lane(f"p{i + 1}", faulty=i >= n - f) for i in range(n)]

    def scene(self, before: dict[str, Any], after: dict[str, Any]) -> Scene:
        arrows, marks = [], []
        if after["broadcast"] != before["broadcast"]:
            arrows.append(Arrow("p1", f"INITIAL {after['broadcast']}"))
        for var, kind in (("echoed", "ECHO"), ("readied", "READY")):
            arrows += [Arrow(p, f"{kind} {v}") for p, v in after[var].items()
                       if v != before[var][p]]
        for p, sent in after["byzantine_sent"].items():
            arrows += [Arrow(p, m, faulty=True) for m in sent
                       if m not in before["byzantine_sent"][p]]
        marks += [Mark(p, f"deliver {v}", "decide") for p, v in after["delivered"].items()
                  if v != before["delivered"][p]]
        return Scene(arrows=arrows, marks=marks)

    def verdict(self, prop: str, config: Any, views: list[dict[str, Any]],
                last: bytes) -> list[str]:
        if prop != "agreement":
            return []
        first: dict[str, tuple[str, int]] = {}
        for step, view in enumerate(views):
            for p, v in view["delivered"].items():
                if v is not None and p not in first:
                    first[p] = (v, step)
        said = ", ".join(f"{p} delivered {v} at step {step}"
                         for p, (v, step) in sorted(first.items(), key=lambda kv: kv[1][1]))
        return [f"{said}: correct processes delivered different values."]


class BrachaModel:
    """The `Model` of checker/interface.py; its traces read in the default
    vocabulary's words and draw with BrachaVocabulary."""

    vocabulary = BrachaVocabulary()

    def __init__(self, cfg: Settings) -> None:
        self.cfg = cfg
        n, f = cfg.processes, cfg.byzantine
        self.correct = [f"p{i + 1}" for i in range(n - f)]
        self.faulty = [f"p{i + 1}" for i in range(n - f, n)]
        self.values = [f"v{k}" for k in range(cfg.values)]
        slack = 1 if cfg.variant == "quorum-off-by-one" else 0
        self.echo_quorum = (n + f + 2) // 2 - slack  # ceil((n+f+1)/2)
        self.ready_support = f + 1
        self.deliver_quorum = 2 * f + 1 - slack
        self.sender_slot = 3 * len(self.correct)  # the correct sender's broadcast
        self.byz_at = self.sender_slot + 1

    # -- the seam ---------------------------------------------------------

    def init_states(self) -> list[bytes]:
        return [bytes(self.byz_at + 3 * len(self.faulty))]

    def next_states(self, s: bytes) -> Iterator[tuple[Action, bytes]]:
        if not self.cfg.byzantine_sender and s[self.sender_slot] == NONE:
            for k, v in enumerate(self.values):
                yield Action("Broadcast", "p1", f"INITIAL {v}"), self._set(s, self.sender_slot,
                                                                           k + 1)
        for ci, p in enumerate(self.correct):
            yield from self._correct_steps(s, ci, p)
        for bi, p in enumerate(self.faulty):
            for kind_index, kind in enumerate(KINDS):
                if kind == "INITIAL" and not self._is_sender(p):
                    continue
                at = self.byz_at + 3 * bi + kind_index
                for k, v in enumerate(self.values):
                    if not s[at] >> k & 1:
                        yield Action("Send", p, f"{kind} {v}"), self._set(s, at, s[at] | 1 << k)

    def properties(self) -> list[Property]:
        return [
            Property("agreement", "always", "state", self.agreement,
                     "no two correct processes deliver different values"),
            Property("validity", "always", "state", self.validity,
                     "with a correct sender, only the sender's value is delivered"),
            Property("delivery-reachable", "sometimes", "state",
                     lambda s: any(s[3 * ci + 2] for ci in range(len(self.correct))),
                     "witness: some correct process delivers"),
        ]

    def encode(self, view: dict[str, Any]) -> bytes:
        out = bytearray(self.byz_at + 3 * len(self.faulty))
        for ci, p in enumerate(self.correct):
            for j, var in enumerate(("echoed", "readied", "delivered")):
                out[3 * ci + j] = self._code(view[var][p])
        out[self.sender_slot] = self._code(view["broadcast"])
        for bi, p in enumerate(self.faulty):
            for message in view["byzantine_sent"][p]:
                kind, _, value = str(message).partition(" ")
                if kind not in KINDS or value not in self.values:
                    raise ValueError(f"{message!r} is not a message (KIND VALUE)")
                if kind == "INITIAL" and not self._is_sender(p):
                    raise ValueError(f"{p} is not the sender, so it sends no INITIAL")
                out[self.byz_at + 3 * bi + KINDS.index(kind)] |= 1 << self.values.index(value)
        return bytes(out)

    def decode(self, s: bytes) -> dict[str, Any]:
        def value(code: int) -> str | None:
            return None if code == NONE else self.values[code - 1]

        view: dict[str, Any] = {
            var: {p: value(s[3 * ci + j]) for ci, p in enumerate(self.correct)}
            for j, var in enumerate(("echoed", "readied", "delivered"))}
        view["broadcast"] = value(s[self.sender_slot])
        view["byzantine_sent"] = {
            p: [f"{kind} {v}" for kind_index, kind in enumerate(KINDS)
                for k, v in enumerate(self.values)
                if s[self.byz_at + 3 * bi + kind_index] >> k & 1]
            for bi, p in enumerate(self.faulty)}
        return view

    # -- the rules ----------------------------------------------------------

    def _correct_steps(self, s: bytes, ci: int, p: str) -> Iterator[tuple[Action, bytes]]:
        echoed, readied, delivered = s[3 * ci], s[3 * ci + 1], s[3 * ci + 2]
        for k, v in enumerate(self.values):
            code = k + 1
            if echoed == NONE and self._initial_sent(s, k):
                yield Action("Echo", p, v), self._set(s, 3 * ci, code)
            if readied == NONE and (self._count(s, "ECHO", k) >= self.echo_quorum
                                    or self._count(s, "READY", k) >= self.ready_support):
                yield Action("Ready", p, v), self._set(s, 3 * ci + 1, code)
            if delivered == NONE and self._count(s, "READY", k) >= self.deliver_quorum:
                yield Action("Deliver", p, v), self._set(s, 3 * ci + 2, code)

    def _initial_sent(self, s: bytes, k: int) -> bool:
        if not self.cfg.byzantine_sender:
            return s[self.sender_slot] == k + 1
        return bool(s[self.byz_at + 3 * (len(self.faulty) - 1)] >> k & 1)

    def _count(self, s: bytes, kind: str, k: int) -> int:
        """Processes that sent ECHO or READY for value k (a correct process's
        echoed and readied bytes follow KINDS' order, one place earlier)."""
        kind_index = KINDS.index(kind)
        offset = kind_index - 1
        correct = sum(1 for ci in range(len(self.correct)) if s[3 * ci + offset] == k + 1)
        faulty = sum(1 for bi in range(len(self.faulty))
                     if s[self.byz_at + 3 * bi + kind_index] >> k & 1)
        return correct + faulty

    def _is_sender(self, p: str) -> bool:
        return self.cfg.byzantine_sender and p == self.faulty[-1]

    def _code(self, value: str | None) -> int:
        return NONE if value is None else self.values.index(value) + 1

    @staticmethod
    def _set(s: bytes, at: int, code: int) -> bytes:
        out = bytearray(s)
        out[at] = code
        return bytes(out)

    # -- the properties -----------------------------------------------------

    def agreement(self, s: bytes) -> bool:
        return len({s[3 * ci + 2] for ci in range(len(self.correct))} - {NONE}) <= 1

    def validity(self, s: bytes) -> bool:
        if self.cfg.byzantine_sender:
            return True
        sent = s[self.sender_slot]
        return all(s[3 * ci + 2] in (NONE, sent) for ci in range(len(self.correct)))
