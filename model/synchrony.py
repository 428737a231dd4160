"""Partial synchrony: when a correct validator's timeout may fire after GST.

The paper's model (arXiv:1807.04938, section 2): before the global
stabilisation time GST messages may take any time; from GST on, a message
sent (or received) by a correct validator reaches every correct validator
within a bound Delta, and timeouts grow with the round until they exceed what
a step needs. bftcheck has no clocks; the configuration key `gst` names a
round, and GST is the moment the first correct validator enters round `gst`
of height 0 (or height 1, if that comes first). With partitions, the network
must also be whole: no split happens from GST on (`splits_allowed`), and a
split that is open at GST makes the synchronous period begin at its heal.

What "timeouts long enough" means in the sent-pool abstraction
---------------------------------------------------------------
Upon rules fire when their messages arrive; a timeout fires only when its
duration has passed. After GST, with the duration longer than the time every
correct validator needs to send the message the step waits for plus Delta,
a timeout of a step of validator A fires only when

(a) every correct validator other than A has sent the message of this
    (height, round) that the step waits for -- the proposal of a correct
    proposer for the propose step, a prevote for the prevote step, a
    precommit for the precommit step -- and it is visible to A, or that
    validator has moved past this round without sending it (then it never
    will); and
(b) no upon rule of the step that A can already take fires instead: the
    prevote rules of lines 22 and 28 (propose step), the precommit rules of
    lines 36 and 44 (prevote step), and before leaving the round on
    timeoutPrecommit, Decide (line 49) and line 36's valid-value update (a
    message some correct validator received reaches A within Delta, which
    the long timeoutPrecommit exceeds). "Already take" means with the messages
    in the state: no Byzantine message newly drawn.

Why this is exactly the paper's assumption and hides nothing after GST:

* Correct validators in different rounds at GST. Only the timeouts of rounds
  from GST on are constrained (`timely`): a laggard's timeouts in rounds before
  `gst` may have been scheduled before GST and stay free. A validator ahead
  waits (a) for a laggard's message only while the laggard has not moved past
  the round; the laggard catches up by lines 47 or 55, whose messages are
  visible to it, so waiting never blocks a run the real protocol can go on in.
* Byzantine validators. Their messages are drawn when a correct validator
  first acts on one (model/byzantine.py), at any time: a Byzantine proposer
  may stay silent (TimeoutPropose then fires), and a Byzantine vote may reach
  one validator just before its timeout and another just after. In (b) only
  messages already in the state count; a timeout that the real run takes
  before a Byzantine message reached A is, in the model, the same timeout
  taken before the step that drew that message (the two steps touch
  different validators' variables and commute), so no interleaving is lost.
* Round skips (line 55) and line 47 are upon rules, but after GST they come
  after what the validator already holds of its round: the higher round's
  messages come from a correct validator that left the round on a long
  timeout, by when every message a correct validator had used reached all.
* Once every message a step waits for is there, (b) only removes the
  timeout where the paper's timing makes an upon rule fire first.

The round bound. The state graph has no cycles (every step moves forward), so
a run that never decides is cut by the round bound, and a cut run proves
nothing by itself. Algorithm 1's guarantee decides which cut runs count
(`guaranteed`), by two lemmas about rounds r >= gst:

1. If every correct validator prevotes the same value v in round r, all of
   them decide in round r: each holds 2f + 1 correct prevotes for v, so line
   36 fires before its timeoutPrevote and before a round skip, and the first
   to leave the round waits (a) for every correct precommit, which are for v,
   so Decide fires first.
2. Such a round comes. A correct validator's validRound changes only in the
   round it names, so once M, the highest validRound of the correct
   validators, is passed, no validRound or lock changes unless a POL forms.
   A correct validator holding validRound M that proposes in a round r > M
   proposes that value with validRound M, which every correct validator
   accepts (each lock is at most its own validRound, at most M): lemma 1.

A run cut by the bound after a round of lemma 1, or after a holder of M
proposed (lemma 2, on the last state's validRounds), is a real violation of
termination; a run cut before is the bound's doing, and the verdict is then
unknown, with the advice to raise the rounds. With partitions every cut run
is unknown: the lemmas need a round entered after the heal that began
synchrony, and the state does not record when that was.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from bftcheck.model.byzantine import PRECOMMIT_KIND, PREVOTE_KIND
from bftcheck.model.mutants import VariantUnsupported
from bftcheck.model.state import HEIGHT, NIL, PREVOTE, PROPOSE, ROUND, VALID_ROUND, Layout

if TYPE_CHECKING:
    from bftcheck.model.tendermint import TendermintModel, _Turn

ENOUGH = [()]  # a threshold the messages in the state already reach: no new draw


def refuse_gst(backend: str, gst: int | None) -> None:
    """The Z3 rules have no partial synchrony (the Python and compiled rules and
    the TLA+ twin have): refuse a configuration with GST (one line, exit 2)."""
    from bftcheck.model.mutants import BACKENDS, FIXES

    if gst is not None:
        raise VariantUnsupported(f"{BACKENDS[backend]} do not implement partial synchrony "
                                 f"(gst {gst}): {FIXES[backend]}")


class Synchrony:
    """The timeout guards of one model after GST (see the module docstring)."""

    def __init__(self, model: TendermintModel) -> None:
        self.model = model
        self.lay: Layout = model.lay
        self.gst: int | None = model.cfg.gst

    def guaranteed(self, s: bytes, h: int) -> bool:
        """Algorithm 1 would have decided height h by now (module docstring): some
        correct validator holding the highest validRound M of the correct ones
        is the proposer of a round after M, at or after GST, that the run has
        reached; or in a round at or after GST every correct validator
        prevoted the same value.

        With partitions, never: a split open at GST moves the start of synchrony
        to its heal, and the lemmas need a round entered after it, which the
        state does not record (a round in progress at the heal had its timeouts
        free before it). A cut run is then unknown, never a false violation."""
        lay = self.lay
        if lay.partitioned:
            return False
        first = self.gst if h == 0 and self.gst is not None else 0
        here = {ci: s[b + VALID_ROUND] - 1 for ci, b in enumerate(lay.local)
                if s[b + HEIGHT] == h}
        if not here:
            return False
        top = max(here.values())
        reached = max(s[lay.local[ci] + ROUND] for ci in here)
        for r in range(max(top + 1, first), reached + 1):
            q = lay.proposer(h, r)
            if not lay.is_byz[q] and here.get(lay.correct.index(q)) == top:
                return True
        return any(self._unanimous(s, h, r) for r in range(first, reached + 1))

    def _unanimous(self, s: bytes, h: int, r: int) -> bool:
        """Every correct validator prevoted the same value in round r."""
        lay = self.lay
        votes = {s[lay.prevote(ci, h, r)] for ci in range(len(lay.correct))}
        return len(votes) == 1 and votes.pop() > NIL

    def cut_by_bound(self, s: bytes) -> bool:
        """A state with no step where the round bound, not the protocol, ended the
        run: a correct validator would start a round past the bound, and the
        lowest undecided height has not had the round that guarantees a
        decision (`guaranteed`)."""
        from bftcheck.model.properties import round_bounded

        lay, model = self.lay, self.model
        open_heights = [s[b + HEIGHT] for b in lay.local if s[b + HEIGHT] < lay.H]
        if not open_heights:
            return False
        bounded = any(round_bounded(model, s, ci) for ci in range(len(lay.correct)))
        return bounded and not self.guaranteed(s, min(open_heights))

    # -- where GST is -----------------------------------------------------------
    def passed(self, s: bytes) -> bool:
        """GST has happened: some correct validator reached round gst of height 0."""
        g = self.gst
        return g is not None and any(s[b + HEIGHT] > 0 or s[b + ROUND] >= g
                                     for b in self.lay.local)

    def synchronous(self, s: bytes) -> bool:
        """The synchronous region: GST has passed and the network is whole."""
        lay = self.lay
        return self.passed(s) and (not lay.partitioned or s[lay.net] == 0)

    def splits_allowed(self, s: bytes) -> bool:
        return not self.passed(s)

    def timely(self, t: _Turn) -> bool:
        """Whether the timeouts of this validator's step are long enough: the
        step began after GST and the network is whole."""
        assert self.gst is not None
        return (t.h > 0 or t.r >= self.gst) and self.synchronous(t.s)

    # -- (a): the messages a step waits for ---------------------------------------
    def _moved_past(self, s: bytes, cj: int, h: int, r: int) -> bool:
        b = self.lay.local[cj]
        return s[b + HEIGHT] > h or (s[b + HEIGHT] == h and s[b + ROUND] > r)

    def _waits_for_votes(self, t: _Turn, kind: int) -> bool:
        """Some other correct validator's vote of (h, r) is not yet visible to
        this one and may still come."""
        lay, tally = self.lay, self.model.tally
        for cj in range(len(lay.correct)):
            if cj == t.ci:
                continue
            at = lay.prevote(cj, t.h, t.r) if kind == PREVOTE_KIND else \
                lay.precommit(cj, t.h, t.r)
            if t.s[at]:
                if not tally.sees(t.s, at, t.viewer):
                    return True
            elif not self._moved_past(t.s, cj, t.h, t.r):
                return True
        return False

    # -- (b): upon rules that come first -------------------------------------------
    def _held(self, t: _Turn, r: int) -> list[tuple[int, int]]:
        """(value, validRound) of the proposals of round r this validator holds,
        without drawing a Byzantine one."""
        return [(v, vr) for v, vr, draw in self.model._proposals(t.s, t.h, r, t.viewer)
                if draw == ()]

    def _quorum_held(self, t: _Turn, kind: int, r: int, v: int) -> bool:
        return self.model.tally.for_value(t.s, kind, t.h, r, v, viewer=t.viewer) == ENOUGH

    def _pol_held(self, t: _Turn) -> bool:
        """Line 36 can fire on held messages: a proposal of this round and 2f + 1
        prevotes for it."""
        model = self.model
        return any(model.valid(v) and model.usable_proposal(t, v)
                   and self._quorum_held(t, PREVOTE_KIND, t.r, v) for v, _ in self._held(t, t.r))

    def _decision_held(self, t: _Turn) -> bool:
        model = self.model
        kind = PREVOTE_KIND if model.mutant == "decide-on-prevotes" else PRECOMMIT_KIND
        return any(model.valid(v) and self._quorum_held(t, kind, rd, v)
                   for rd in range(self.lay.R) for v, _ in self._held(t, rd))

    def _step_rule_held(self, t: _Turn) -> bool:
        """An upon rule of the validator's current step can fire on held messages:
        a prevote rule (lines 22, 28), a precommit rule (36, 44), or line 36's
        valid-value update in the precommit step (once per round)."""
        if t.step == PROPOSE:
            # prevote-nil-on-pol (tendermint/spec#37): its line 22 takes any proposal
            any_proposal = self.model.mutant == "prevote-nil-on-pol"
            return any(vr == -1 or any_proposal
                       or (vr < t.r and self._quorum_held(t, PREVOTE_KIND, vr, v))
                       for v, vr in self._held(t, t.r))
        if t.step == PREVOTE:
            return self._pol_held(t) or self._quorum_held(t, PREVOTE_KIND, t.r, NIL)
        return t.s[t.b + VALID_ROUND] - 1 < t.r and self._pol_held(t)

    # -- the three timeouts --------------------------------------------------------
    def propose_due(self, t: _Turn) -> bool:
        """TimeoutPropose (line 57) may fire."""
        if not self.timely(t):
            return True
        lay = self.lay
        q = lay.proposer(t.h, t.r)
        if not lay.is_byz[q] and not t.s[lay.proposal(t.h, t.r)]:
            # a correct proposer's proposal is awaited until it comes, unless
            # the proposer moved past the round without sending one
            return self._moved_past(t.s, lay.correct.index(q), t.h, t.r)
        return not self._step_rule_held(t)

    def prevote_due(self, t: _Turn) -> bool:
        """TimeoutPrevote (line 61) may fire (its trigger, line 34, holds)."""
        if not self.timely(t):
            return True
        return not (self._waits_for_votes(t, PREVOTE_KIND) or self._step_rule_held(t))

    def skip_due(self, t: _Turn) -> bool:
        """A round skip (line 55) may fire: after GST, what the validator already
        holds of its round is used first. The messages of a higher round come
        from a correct validator that left this round on a timeout, after every
        message some correct validator had used by then reached everyone."""
        if not self.timely(t):
            return True
        return not (self._decision_held(t) or self._step_rule_held(t))

    def precommit_due(self, t: _Turn) -> bool:
        """TimeoutPrecommit (line 65) may fire (its trigger, line 47, holds)."""
        if not self.timely(t):
            return True
        if self.model.mutant == "skip-timeout-precommit":
            # tendermint#1690: the next round starts on 2f + 1 precommits at once;
            # a decision the validator holds still comes first (it commits)
            return not self._decision_held(t)
        return not (self._waits_for_votes(t, PRECOMMIT_KIND) or self._decision_held(t)
                    or self._step_rule_held(t))
