"""The model state as one flat, canonical byte string, and its readable view.

The state *is* its encoding: every engine stores and hashes these bytes, and
the rules in `tendermint.py` (and `_rules_c.pyx`) read and write them through
the offsets of a `Layout`. This keeps states compact (tens of bytes) and makes a compiled successor
function a drop-in replacement later. `view()` turns the bytes into named
variables for traces, ITF and replay; `from_view()` is its inverse.

Field codes (one byte each):

* values: 0 = none / not sent, 1 = nil, 2.. = valid values v0, v1, ...,
  and the last code is the one invalid value `x` (only a Byzantine proposer
  proposes it; `valid(v)` of Algorithm 1 rejects it);
* rounds stored in lockedRound/validRound are shifted by one (0 means -1);
* step: 0 propose, 1 prevote, 2 precommit;
* height: 0..H-1 while working, H once the validator has decided every height.
"""

from __future__ import annotations

from typing import Any

from bftcheck.model.config import Config

NONE = 0
NIL = 1
FIRST_VALUE = 2

STEPS = ("propose", "prevote", "precommit")
PROPOSE, PREVOTE, PRECOMMIT = 0, 1, 2

# Offsets inside one correct validator's block of local variables.
HEIGHT, ROUND, STEP, LOCKED_VALUE, LOCKED_ROUND, VALID_VALUE, VALID_ROUND = range(7)
LOCAL_FIELDS = 7  # followed by `heights` decision bytes: the validator's ledger


class Layout:
    """Byte offsets of every variable for one Config (computed once)."""

    def __init__(self, cfg: Config) -> None:
        self.cfg = cfg
        n, H, R, V = cfg.n, cfg.heights, cfg.rounds, cfg.values
        self.n, self.H, self.R, self.V = n, H, R, V
        self.powers = cfg.powers
        self.total = cfg.total_power
        self.correct = tuple(range(n - cfg.byzantine))
        self.byzantine = tuple(range(n - cfg.byzantine, n))
        self.is_byz = tuple(i >= n - cfg.byzantine for i in range(n))
        self.invalid = FIRST_VALUE + V  # code of the invalid value
        self.valid_codes = tuple(range(FIRST_VALUE, FIRST_VALUE + V))
        self.proposable = self.valid_codes + (self.invalid,)
        # Byzantine votes are nil or the id of a value valid() accepts: a vote for
        # the invalid value's id can only count where a nil vote counts too, so
        # it adds no behaviour of a correct validator (see byzantine.py). Under
        # the accept-invalid mutant valid(x) holds, so x votes are drawn and kept.
        self.accepts_invalid = cfg.mutant == "accept-invalid"
        self.byz_vote_codes = (NIL,) + self.valid_codes + (
            (self.invalid,) if self.accepts_invalid else ())

        pos = 0
        self.local = []
        for _ in self.correct:
            self.local.append(pos)
            pos += LOCAL_FIELDS + H
        self.local = tuple(self.local)
        # Messages of correct validators: one prevote and one precommit per
        # (validator, height, round); the correct proposer's proposal value and
        # its validRound (+1) per (height, round).
        slots = H * R
        self.prevote_base = pos
        pos += len(self.correct) * slots
        self.precommit_base = pos
        pos += len(self.correct) * slots
        self.proposal_base = pos
        pos += slots
        self.proposal_vr_base = pos
        pos += slots
        # Byzantine messages that correct validators have acted on: a bitmask of
        # vote codes per (Byzantine validator, height, round) and kind, and a
        # bitmask of (value, validRound) pairs per (height, round) for a
        # Byzantine proposer.
        nb = len(self.byzantine)
        self.byz_prevote_base = pos
        pos += nb * slots
        self.byz_precommit_base = pos
        pos += nb * slots
        self.proposal_bits = len(self.proposable) * R  # value index * R + (vr + 1)
        self.proposal_mask_bytes = (self.proposal_bits + 7) // 8
        self.byz_proposal_base = pos
        pos += slots * self.proposal_mask_bytes
        self.budget_used = pos
        pos += 1
        # The network (network.py), only when partitions are configured: the
        # validators each correct message has reached (one bitmask byte per
        # message slot, in the order prevotes, precommits, proposals), the
        # current network state (0 whole, k split k - 1) and the events used.
        from bftcheck.model.network import splits_of

        self.splits = (
            splits_of(n, cfg.partitions, cfg.components) if cfg.max_partitions else [])
        self.partitioned = bool(self.splits)
        if self.partitioned:
            self.reach_base = pos
            pos += 2 * len(self.correct) * slots + slots
            self.net = pos
            self.events = pos + 1
            pos += 2
        self.size = pos

    # -- offsets ---------------------------------------------------------------
    def prevote(self, ci: int, h: int, r: int) -> int:
        return self.prevote_base + (ci * self.H + h) * self.R + r

    def precommit(self, ci: int, h: int, r: int) -> int:
        return self.precommit_base + (ci * self.H + h) * self.R + r

    def proposal(self, h: int, r: int) -> int:
        return self.proposal_base + h * self.R + r

    def proposal_vr(self, h: int, r: int) -> int:
        return self.proposal_vr_base + h * self.R + r

    def byz_prevote(self, bi: int, h: int, r: int) -> int:
        return self.byz_prevote_base + (bi * self.H + h) * self.R + r

    def byz_precommit(self, bi: int, h: int, r: int) -> int:
        return self.byz_precommit_base + (bi * self.H + h) * self.R + r

    def byz_proposal(self, h: int, r: int) -> int:
        return self.byz_proposal_base + (h * self.R + r) * self.proposal_mask_bytes

    def reach(self, value_at: int) -> int:
        """Offset of the reach byte of the correct message stored at `value_at`."""
        return self.reach_base + value_at - self.prevote_base

    def message_slots(self) -> list[tuple[int, int, int, str]]:
        """(value offset, reach offset, height, label) of every correct message slot."""
        out = []
        for h in range(self.H):
            for r in range(self.R):
                for ci, i in enumerate(self.correct):
                    p = validator_name(i)
                    out.append((self.prevote(ci, h, r), h, f"prevote h{h} r{r} of {p}"))
                    out.append((self.precommit(ci, h, r), h, f"precommit h{h} r{r} of {p}"))
                q = self.proposer(h, r)
                if not self.is_byz[q]:
                    out.append((self.proposal(h, r), h,
                                f"proposal h{h} r{r} of {validator_name(q)}"))
        return [(at, self.reach(at), h, label) for at, h, label in out]

    def proposer(self, h: int, r: int) -> int:
        """Round-robin proposer rotation: proposer(h, r) = p_{(h + r) mod n}."""
        return (h + r) % self.n

    # -- names -----------------------------------------------------------------
    def value_name(self, code: int) -> str:
        if code == NONE:
            return "none"
        if code == NIL:
            return "nil"
        if code == self.invalid:
            return "x"
        return f"v{code - FIRST_VALUE}"

    def value_code(self, name: str) -> int:
        if name == "none":
            return NONE
        if name == "nil":
            return NIL
        if name == "x":
            return self.invalid
        if name.startswith("v") and name[1:].isdigit() and int(name[1:]) < self.V:
            return FIRST_VALUE + int(name[1:])
        raise ValueError(f"unknown value {name!r}")

    def proposal_bit(self, value_code: int, vr: int) -> int:
        return (value_code - FIRST_VALUE) * self.R + (vr + 1)

    def proposal_of_bit(self, bit: int) -> tuple[int, int]:
        return FIRST_VALUE + bit // self.R, bit % self.R - 1


def validator_name(i: int) -> str:
    return f"p{i + 1}"


def view(lay: Layout, s: bytes) -> dict[str, Any]:
    """The state as named variables (the ITF/trace form). Inverse: `from_view`."""
    out: dict[str, Any] = {}
    fields = (
        "height",
        "round",
        "step",
        "lockedValue",
        "lockedRound",
        "validValue",
        "validRound",
        "decision",
    )
    for f in fields:
        out[f] = {}
    for ci, i in enumerate(lay.correct):
        b = lay.local[ci]
        p = validator_name(i)
        out["height"][p] = s[b + HEIGHT]
        out["round"][p] = s[b + ROUND]
        out["step"][p] = STEPS[s[b + STEP]]
        out["lockedValue"][p] = lay.value_name(s[b + LOCKED_VALUE] or NIL)
        out["lockedRound"][p] = s[b + LOCKED_ROUND] - 1
        out["validValue"][p] = lay.value_name(s[b + VALID_VALUE] or NIL)
        out["validRound"][p] = s[b + VALID_ROUND] - 1
        out["decision"][p] = [lay.value_name(s[b + LOCAL_FIELDS + h] or NIL) for h in range(lay.H)]
    proposals, prevotes, precommits = [], [], []
    for h in range(lay.H):
        for r in range(lay.R):
            src = lay.proposer(h, r)
            if not lay.is_byz[src]:
                code = s[lay.proposal(h, r)]
                if code:
                    proposals.append(_seen(lay, s, lay.proposal(h, r), _proposal(
                        lay, h, r, src, code, s[lay.proposal_vr(h, r)] - 1)))
            else:
                base = lay.byz_proposal(h, r)
                for bit in range(lay.proposal_bits):
                    if s[base + bit // 8] >> (bit % 8) & 1:
                        code, vr = lay.proposal_of_bit(bit)
                        proposals.append(_proposal(lay, h, r, src, code, vr))
            for ci, i in enumerate(lay.correct):
                for store, off in (
                    (prevotes, lay.prevote(ci, h, r)),
                    (precommits, lay.precommit(ci, h, r)),
                ):
                    if s[off]:
                        store.append(_seen(lay, s, off, _vote(lay, h, r, i, s[off])))
            for bi, i in enumerate(lay.byzantine):
                for store, off in (
                    (prevotes, lay.byz_prevote(bi, h, r)),
                    (precommits, lay.byz_precommit(bi, h, r)),
                ):
                    mask = s[off]
                    for code in lay.byz_vote_codes:
                        if mask >> code & 1:
                            store.append(_vote(lay, h, r, i, code))
    out["proposals"] = proposals
    out["prevotes"] = prevotes
    out["precommits"] = precommits
    out["byzantineUsed"] = s[lay.budget_used]
    if lay.partitioned:
        k = s[lay.net]
        split = lay.splits[k - 1] if k else ()
        out["network"] = {
            "split": [[validator_name(i) for i in range(lay.n) if c >> i & 1] for c in split],
            "events": s[lay.events],
        }
    return out


def _seen(lay: Layout, s: bytes, at: int, m: dict[str, Any]) -> dict[str, Any]:
    """With partitions, add who has the correct message at `at` (its reach)."""
    if lay.partitioned:
        m["seenBy"] = [validator_name(i) for i in range(lay.n) if s[lay.reach(at)] >> i & 1]
    return m


def _proposal(lay: Layout, h: int, r: int, src: int, code: int, vr: int) -> dict[str, Any]:
    return {
        "height": h,
        "round": r,
        "src": validator_name(src),
        "value": lay.value_name(code),
        "validRound": vr,
    }


def _vote(lay: Layout, h: int, r: int, src: int, code: int) -> dict[str, Any]:
    return {"height": h, "round": r, "src": validator_name(src), "value": lay.value_name(code)}


def from_view(lay: Layout, v: dict[str, Any]) -> bytes:
    """Encode a view back to the canonical bytes; raises ValueError on a bad view."""
    s = bytearray(lay.size)
    names = {validator_name(i): i for i in range(lay.n)}
    for ci, i in enumerate(lay.correct):
        b = lay.local[ci]
        p = validator_name(i)
        s[b + HEIGHT] = _small(v["height"][p], lay.H)
        s[b + ROUND] = _small(v["round"][p], lay.R - 1)
        s[b + STEP] = STEPS.index(v["step"][p])
        lv = lay.value_code(v["lockedValue"][p])
        s[b + LOCKED_VALUE] = 0 if lv == NIL else lv
        s[b + LOCKED_ROUND] = _small(v["lockedRound"][p] + 1, lay.R)
        vv = lay.value_code(v["validValue"][p])
        s[b + VALID_VALUE] = 0 if vv == NIL else vv
        s[b + VALID_ROUND] = _small(v["validRound"][p] + 1, lay.R)
        dec = v["decision"][p]
        if len(dec) != lay.H:
            raise ValueError(f"decision of {p} has {len(dec)} entries, expected {lay.H}")
        for h, name in enumerate(dec):
            code = lay.value_code(name)
            s[b + LOCAL_FIELDS + h] = 0 if code == NIL else code
    for m in v["proposals"]:
        h, r, src = _small(m["height"], lay.H - 1), _small(m["round"], lay.R - 1), names[m["src"]]
        if src != lay.proposer(h, r):
            raise ValueError(f"proposal from {m['src']} who is not the proposer of h{h} r{r}")
        code, vr = lay.value_code(m["value"]), m["validRound"]
        if not -1 <= vr < r:
            raise ValueError(f"proposal validRound {vr} out of range")
        if lay.is_byz[src]:
            bit = lay.proposal_bit(code, vr)
            s[lay.byz_proposal(h, r) + bit // 8] |= 1 << (bit % 8)
        else:
            s[lay.proposal(h, r)] = code
            s[lay.proposal_vr(h, r)] = vr + 1
            _set_seen(lay, s, lay.proposal(h, r), m, names)
    for kind, store in (("prevote", v["prevotes"]), ("precommit", v["precommits"])):
        for m in store:
            h, r, src = (
                _small(m["height"], lay.H - 1),
                _small(m["round"], lay.R - 1),
                names[m["src"]],
            )
            code = lay.value_code(m["value"])
            if lay.is_byz[src]:
                bi = src - lay.byzantine[0]
                off = (
                    lay.byz_prevote(bi, h, r) if kind == "prevote" else lay.byz_precommit(bi, h, r)
                )
                s[off] |= 1 << code
            else:
                off = lay.prevote(src, h, r) if kind == "prevote" else lay.precommit(src, h, r)
                s[off] = code
                _set_seen(lay, s, off, m, names)
    s[lay.budget_used] = _small(v["byzantineUsed"], 255)
    if lay.partitioned:
        net = v["network"]
        split = tuple(sorted(_mask_of(c, names) for c in net["split"]))
        if split and split not in lay.splits:
            raise ValueError(f"network split {net['split']} is not one of the configured splits")
        s[lay.net] = lay.splits.index(split) + 1 if split else 0
        s[lay.events] = _small(net["events"], lay.cfg.max_partitions)
    return bytes(s)


def _mask_of(members: list[str], names: dict[str, int]) -> int:
    m = 0
    for p in members:
        m |= 1 << names[p]
    return m


def _set_seen(lay: Layout, s: bytearray, at: int, m: dict[str, Any],
              names: dict[str, int]) -> None:
    if lay.partitioned:
        s[lay.reach(at)] = _mask_of(m["seenBy"], names)


def _small(x: Any, hi: int) -> int:
    if isinstance(x, bool) or not isinstance(x, int) or not 0 <= x <= hi:
        raise ValueError(f"number {x!r} out of range 0..{hi}")
    return x
