"""Votes and proposals that correct validators count, with Byzantine messages
entering the state only when a correct validator first acts on them.

Why this loses no behaviour. A Byzantine validator may send any message at any
time, but a message that no correct validator acts on changes nothing a correct
validator does. So instead of a send action (or a precomputed set), each rule
that counts messages may draw on Byzantine messages not yet in the state: the
message is recorded then (bitmask per Byzantine validator, height, round and
kind), counted once against the budget, and stays visible to everyone after,
as a sent message would. Only *minimal* sets of new Byzantine senders are
drawn (no proper subset already reaches the threshold): any larger set adds
messages that are not needed now and can still be drawn, for the same budget,
when some later step needs them.

Byzantine votes carry nil or a valid value's id: a vote for the invalid
value's id is counted only where any vote counts (lines 34, 47, 55), see below.

Thresholds over messages for *any* value -- the timeouts of lines 34 and 47
and the round skip of line 55 -- always count the Byzantine validators' power,
without recording a message or spending budget. A Byzantine validator can
always have sent some message of that round, and which one is irrelevant:
if it also sends a vote for a specific value there (recorded when used), the
message counted here can be that very vote, so counting it creates no
evidence of equivocation that the real run would not have. The budget thus
bounds the value-carrying Byzantine messages, the only ones whose content
a correct validator's decision can depend on.
"""

from __future__ import annotations

from collections.abc import Callable
from itertools import combinations

from bftcheck.model.state import Layout

# One addition: (byte offset, bit) to OR into the state. A draw is a tuple of
# additions; [()] means "enough already, nothing to add".
Draw = tuple[tuple[int, int], ...]

PREVOTE_KIND, PRECOMMIT_KIND = 0, 1


class Tally:
    """Power counts over the message pool, plus the minimal Byzantine draws."""

    def __init__(self, lay: Layout, quorum: Callable[[int], bool]) -> None:
        self.lay = lay
        self.quorum = quorum
        total = lay.total
        self.skip = lambda p: 3 * p > total  # line 55: f + 1, i.e. more than 1/3
        self.correct_power = tuple(lay.powers[i] for i in lay.correct)
        self.byz_power = tuple(lay.powers[i] for i in lay.byzantine)
        self.budget = lay.cfg.byz_budget
        self.all_byz_power = sum(self.byz_power)

    def sees(self, s: bytes, at: int, viewer: int | None) -> bool:
        """Whether `viewer` may act on the correct message stored at `at`: always
        without partitions (viewer None), else if the message has reached it."""
        return viewer is None or bool(s[self.lay.reach(at)] >> viewer & 1)

    def _correct_offset(self, kind: int, ci: int, h: int, r: int) -> int:
        return self.lay.prevote(ci, h, r) if kind == PREVOTE_KIND else self.lay.precommit(ci, h, r)

    def _byz_offset(self, kind: int, bi: int, h: int, r: int) -> int:
        lay = self.lay
        return lay.byz_prevote(bi, h, r) if kind == PREVOTE_KIND else lay.byz_precommit(bi, h, r)

    def budget_left(self, s: bytes) -> int:
        return self.budget - s[self.lay.budget_used]

    def for_value(
        self,
        s: bytes,
        kind: int,
        h: int,
        r: int,
        code: int,
        enough: Callable[[int], bool] | None = None,
        viewer: int | None = None,
    ) -> list[Draw]:
        """Draws under which `kind` messages for `code` at (h, r), as `viewer`
        sees them, reach `enough` (default: a quorum, more than 2/3 of the power)."""
        enough = enough or self.quorum
        have = 0
        for ci, pw in enumerate(self.correct_power):
            at = self._correct_offset(kind, ci, h, r)
            if s[at] == code and self.sees(s, at, viewer):
                have += pw
        bit = 1 << code
        free: list[tuple[int, int]] = []
        for bi, pw in enumerate(self.byz_power):
            off = self._byz_offset(kind, bi, h, r)
            if s[off] & bit:
                have += pw
            else:
                free.append((off, pw))
        if enough(have):
            return [()]
        return [
            tuple((off, bit) for off, _ in combo)
            for combo in self._minimal(have, free, enough, self.budget_left(s))
        ]

    def any_quorum(self, s: bytes, kind: int, h: int, r: int, viewer: int | None = None) -> bool:
        """Lines 34, 47: "2f + 1 <kind, h, r, *>" -- messages for any value.
        Byzantine validators always count (see the module docstring)."""
        have = self.all_byz_power
        for ci, pw in enumerate(self.correct_power):
            at = self._correct_offset(kind, ci, h, r)
            if s[at] and self.sees(s, at, viewer):
                have += pw
        return self.quorum(have)

    def round_skip(self, s: bytes, h: int, r: int, viewer: int | None = None) -> bool:
        """Line 55: senders of any message of (h, r) hold more than 1/3 of the
        power ("f + 1 <*, h_p, round, *, *>"). Byzantine validators always count."""
        lay = self.lay
        have = self.all_byz_power
        for ci, pw in enumerate(self.correct_power):
            sent = [lay.prevote(ci, h, r), lay.precommit(ci, h, r)]
            if lay.proposer(h, r) == lay.correct[ci]:
                sent.append(lay.proposal(h, r))
            if any(s[at] and self.sees(s, at, viewer) for at in sent):
                have += pw
        return self.skip(have)

    @staticmethod
    def _minimal(have: int, free: list, enough: Callable[[int], bool], left: int) -> list:
        """Minimal subsets of `free` (items (payload, power)) whose power, added
        to `have`, is enough; at most `left` items each."""
        out = []
        for k in range(1, min(left, len(free)) + 1):
            for combo in combinations(free, k):
                total = have + sum(pw for _, pw in combo)
                if enough(total) and all(not enough(total - pw) for _, pw in combo):
                    out.append(combo)
        return out


def apply_draw(buf: bytearray, draw: Draw, budget_offset: int) -> None:
    """Record the drawn Byzantine messages in a state being built."""
    for off, bit in draw:
        buf[off] |= bit
    buf[budget_offset] += len(draw)
