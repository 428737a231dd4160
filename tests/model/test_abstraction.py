"""The sent-pool network abstraction of model/tendermint.py against a literal model.

The project's model keeps one pool of sent messages and lets every validator act
on any of them (see the docstring of model/tendermint.py). This file keeps, as
the reference, a *literal* per-receiver model of Algorithm 1 of arXiv:1807.04938
with all validators correct:

* every validator has its own received set of messages;
* a broadcast puts the message into the global sent set and into the sender's
  own received set;
* there is one delivery action per (sent message, receiver that has not
  received it yet);
* every rule of Algorithm 1 fires only on the validator's own received set.

The local effects of the rules (lock, validValue/validRound, decision, next
height, halting after the last height, "for the first time" of line 36 as
validRound < round, when the timeouts are enabled) mirror the project's model,
but are written again here with plain tuples and frozensets.

Both models are explored exhaustively on small configurations; the sets of
reachable joint local states of the validators must be equal, and so must the
sets of (joint local state, sent messages) pairs, while the literal model has
strictly more full states (its received sets are what the pool abstracts away).
"""

from __future__ import annotations

import gc
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from functools import cache
from typing import Any, NamedTuple

import pytest

from bftcheck.model import TendermintModel
from bftcheck.model.config import Config

NIL = "nil"
PROPOSE, PREVOTE, PRECOMMIT = "propose", "prevote", "precommit"
STEP_ORDER = {PROPOSE: 0, PREVOTE: 1, PRECOMMIT: 2}

# One worker runs the whole file, so each exploration below (cached) is done
# once: the two-round literal model alone takes about 30 s.
pytestmark = pytest.mark.xdist_group("literal-model")


# -- the literal model ---------------------------------------------------------
class Proposal(NamedTuple):
    """<PROPOSAL, height, round, value, validRound> from src."""

    height: int
    round: int
    src: int
    value: str
    valid_round: int


class Vote(NamedTuple):
    """<PREVOTE or PRECOMMIT, height, round, value> from src (value may be nil)."""

    kind: str
    height: int
    round: int
    src: int
    value: str


Message = Proposal | Vote


class Local(NamedTuple):
    """The local variables of one validator (Algorithm 1, lines 2-8)."""

    height: int
    round: int
    step: str
    locked_value: str
    locked_round: int
    valid_value: str
    valid_round: int
    decision: tuple[str, ...]


class State(NamedTuple):
    local: tuple[Local, ...]
    sent: frozenset[Message]
    received: tuple[frozenset[Message], ...]


# What one rule does: the validator's new local state and the messages it broadcasts.
Effect = tuple[Local, tuple[Message, ...]]


class LiteralTendermint:
    """Algorithm 1 with a received set per validator and explicit deliveries."""

    def __init__(self, powers: tuple[int, ...], heights: int, rounds: int, values: int) -> None:
        self.powers = powers
        self.n = len(powers)
        self.total = sum(powers)
        self.heights = heights
        self.rounds = rounds
        self.values = tuple(f"v{k}" for k in range(values))
        # the enabled rules depend only on (local state, validator, received set),
        # which many full states share: remember them (a speed-up, not a semantic change)
        self._enabled: dict[tuple[Local, int, frozenset[Message]], tuple[Effect, ...]] = {}
        # one shared copy of each equal received set, sent set and joint local state
        self._shared: dict[Any, Any] = {}

    # -- parameters of the protocol ---------------------------------------------
    def proposer(self, h: int, r: int) -> int:
        return (h + r) % self.n

    def valid(self, v: str) -> bool:
        return v in self.values

    def quorum(self, power: int) -> bool:  # 2f + 1: more than 2/3 of the power
        return 3 * power > 2 * self.total

    def more_than_a_third(self, power: int) -> bool:  # f + 1
        return 3 * power > self.total

    # -- reading one validator's received set ------------------------------------
    def proposals(self, received: frozenset[Message], h: int, r: int) -> list[Proposal]:
        """<PROPOSAL, h, r, *, *> from proposer(h, r) in the received set."""
        return [
            m
            for m in received
            if isinstance(m, Proposal)
            and (m.height, m.round) == (h, r)
            and m.src == self.proposer(h, r)
        ]

    def power_of(self, senders: set[int]) -> int:
        return sum(self.powers[q] for q in senders)

    def vote_power(
        self, received: frozenset[Message], kind: str, h: int, r: int, value: str | None = None
    ) -> int:
        """Power of the senders of `kind` votes of (h, r) for `value` (None: any value)."""
        return self.power_of(
            {
                m.src
                for m in received
                if isinstance(m, Vote)
                and m.kind == kind
                and (m.height, m.round) == (h, r)
                and (value is None or m.value == value)
            }
        )

    def sender_power(self, received: frozenset[Message], h: int, r: int) -> int:
        """Power of the senders of any message of (h, r)."""
        return self.power_of({m.src for m in received if (m.height, m.round) == (h, r)})

    # -- local procedures ------------------------------------------------------
    def start_round(self, loc: Local, p: int, h: int, r: int) -> list[Effect]:
        """Lines 11-21: StartRound(r) at height h, one effect per getValue() choice."""
        loc = loc._replace(height=h, round=r, step=PROPOSE)
        if self.proposer(h, r) != p:
            return [(loc, ())]  # line 21: TimeoutPropose becomes enabled
        if loc.valid_value != NIL:
            choices = (loc.valid_value,)  # line 16
        else:
            choices = self.values  # line 18: getValue() returns any valid value
        return [(loc, (Proposal(h, r, p, v, loc.valid_round),)) for v in choices]  # line 19

    def decide(self, loc: Local, p: int, h: int, v: str) -> list[Effect]:
        """Lines 51-54, halting once the last height is decided."""
        decision = list(loc.decision)
        decision[h] = v
        loc = loc._replace(
            decision=tuple(decision),
            locked_value=NIL,
            locked_round=-1,
            valid_value=NIL,
            valid_round=-1,
        )
        if h + 1 == self.heights:
            return [(loc._replace(height=self.heights, round=0, step=PROPOSE), ())]
        return self.start_round(loc, p, h + 1, 0)

    # -- the rules of one validator, on its own received set -------------------
    def rules(self, loc: Local, p: int, rec: frozenset[Message]) -> Iterator[tuple[int, Effect]]:
        """(Algorithm 1 line, effect) for every rule enabled at validator p."""
        h, r = loc.height, loc.round

        def prevote(v: str) -> Effect:
            return loc._replace(step=PREVOTE), (Vote(PREVOTE, h, r, p, v),)

        def precommit(v: str) -> Effect:
            return loc._replace(step=PRECOMMIT), (Vote(PRECOMMIT, h, r, p, v),)

        if loc.step == PROPOSE:
            for m in self.proposals(rec, h, r):
                v, vr = m.value, m.valid_round
                if vr == -1:  # line 22
                    ok = self.valid(v) and (loc.locked_round == -1 or loc.locked_value == v)
                    yield 22, prevote(v if ok else NIL)
                elif vr < r and self.quorum(self.vote_power(rec, PREVOTE, h, vr, v)):  # line 28
                    ok = self.valid(v) and (loc.locked_round <= vr or loc.locked_value == v)
                    yield 28, prevote(v if ok else NIL)
            if self.proposer(h, r) != p:  # line 57: OnTimeoutPropose
                yield 57, prevote(NIL)

        # line 36, "for the first time": validRound < round until it has fired
        if STEP_ORDER[loc.step] >= STEP_ORDER[PREVOTE] and loc.valid_round < r:
            for m in self.proposals(rec, h, r):
                v = m.value
                if self.valid(v) and self.quorum(self.vote_power(rec, PREVOTE, h, r, v)):
                    new = loc._replace(valid_value=v, valid_round=r)  # lines 42-43
                    if loc.step == PREVOTE:  # lines 37-41
                        new = new._replace(locked_value=v, locked_round=r, step=PRECOMMIT)
                        yield 36, (new, (Vote(PRECOMMIT, h, r, p, v),))
                    else:
                        yield 36, (new, ())

        if loc.step == PREVOTE:
            if self.quorum(self.vote_power(rec, PREVOTE, h, r, NIL)):  # line 44
                yield 44, precommit(NIL)
            if self.quorum(self.vote_power(rec, PREVOTE, h, r)):  # lines 34, 61
                yield 61, precommit(NIL)

        # lines 47, 65: OnTimeoutPrecommit, within the configured rounds
        if r + 1 < self.rounds and self.quorum(self.vote_power(rec, PRECOMMIT, h, r)):
            for effect in self.start_round(loc, p, h, r + 1):
                yield 65, effect

        # line 49: a proposal of any round of this height and 2f + 1 precommits for it
        for rd in range(self.rounds):
            for m in self.proposals(rec, h, rd):
                v = m.value
                if self.valid(v) and self.quorum(self.vote_power(rec, PRECOMMIT, h, rd, v)):
                    for effect in self.decide(loc, p, h, v):
                        yield 49, effect

        # line 55: f + 1 messages of a higher round
        for rr in range(r + 1, self.rounds):
            if self.more_than_a_third(self.sender_power(rec, h, rr)):
                for effect in self.start_round(loc, p, h, rr):
                    yield 55, effect

    # -- the transition system -------------------------------------------------
    def enabled(self, loc: Local, p: int, rec: frozenset[Message]) -> tuple[Effect, ...]:
        key = (loc, p, rec)
        if key not in self._enabled:
            self._enabled[key] = tuple(effect for _line, effect in self.rules(loc, p, rec))
        return self._enabled[key]

    def shared(self, x: Any) -> Any:
        return self._shared.setdefault(x, x)

    def broadcast(self, s: State, p: int, effect: Effect) -> State:
        """Validator p takes a step: new local state, and its messages go to the
        sent set and to its own received set."""
        loc, msgs = effect
        local = self.shared(s.local[:p] + (loc,) + s.local[p + 1 :])
        own = self.shared(s.received[p] | frozenset(msgs))
        received = s.received[:p] + (own,) + s.received[p + 1 :]
        return State(local, self.shared(s.sent | frozenset(msgs)), received)

    def deliver(self, s: State, m: Message, q: int) -> State:
        """Message m (sent, not yet received by q) reaches validator q."""
        own = self.shared(s.received[q] | {m})
        return State(s.local, s.sent, s.received[:q] + (own,) + s.received[q + 1 :])

    def init_states(self) -> list[State]:
        """Line 10: every validator runs StartRound(0) at height 0."""
        fresh = Local(0, 0, PROPOSE, NIL, -1, NIL, -1, (NIL,) * self.heights)
        empty = frozenset()
        states = [State((fresh,) * self.n, empty, (empty,) * self.n)]
        for p in range(self.n):
            states = [
                self.broadcast(s, p, effect)
                for s in states
                for effect in self.start_round(fresh, p, 0, 0)
            ]
        return states

    def next_states(self, s: State) -> Iterator[State]:
        for p, loc in enumerate(s.local):
            if loc.height < self.heights:  # a validator that decided every height halts
                for effect in self.enabled(loc, p, s.received[p]):
                    yield self.broadcast(s, p, effect)
        for m in s.sent:  # deliveries
            for q in range(self.n):
                if m not in s.received[q]:
                    yield self.deliver(s, m, q)


# -- exploration of both models ------------------------------------------------
CONFIGS: dict[str, dict[str, Any]] = {
    "3v-1h-1r-1val": {"powers": (1, 1, 1), "heights": 1, "rounds": 1, "values": 1},
    "3v-1h-1r-2val": {"powers": (1, 1, 1), "heights": 1, "rounds": 1, "values": 2},
    "3v-1h-2r-1val": {"powers": (1, 1, 1), "heights": 1, "rounds": 2, "values": 1},
}

JointLocal = tuple[tuple[Any, ...], ...]
SentSet = frozenset[tuple[Any, ...]]


class Exploration(NamedTuple):
    """What the tests compare of one model's reachable states."""

    full_states: int
    joint: frozenset[JointLocal]  # the joint local states of the validators
    joint_sent: frozenset[tuple[JointLocal, SentSet]]  # ... with the sent messages


def explore(
    inits: list[Any],
    successors: Callable[[Any], Iterable[Any]],
    joint: Callable[[Any], JointLocal],
    sent: Callable[[Any], SentSet],
) -> Exploration:
    """Breadth-first search over every reachable state, then the projections.
    The cyclic garbage collector is paused meanwhile: the states hold no cycles,
    and its passes over millions of them would dominate the running time."""
    gc.disable()
    try:
        seen = set(inits)
        queue = deque(seen)
        while queue:
            for t in successors(queue.popleft()):
                if t not in seen:
                    seen.add(t)
                    queue.append(t)
        pairs = frozenset((joint(s), sent(s)) for s in seen)
        return Exploration(len(seen), frozenset(j for j, _ in pairs), pairs)
    finally:
        gc.enable()


@cache
def literal_exploration(key: str) -> Exploration:
    lit = LiteralTendermint(**CONFIGS[key])
    return explore(lit.init_states(), lit.next_states, literal_joint, literal_sent)


@cache
def pool_exploration(key: str, mutant: str | None = None) -> Exploration:
    m = TendermintModel(Config(byzantine=0, byz_budget=0, mutant=mutant, **CONFIGS[key]))
    return explore(
        m.init_states(),
        lambda s: (t for _action, t in m.next_states(s)),
        lambda s: pool_joint(m.decode(s)),
        lambda s: pool_sent(m.decode(s)),
    )


def literal_joint(s: State) -> JointLocal:
    return s.local  # Local is a tuple, with the fields in the order of pool_joint


def literal_sent(s: State) -> SentSet:
    return sent_as_tuples(s.sent)


@cache
def sent_as_tuples(sent: frozenset[Message]) -> SentSet:
    """A sent set in the form of pool_sent (validators named p1, p2, ...)."""
    out = set()
    for m in sent:
        src = f"p{m.src + 1}"
        if isinstance(m, Proposal):
            out.add(("Proposal", m.height, m.round, src, m.value, m.valid_round))
        else:
            out.add(("Vote", m.kind, m.height, m.round, src, m.value))
    return frozenset(out)


def pool_joint(d: dict[str, Any]) -> JointLocal:
    """The joint local state of a decoded state of the project's model."""
    return tuple(
        (
            d["height"][p],
            d["round"][p],
            d["step"][p],
            d["lockedValue"][p],
            d["lockedRound"][p],
            d["validValue"][p],
            d["validRound"][p],
            tuple(d["decision"][p]),
        )
        for p in d["height"]
    )


def pool_sent(d: dict[str, Any]) -> SentSet:
    """The message pool of a decoded state of the project's model."""
    out = {
        ("Proposal", x["height"], x["round"], x["src"], x["value"], x["validRound"])
        for x in d["proposals"]
    }
    for kind in (PREVOTE, PRECOMMIT):
        out |= {
            ("Vote", kind, x["height"], x["round"], x["src"], x["value"]) for x in d[kind + "s"]
        }
    return frozenset(out)


def differences(a: set, b: set) -> str:
    """The few smallest elements of each one-sided difference, for the failure message."""
    only_a = sorted(a - b, key=lambda x: (len(repr(x)), repr(x)))[:5]
    only_b = sorted(b - a, key=lambda x: (len(repr(x)), repr(x)))[:5]
    return f"only in literal ({len(a - b)}): {only_a}\nonly in pool ({len(b - a)}): {only_b}"


# -- the tests -------------------------------------------------------------------
# key: (distinct joint local states, literal full states, pool full states)
EXPECTED = {
    "3v-1h-1r-1val": (78, 8_657, 109),
    "3v-1h-1r-2val": (141, 17_314, 218),
    "3v-1h-2r-1val": (1_566, 1_830_321, 4_016),
}


@pytest.mark.parametrize("key", list(CONFIGS))
def test_same_reachable_joint_local_states(key):
    literal, pool = literal_exploration(key), pool_exploration(key)
    assert literal.joint == pool.joint, differences(literal.joint, pool.joint)
    assert len(pool.joint) == EXPECTED[key][0]


@pytest.mark.parametrize("key", list(CONFIGS))
def test_same_local_states_with_sent_messages(key):
    # stronger: forgetting the received sets of the literal model gives exactly the
    # states of the pool model, which are the local states plus the sent messages
    literal, pool = literal_exploration(key), pool_exploration(key)
    assert literal.joint_sent == pool.joint_sent, differences(literal.joint_sent, pool.joint_sent)
    assert len(pool.joint_sent) == pool.full_states


@pytest.mark.parametrize("key", list(CONFIGS))
def test_pool_abstraction_shrinks_the_state_space(key):
    literal, pool = literal_exploration(key), pool_exploration(key)
    assert literal.full_states > pool.full_states
    assert (literal.full_states, pool.full_states) == EXPECTED[key][1:]


@pytest.mark.parametrize(
    ("mutant", "key"),
    [
        ("weak-quorum", "3v-1h-1r-1val"),
        ("decide-on-prevotes", "3v-1h-1r-1val"),
        ("decide-stays-in-height", "3v-1h-1r-1val"),
        ("unlock-on-new-round", "3v-1h-2r-1val"),
    ],
)
def test_comparison_tells_a_mutant_from_the_literal_model(mutant, key):
    # the comparison has teeth: a mutant that changes what a correct validator does
    # reaches a different set of joint local states
    assert pool_exploration(key, mutant).joint != literal_exploration(key).joint


def test_literal_model_acts_only_on_received_messages():
    lit = LiteralTendermint(powers=(1, 1, 1), heights=1, rounds=1, values=1)
    (s,) = lit.init_states()
    proposal = Proposal(0, 0, 0, "v0", -1)
    assert s.sent == s.received[0] == {proposal}  # the proposer p1 receives its own proposal
    assert s.received[1] == s.received[2] == frozenset()
    # p2 has not received the proposal: only its propose timeout (line 57) is enabled
    assert [line for line, _ in lit.rules(s.local[1], 1, s.received[1])] == [57]
    after = lit.deliver(s, proposal, 1)
    assert after in set(lit.next_states(s))
    assert sorted(line for line, _ in lit.rules(after.local[1], 1, after.received[1])) == [22, 57]
    # the proposer prevotes on its own proposal and has no propose timeout
    assert [line for line, _ in lit.rules(s.local[0], 0, s.received[0])] == [22]
