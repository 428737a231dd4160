# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True
"""Compiled successor function and property checks of the Tendermint model.

This is a transcription of model/tendermint.py and model/properties.py (the
source of truth) into C-level Cython, for speed: the same successors, in the
same order, with the same action kinds, and the same property values.
tests/model/test_rules_compiled.py checks that, state by state, on every state
reachable in a set of configurations. Any change to the Python rules must be
made here too; that test fails until it is.

Partitions (model/network.py) are transcribed too: with a partitioned layout a
correct validator reads only the correct messages whose reach byte holds it,
every send sets the reach to the sender's component, every successor is
settled (gossip closure, then the reach of left heights normalised), and block
sync and the split/heal events follow the validator steps
(tests/model/test_rules_compiled_network.py). The rules are compiled twice
through the fused type `Net`, once without partitions (char) and once with
(short): the branches on `Net is short` are resolved by the compiler, so the
layouts without partitions run the same code as before partitions existed.
"""

from libc.stdlib cimport malloc, free
from libc.string cimport memcmp, memcpy
from cpython.pycapsule cimport PyCapsule_GetContext, PyCapsule_New, PyCapsule_SetContext
from cpython.ref cimport Py_DECREF, Py_INCREF
from cpython.bytes cimport PyBytes_AS_STRING, PyBytes_GET_SIZE, PyBytes_FromStringAndSize

include "native_model.pxi"

# The properties (properties.py) the native entry evaluates, bit i = entry i.
STATE_PREDICATES = ("agreement", "validity", "ledger-consistency", "accountability",
                    "no-false-accusation", "decision-reachable", "valid-block")
STEP_PREDICATES = ("integrity", "round-skip-reachable", "lock-change-reachable")

# The two compilations of the rules: char, no partitions; short, partitions.
ctypedef fused Net:
    char
    short

# Byte offsets inside one correct validator's block (as in state.py).
cdef enum:
    HEIGHT = 0
    ROUND = 1
    STEP = 2
    LOCKED_VALUE = 3
    LOCKED_ROUND = 4
    VALID_VALUE = 5
    VALID_ROUND = 6
    LOCAL_FIELDS = 7
    NIL = 1
    FIRST_VALUE = 2
    PROPOSE = 0
    PREVOTE = 1
    PRECOMMIT = 2
    MAX_DRAWS = 512
    MAX_PAIRS = 8
    MAX_HEIGHTS = 8

# Action kinds, in the order of KIND_NAMES.
cdef enum:
    K_PREVOTE = 0
    K_TIMEOUT_PROPOSE = 1
    K_PRECOMMIT = 2
    K_UPDATE_VALID = 3
    K_TIMEOUT_PREVOTE = 4
    K_TIMEOUT_PRECOMMIT = 5
    K_DECIDE = 6
    K_ROUND_SKIP = 7
    K_SYNC_BLOCK = 8
    K_SPLIT = 9
    K_HEAL = 10

KIND_NAMES = ("Prevote", "TimeoutPropose", "Precommit", "UpdateValid", "TimeoutPrevote",
              "TimeoutPrecommit", "Decide", "RoundSkip", "SyncBlock", "Split", "Heal")

# Mutant switches.
cdef enum:
    M_WEAK_QUORUM = 1
    M_NO_LOCK = 2
    M_DECIDE_ON_PREVOTES = 4
    M_UNLOCK_ON_NEW_ROUND = 8
    M_ACCEPT_INVALID = 16
    M_DECIDE_STAYS = 32
    M_NO_BLOCK_SYNC = 64
    M_UNVERIFIED_SYNC = 128
    M_REGOSSIP_ALL_HEIGHTS = 256
    M_IGNORE_LOCK_ROUND = 512
    M_PROPOSE_ANY_VALUE = 1024
    M_PREVOTE_NIL_ON_POL = 2048
    M_SKIP_TIMEOUT_PRECOMMIT = 4096
    M_FIRST_PROPOSAL_ONLY = 8192

MUTANT_FLAGS = {None: 0, "weak-quorum": M_WEAK_QUORUM, "no-lock": M_NO_LOCK,
                "decide-on-prevotes": M_DECIDE_ON_PREVOTES,
                "unlock-on-new-round": M_UNLOCK_ON_NEW_ROUND,
                "accept-invalid": M_ACCEPT_INVALID, "decide-stays-in-height": M_DECIDE_STAYS,
                "no-block-sync": M_NO_BLOCK_SYNC, "unverified-sync": M_UNVERIFIED_SYNC,
                "regossip-all-heights": M_REGOSSIP_ALL_HEIGHTS,
                "ignore-lock-round": M_IGNORE_LOCK_ROUND,
                "propose-any-value": M_PROPOSE_ANY_VALUE,
                "prevote-nil-on-pol": M_PREVOTE_NIL_ON_POL,
                "skip-timeout-precommit": M_SKIP_TIMEOUT_PRECOMMIT,
                "first-proposal-only": M_FIRST_PROPOSAL_ONLY}


# Minimal sets of Byzantine messages to draw: up to MAX_DRAWS sets of
# (offset, bit) pairs. count == 1 with len[0] == 0 means "enough already".
ctypedef struct Draws:
    int count
    int lens[MAX_DRAWS]
    int offs[MAX_DRAWS][MAX_PAIRS]
    int bits[MAX_DRAWS][MAX_PAIRS]


cdef class Rules:
    cdef int n, H, R, V, nc, nb, size, total, budget, flags, invalid, pmb, pbits
    cdef int prevote_base, precommit_base, proposal_base, proposal_vr_base
    cdef int byz_prevote_base, byz_precommit_base, byz_proposal_base, budget_used
    cdef int all_byz_power
    cdef int* powers
    cdef int* local
    cdef unsigned char* buf
    cdef unsigned char* buf2
    # Where successors go (the caller's buffers): at most `ocap` of them are
    # written; `ocount` counts them all, so a count above `ocap` asks for more room.
    cdef unsigned char* obuf
    cdef unsigned short* okinds
    cdef int ocap, ocount
    cdef unsigned char* obuf_own
    cdef unsigned short* okinds_own
    cdef int own_cap
    cdef bftcheck_native_model entry
    cdef Draws* d1
    cdef Draws* d2
    # Partial synchrony (synchrony.py): the GST round, or -1 for none.
    cdef int gst
    # The network (network.py), set only for a partitioned layout: `shift` from a
    # correct message's value byte to its reach byte; the network state and
    # events bytes; per network state k, `peers[k * n + i]` (validator i's
    # component mates) and `spread[k * 256 + m]` (the union of the peers of the
    # validators in mask m); the correct message slots (value offset, height).
    cdef bint parted
    cdef int shift, net_at, events_at, max_events, nsplits, everyone, byz_mask, all_correct
    cdef int nslots
    cdef unsigned char* peers
    cdef unsigned char* spread
    cdef int* slot_val
    cdef int* slot_h
    cdef unsigned char* sbuf
    # block sync: drop a successor that settles to the same state as an earlier
    # one of the same sync steps (those from output position `dedup_from` on)
    cdef bint dedup
    cdef int dedup_from

    def __cinit__(self, lay, mutant):
        cdef int i
        self.n, self.H, self.R, self.V = lay.n, lay.H, lay.R, lay.V
        self.nc, self.nb = len(lay.correct), len(lay.byzantine)
        if self.nb > MAX_PAIRS:
            raise ValueError("the compiled rules support at most 8 Byzantine validators")
        self.size = lay.size
        self.total = lay.total
        self.budget = lay.cfg.byz_budget
        self.flags = MUTANT_FLAGS[mutant]
        self.gst = -1 if lay.cfg.gst is None else lay.cfg.gst
        self.invalid = lay.invalid
        self.pmb = lay.proposal_mask_bytes
        self.pbits = lay.proposal_bits
        self.prevote_base = lay.prevote_base
        self.precommit_base = lay.precommit_base
        self.proposal_base = lay.proposal_base
        self.proposal_vr_base = lay.proposal_vr_base
        self.byz_prevote_base = lay.byz_prevote_base
        self.byz_precommit_base = lay.byz_precommit_base
        self.byz_proposal_base = lay.byz_proposal_base
        self.budget_used = lay.budget_used
        self.powers = <int*>malloc(self.n * sizeof(int))
        self.local = <int*>malloc(max(self.nc, 1) * sizeof(int))
        self.buf = <unsigned char*>malloc(self.size)
        self.buf2 = <unsigned char*>malloc(self.size)
        if not (self.powers and self.local and self.buf and self.buf2):
            raise MemoryError()
        self.all_byz_power = 0
        for i in range(self.n):
            self.powers[i] = lay.powers[i]
            if i >= self.nc:
                self.all_byz_power += lay.powers[i]
        for i in range(self.nc):
            self.local[i] = lay.local[i]
        self.d1 = <Draws*>malloc(sizeof(Draws))
        self.d2 = <Draws*>malloc(sizeof(Draws))
        if not (self.d1 and self.d2):
            raise MemoryError()
        self.own_cap = 0
        self.obuf_own = NULL
        self.okinds_own = NULL
        self.grow_own(64)
        self.parted = lay.partitioned
        if self.parted:
            self.init_network(lay)

    cdef init_network(self, lay):
        from bftcheck.model.network import Network

        cdef int i, k, m, x, nstates
        net = Network(lay)
        nstates = len(net.peers)
        self.shift = lay.reach_base - lay.prevote_base
        self.net_at = lay.net
        self.events_at = lay.events
        self.max_events = lay.cfg.max_partitions
        self.nsplits = len(lay.splits)
        self.everyone = net.everyone
        self.byz_mask = 0
        for i in range(self.nc, self.n):
            self.byz_mask |= 1 << i
        self.all_correct = (1 << self.nc) - 1
        slots = lay.message_slots()
        self.nslots = len(slots)
        self.peers = <unsigned char*>malloc(nstates * self.n)
        self.spread = <unsigned char*>malloc(nstates * 256)
        self.slot_val = <int*>malloc(max(self.nslots, 1) * sizeof(int))
        self.slot_h = <int*>malloc(max(self.nslots, 1) * sizeof(int))
        self.sbuf = <unsigned char*>malloc(self.size)
        if not (self.peers and self.spread and self.slot_val and self.slot_h and self.sbuf):
            raise MemoryError()
        for k in range(nstates):
            for i in range(self.n):
                self.peers[k * self.n + i] = net.peers[k][i]
            for m in range(256):
                x = 0
                for i in range(self.n):
                    if m >> i & 1:
                        x |= net.peers[k][i]
                self.spread[k * 256 + m] = x
        for i, (value_at, reach_at, h, _label) in enumerate(slots):
            if reach_at != value_at + self.shift:
                raise ValueError("reach bytes out of step with the message slots")
            self.slot_val[i] = value_at
            self.slot_h[i] = h

    def __dealloc__(self):
        free(self.powers)
        free(self.local)
        free(self.buf)
        free(self.buf2)
        free(self.peers)
        free(self.spread)
        free(self.slot_val)
        free(self.slot_h)
        free(self.sbuf)
        free(self.d1)
        free(self.d2)
        free(self.okinds_own)
        free(self.obuf_own)

    # -- thresholds and offsets ------------------------------------------------
    cdef inline bint quorum(self, int p) noexcept nogil:
        if self.flags & M_WEAK_QUORUM:
            return 2 * p >= self.total
        return 3 * p > 2 * self.total

    cdef inline bint skip(self, int p) noexcept nogil:
        return 3 * p > self.total

    cdef inline bint enough(self, int p, bint cert) noexcept nogil:
        """The threshold of a count: a quorum, or what a commit certificate needs
        (`certifies` in tendermint.py: more than 1/3 under unverified-sync)."""
        if cert and self.flags & M_UNVERIFIED_SYNC:
            return 3 * p > self.total
        return self.quorum(p)

    cdef inline int vote_off(self, int kind, int ci, int h, int r) noexcept nogil:
        return (self.prevote_base if kind == 0 else self.precommit_base) + \
            (ci * self.H + h) * self.R + r

    cdef inline int byz_off(self, int kind, int bi, int h, int r) noexcept nogil:
        return (self.byz_prevote_base if kind == 0 else self.byz_precommit_base) + \
            (bi * self.H + h) * self.R + r

    cdef inline int proposer(self, int h, int r) noexcept nogil:
        return (h + r) % self.n

    cdef inline bint valid(self, int code) noexcept nogil:
        return (self.flags & M_ACCEPT_INVALID) or code != self.invalid

    cdef inline int budget_left(self, const unsigned char* s) noexcept nogil:
        return self.budget - s[self.budget_used]

    # -- byzantine draws (byzantine.py: Tally.for_value) ------------------------
    # With partitions (Net is short) correct messages count only where they have
    # reached `viewer` (Tally.sees), and `cert` selects the threshold `enough`.
    cdef int correct_for(self, const unsigned char* s, int kind, int h, int r, int code,
                         int viewer, Net tag) noexcept nogil:
        """The power of the correct `kind` messages for `code` at (h, r) that
        `viewer` sees (Tally.for_value's first count)."""
        cdef int have = 0, ci, off
        for ci in range(self.nc):
            off = self.vote_off(kind, ci, h, r)
            if s[off] == code:
                if Net is short:
                    if not sees(s, off + self.shift, viewer):
                        continue
                have += self.powers[ci]
        return have

    cdef void for_value(self, const unsigned char* s, int kind, int h, int r, int code,
                        Draws* d, int viewer, bint cert, Net tag) noexcept nogil:
        cdef int have = 0, ci, bi, off, nfree = 0, left, k, j, total, ok
        cdef int free_off[MAX_PAIRS]
        cdef int free_pw[MAX_PAIRS]
        cdef int idx[MAX_PAIRS]
        cdef int bit = 1 << code
        have = self.correct_for(s, kind, h, r, code, viewer, tag)
        for bi in range(self.nb):
            off = self.byz_off(kind, bi, h, r)
            if s[off] & bit:
                have += self.powers[self.nc + bi]
            else:
                free_off[nfree] = off
                free_pw[nfree] = self.powers[self.nc + bi]
                nfree += 1
        d.count = 0
        if Net is short:
            ok = self.enough(have, cert)
        else:
            ok = self.quorum(have)
        if ok:
            d.count = 1
            d.lens[0] = 0
            return
        left = self.budget_left(s)
        if left > nfree:
            left = nfree
        for k in range(1, left + 1):
            # combinations(range(nfree), k) in lexicographic order
            for j in range(k):
                idx[j] = j
            while True:
                total = have
                for j in range(k):
                    total += free_pw[idx[j]]
                if Net is short:
                    ok = self.enough(total, cert)
                else:
                    ok = self.quorum(total)
                if ok:
                    for j in range(k):
                        if Net is short:
                            if self.enough(total - free_pw[idx[j]], cert):
                                ok = 0
                                break
                        else:
                            if self.quorum(total - free_pw[idx[j]]):
                                ok = 0
                                break
                    if ok:
                        if d.count >= MAX_DRAWS:
                            return  # unreachable: at most 8 Byzantine give 255 subsets
                        d.lens[d.count] = k
                        for j in range(k):
                            d.offs[d.count][j] = free_off[idx[j]]
                            d.bits[d.count][j] = bit
                        d.count += 1
                # next combination
                j = k - 1
                while j >= 0 and idx[j] == nfree - k + j:
                    j -= 1
                if j < 0:
                    break
                idx[j] += 1
                j += 1
                while j < k:
                    idx[j] = idx[j - 1] + 1
                    j += 1

    cdef bint any_quorum(self, const unsigned char* s, int kind, int h, int r, int viewer,
                         Net tag) noexcept nogil:
        cdef int have = self.all_byz_power, ci, off
        for ci in range(self.nc):
            off = self.vote_off(kind, ci, h, r)
            if s[off]:
                if Net is short:
                    if not sees(s, off + self.shift, viewer):
                        continue
                have += self.powers[ci]
        return self.quorum(have)

    cdef bint round_skip(self, const unsigned char* s, int h, int r, int viewer, Net tag) noexcept nogil:
        cdef int have = self.all_byz_power, ci, a, b, c
        cdef int q = self.proposer(h, r)
        for ci in range(self.nc):
            if Net is short:
                a = self.vote_off(0, ci, h, r)
                b = self.vote_off(1, ci, h, r)
                c = self.proposal_base + h * self.R + r
                if ((s[a] and sees(s, a + self.shift, viewer))
                        or (s[b] and sees(s, b + self.shift, viewer))
                        or (q == ci and s[c] and sees(s, c + self.shift, viewer))):
                    have += self.powers[ci]
            else:
                if (s[self.vote_off(0, ci, h, r)] or s[self.vote_off(1, ci, h, r)]
                        or (q == ci and s[self.proposal_base + h * self.R + r])):
                    have += self.powers[ci]
        return self.skip(have)

    # -- partial synchrony (synchrony.py) ----------------------------------------
    cdef bint gst_passed(self, const unsigned char* s) noexcept nogil:
        cdef int ci
        if self.gst < 0:
            return False
        for ci in range(self.nc):
            if s[self.local[ci] + HEIGHT] > 0 or s[self.local[ci] + ROUND] >= self.gst:
                return True
        return False

    cdef inline bint in_sync(self, const unsigned char* s) noexcept nogil:
        return self.gst_passed(s) and (not self.parted or s[self.net_at] == 0)

    cdef inline bint timely(self, const unsigned char* s, int h, int r) noexcept nogil:
        return self.gst >= 0 and (h > 0 or r >= self.gst) and self.in_sync(s)

    cdef inline bint moved_past(self, const unsigned char* s, int cj, int h, int r) noexcept nogil:
        cdef int hj = s[self.local[cj] + HEIGHT]
        return hj > h or (hj == h and s[self.local[cj] + ROUND] > r)

    cdef bint waits_for_votes(self, const unsigned char* s, int ci, int kind, int h, int r,
                              Net tag) noexcept nogil:
        cdef int cj, at
        for cj in range(self.nc):
            if cj == ci:
                continue
            at = self.vote_off(kind, cj, h, r)
            if s[at]:
                if Net is short:
                    if not sees(s, at + self.shift, ci):
                        return True
            elif not self.moved_past(s, cj, h, r):
                return True
        return False

    cdef bint held_quorum(self, const unsigned char* s, int kind, int h, int r, int code,
                          int viewer, Net tag) noexcept nogil:
        """for_value's "enough already": the messages in the state reach a quorum."""
        cdef int have = self.correct_for(s, kind, h, r, code, viewer, tag), bi
        for bi in range(self.nb):
            if s[self.byz_off(kind, bi, h, r)] & (1 << code):
                have += self.powers[self.nc + bi]
        return self.quorum(have)

    cdef inline bint usable(self, const unsigned char* s, int ci, int h, int r, int v) noexcept nogil:
        """tendermint.py: usable_proposal (first-proposal-only, tendermint#2583)."""
        cdef int mine
        if not self.flags & M_FIRST_PROPOSAL_ONLY:
            return True
        mine = s[self.vote_off(0, ci, h, r)]
        return mine == 0 or mine == NIL or mine == v

    cdef bint pol_held(self, const unsigned char* s, int ci, int h, int r, Net tag) noexcept nogil:
        cdef int pv[64]
        cdef int pvr[64]
        cdef int poff[64]
        cdef int pbit[64]
        cdef int np = self.proposals(s, h, r, pv, pvr, poff, pbit, ci, tag), i
        for i in range(np):
            if (poff[i] < 0 and self.valid(pv[i]) and self.usable(s, ci, h, r, pv[i])
                    and self.held_quorum(s, 0, h, r, pv[i], ci, tag)):
                return True
        return False

    cdef bint decision_held(self, const unsigned char* s, int ci, int h, Net tag) noexcept nogil:
        cdef int pv[64]
        cdef int pvr[64]
        cdef int poff[64]
        cdef int pbit[64]
        cdef int kind = 0 if self.flags & M_DECIDE_ON_PREVOTES else 1, rd, np, i
        for rd in range(self.R):
            np = self.proposals(s, h, rd, pv, pvr, poff, pbit, ci, tag)
            for i in range(np):
                if (poff[i] < 0 and self.valid(pv[i])
                        and self.held_quorum(s, kind, h, rd, pv[i], ci, tag)):
                    return True
        return False

    cdef bint step_rule_held(self, const unsigned char* s, int ci, int h, int r,
                             Net tag) noexcept nogil:
        cdef int pv[64]
        cdef int pvr[64]
        cdef int poff[64]
        cdef int pbit[64]
        cdef int base = self.local[ci], step = s[base + STEP], np, i
        if step == PROPOSE:
            np = self.proposals(s, h, r, pv, pvr, poff, pbit, ci, tag)
            for i in range(np):
                # prevote-nil-on-pol: its line 22 takes any proposal
                if poff[i] < 0 and (pvr[i] == -1 or self.flags & M_PREVOTE_NIL_ON_POL or (
                        pvr[i] < r and self.held_quorum(s, 0, h, pvr[i], pv[i], ci, tag))):
                    return True
            return False
        if step == PREVOTE:
            return self.pol_held(s, ci, h, r, tag) or self.held_quorum(s, 0, h, r, NIL, ci, tag)
        return s[base + VALID_ROUND] - 1 < r and self.pol_held(s, ci, h, r, tag)

    cdef bint propose_due(self, const unsigned char* s, int ci, int h, int r, Net tag) noexcept nogil:
        cdef int q
        if not self.timely(s, h, r):
            return True
        q = self.proposer(h, r)
        if q < self.nc and not s[self.proposal_base + h * self.R + r]:
            return self.moved_past(s, q, h, r)
        return not self.step_rule_held(s, ci, h, r, tag)

    cdef bint prevote_due(self, const unsigned char* s, int ci, int h, int r, Net tag) noexcept nogil:
        if not self.timely(s, h, r):
            return True
        return not (self.waits_for_votes(s, ci, 0, h, r, tag)
                    or self.step_rule_held(s, ci, h, r, tag))

    cdef bint skip_due(self, const unsigned char* s, int ci, int h, int r, Net tag) noexcept nogil:
        """Synchrony.skip_due: after GST, held rules of the round come first."""
        if not self.timely(s, h, r):
            return True
        return not (self.decision_held(s, ci, h, tag) or self.step_rule_held(s, ci, h, r, tag))

    cdef bint leaves_round(self, const unsigned char* s, int ci, int h, int r, Net tag) noexcept nogil:
        """tendermint.py: leaves_round (line 47's trigger and, after GST, its timeout)."""
        if not self.any_quorum(s, 1, h, r, ci, tag):
            return False
        if not self.timely(s, h, r):
            return True
        if self.flags & M_SKIP_TIMEOUT_PRECOMMIT:
            return not self.decision_held(s, ci, h, tag)
        return not (self.waits_for_votes(s, ci, 1, h, r, tag) or self.decision_held(s, ci, h, tag)
                    or self.step_rule_held(s, ci, h, r, tag))

    def synchronous(self, bytes state):
        """Synchrony.synchronous: GST has passed and the network is whole."""
        if PyBytes_GET_SIZE(state) != self.size:
            raise ValueError("state of the wrong size")
        return self.in_sync(<const unsigned char*>PyBytes_AS_STRING(state))

    def decided_everything(self, bytes state):
        """properties.decided_everything: every correct validator decided every height."""
        if PyBytes_GET_SIZE(state) != self.size:
            raise ValueError("state of the wrong size")
        cdef const unsigned char* s = <const unsigned char*>PyBytes_AS_STRING(state)
        cdef int ci
        for ci in range(self.nc):
            if s[self.local[ci] + HEIGHT] != self.H:
                return False
        return True

    # -- building successors ---------------------------------------------------
    cdef inline void emit(self, const unsigned char* b, int kind, Net tag) noexcept nogil:
        if Net is short:
            self.emit_settled(b, kind)
        else:
            self.put(b, kind)

    cdef inline void put(self, const unsigned char* b, int kind) noexcept nogil:
        if self.ocount < self.ocap:
            memcpy(self.obuf + <Py_ssize_t>self.ocount * self.size, b, self.size)
            self.okinds[self.ocount] = kind
        self.ocount += 1

    cdef void emit_settled(self, const unsigned char* b, int kind) noexcept nogil:
        """A successor with partitions: settled (tendermint.py: _settled); under
        block sync (`dedup`) only if no earlier one settled to the same state.
        Past the buffer's end the earlier ones are unknown: the count is then an
        upper bound, enough for the caller's retry."""
        cdef int j, last
        memcpy(self.sbuf, b, self.size)
        self.settle(self.sbuf)
        if self.dedup:
            last = self.ocount if self.ocount < self.ocap else self.ocap
            for j in range(self.dedup_from, last):
                if memcmp(self.obuf + <Py_ssize_t>j * self.size, self.sbuf, self.size) == 0:
                    return
        self.put(self.sbuf, kind)

    cdef inline void send(self, unsigned char* b, int at, int sender) noexcept nogil:
        """Network.send: a correct message reaches its sender's component."""
        b[at + self.shift] = self.peers[b[self.net_at] * self.n + sender]

    cdef void settle(self, unsigned char* b) noexcept nogil:
        """Network.settle: close every sent correct message's reach under gossip
        (its correct holders at its height, or at any height under
        regossip-all-heights, pass it to their component), then reach
        everyone with the messages of heights every correct validator has left.
        Each message's closure is independent of the others'."""
        cdef const unsigned char* spread = self.spread + b[self.net_at] * 256
        cdef int at_height[MAX_HEIGHTS + 1]
        cdef int q, h, i, at, lowest = self.H, reach, grown, g
        for h in range(self.H + 1):
            at_height[h] = 0
        for q in range(self.nc):
            h = b[self.local[q] + HEIGHT]
            at_height[h] |= 1 << q
            if h < lowest:
                lowest = h
        for i in range(self.nslots):
            at = self.slot_val[i]
            if not b[at]:
                continue
            h = self.slot_h[i]
            if h < lowest:
                b[at + self.shift] = self.everyone
                continue
            if self.flags & M_REGOSSIP_ALL_HEIGHTS:
                g = self.all_correct
            else:
                g = at_height[h]
            reach = b[at + self.shift]
            while True:
                grown = reach | spread[reach & g]
                if grown == reach:
                    break
                reach = grown
            b[at + self.shift] = reach

    cdef bint with_draws(self, const unsigned char* s, int poff, int pbit, Draws* d,
                         int di) noexcept nogil:
        """buf := s plus a proposal pair (poff >= 0) and draw di of d; False if over budget."""
        cdef int n = d.lens[di] + (1 if poff >= 0 else 0), j
        if n > self.budget_left(s):
            return False
        memcpy(self.buf, s, self.size)
        if poff >= 0:
            self.buf[poff] |= pbit
        for j in range(d.lens[di]):
            self.buf[d.offs[di][j]] |= d.bits[di][j]
        self.buf[self.budget_used] += n
        return True

    cdef void start_round_emit(self, unsigned char* b, int ci, int h, int r, int kind,
                               Net tag) noexcept nogil:
        """StartRound (lines 11-21) on b, emitting one successor per proposal choice."""
        cdef int base = self.local[ci], v, at = self.proposal_base + h * self.R + r
        b[base + HEIGHT] = h
        b[base + ROUND] = r
        b[base + STEP] = PROPOSE
        if self.flags & M_UNLOCK_ON_NEW_ROUND:
            b[base + LOCKED_VALUE] = 0
            b[base + LOCKED_ROUND] = 0
        if self.proposer(h, r) != ci:
            self.emit(b, kind, tag)
            return
        if b[base + VALID_VALUE] and not self.flags & M_PROPOSE_ANY_VALUE:
            b[at] = b[base + VALID_VALUE]
            if Net is short:
                self.send(b, at, ci)
            b[self.proposal_vr_base + h * self.R + r] = b[base + VALID_ROUND]
            self.emit(b, kind, tag)
            return
        for v in range(FIRST_VALUE, FIRST_VALUE + self.V):
            b[at] = v
            if Net is short:
                self.send(b, at, ci)
            b[self.proposal_vr_base + h * self.R + r] = \
                0 if self.flags & M_PROPOSE_ANY_VALUE else b[base + VALID_ROUND]
            self.emit(b, kind, tag)

    cdef void decide_emit(self, unsigned char* b, int ci, int h, int v, int kind, Net tag) noexcept nogil:
        cdef int base = self.local[ci]
        b[base + LOCAL_FIELDS + h] = v
        if self.flags & M_DECIDE_STAYS:
            self.emit(b, kind, tag)
            return
        b[base + LOCKED_VALUE] = 0
        b[base + LOCKED_ROUND] = 0
        b[base + VALID_VALUE] = 0
        b[base + VALID_ROUND] = 0
        if h + 1 == self.H:
            b[base + HEIGHT] = self.H
            b[base + ROUND] = 0
            b[base + STEP] = PROPOSE
            self.emit(b, kind, tag)
            return
        self.start_round_emit(b, ci, h + 1, 0, kind, tag)

    # Proposals of (h, r) as parallel arrays: value, vr, draw offset (-1 none), bit.
    cdef int proposals(self, const unsigned char* s, int h, int r, int* pv, int* pvr,
                       int* poff, int* pbit, int viewer, Net tag) noexcept nogil:
        cdef int q = self.proposer(h, r), n = 0, v, vr, bit, off, mask, hi, base
        cdef bint can_draw
        if q < self.nc:
            off = self.proposal_base + h * self.R + r
            v = s[off]
            if v:
                if Net is short:
                    if not sees(s, off + self.shift, viewer):
                        return 0
                pv[0] = v
                pvr[0] = s[self.proposal_vr_base + h * self.R + r] - 1
                poff[0] = -1
                pbit[0] = 0
                return 1
            return 0
        base = self.byz_proposal_base + (h * self.R + r) * self.pmb
        can_draw = self.budget_left(s) > 0
        for v in range(FIRST_VALUE, self.invalid + 1):
            hi = r if (v != self.invalid or self.flags & M_ACCEPT_INVALID) else 0
            for vr in range(-1, hi):
                bit = (v - FIRST_VALUE) * self.R + (vr + 1)
                off = base + bit // 8
                mask = 1 << (bit % 8)
                if s[off] & mask:
                    pv[n] = v
                    pvr[n] = vr
                    poff[n] = -1
                    pbit[n] = 0
                    n += 1
                elif can_draw:
                    pv[n] = v
                    pvr[n] = vr
                    poff[n] = off
                    pbit[n] = mask
                    n += 1
        return n

    cdef void by_value_emit(self, const unsigned char* s, int ci, int h, int r, int step,
                            int mode, int np, int* pv, int* poff, int* pbit, Net tag) noexcept nogil:
        """Lines 36-43 (mode 0) or 49-54 (mode 1): group proposals by valid value in
        first-appearance order; a value with a free proposal draws none."""
        cdef int i, j, v, di, base = self.local[ci], kind, at
        cdef bint seen, has_free
        kind = 0 if (mode == 0 or self.flags & M_DECIDE_ON_PREVOTES) else 1
        for i in range(np):
            v = pv[i]
            if not self.valid(v):
                continue
            if mode == 0 and not self.usable(s, ci, h, r, v):
                continue
            seen = False
            for j in range(i):
                if pv[j] == v:
                    seen = True
                    break
            if seen:
                continue
            if mode == 1 and (self.flags & M_DECIDE_STAYS) and s[base + LOCAL_FIELDS + h] == v:
                continue
            has_free = False
            for j in range(i, np):
                if pv[j] == v and poff[j] < 0:
                    has_free = True
                    break
            self.for_value(s, kind, h, r, v, self.d2, ci, False, tag)
            for j in range(i, np):
                if pv[j] != v:
                    continue
                if has_free and poff[j] >= 0:
                    continue
                for di in range(self.d2.count):
                    if not self.with_draws(s, poff[j], pbit[j], self.d2, di):
                        continue
                    if mode == 1:
                        self.decide_emit(self.buf, ci, h, v, K_DECIDE, tag)
                    elif step == PREVOTE:
                        self.buf[base + LOCKED_VALUE] = v
                        self.buf[base + LOCKED_ROUND] = r + 1
                        at = self.vote_off(1, ci, h, r)
                        self.buf[at] = v
                        if Net is short:
                            self.send(self.buf, at, ci)
                        self.buf[base + STEP] = PRECOMMIT
                        self.buf[base + VALID_VALUE] = v
                        self.buf[base + VALID_ROUND] = r + 1
                        self.emit(self.buf, K_PRECOMMIT, tag)
                    else:
                        self.buf[base + VALID_VALUE] = v
                        self.buf[base + VALID_ROUND] = r + 1
                        self.emit(self.buf, K_UPDATE_VALID, tag)
                if has_free:
                    break

    cdef void validator(self, const unsigned char* s, int ci, Net tag) noexcept nogil:
        cdef int base = self.local[ci]
        cdef int h = s[base + HEIGHT], r = s[base + ROUND], step = s[base + STEP]
        cdef int lv = s[base + LOCKED_VALUE], lr = s[base + LOCKED_ROUND] - 1
        cdef int pv[64]
        cdef int pvr[64]
        cdef int poff[64]
        cdef int pbit[64]
        cdef int np, i, di, v, vr, vote, rr
        cdef bint ok
        if h >= self.H:
            return
        cdef int prevote_at = self.vote_off(0, ci, h, r)
        cdef int precommit_at = self.vote_off(1, ci, h, r)
        if step == PROPOSE:
            np = self.proposals(s, h, r, pv, pvr, poff, pbit, ci, tag)
            for i in range(np):
                v = pv[i]
                vr = pvr[i]
                if vr != -1 and self.flags & M_PREVOTE_NIL_ON_POL:
                    # line 22 on a proposal with a validRound (tendermint/spec#37)
                    vote = v if (self.valid(v) and (lr == -1 or lv == v)) else NIL
                    self.d1.count = 1
                    self.d1.lens[0] = 0
                    if self.with_draws(s, poff[i], pbit[i], self.d1, 0):
                        self.buf[prevote_at] = vote
                        if Net is short:
                            self.send(self.buf, prevote_at, ci)
                        self.buf[base + STEP] = PREVOTE
                        self.emit(self.buf, K_PREVOTE, tag)
                if vr == -1:
                    ok = self.valid(v) and (lr == -1 or lv == v or (self.flags & M_NO_LOCK))
                    self.d1.count = 1
                    self.d1.lens[0] = 0
                elif vr < r:
                    self.for_value(s, 0, h, vr, v, self.d1, ci, False, tag)
                    ok = self.valid(v) and (lr <= vr or lv == v or
                                            (self.flags & (M_NO_LOCK | M_IGNORE_LOCK_ROUND)))
                else:
                    continue
                vote = v if ok else NIL
                for di in range(self.d1.count):
                    if not self.with_draws(s, poff[i], pbit[i], self.d1, di):
                        continue
                    self.buf[prevote_at] = vote
                    if Net is short:
                        self.send(self.buf, prevote_at, ci)
                    self.buf[base + STEP] = PREVOTE
                    self.emit(self.buf, K_PREVOTE, tag)
            if self.proposer(h, r) != ci and self.propose_due(s, ci, h, r, tag):
                memcpy(self.buf, s, self.size)
                self.buf[prevote_at] = NIL
                if Net is short:
                    self.send(self.buf, prevote_at, ci)
                self.buf[base + STEP] = PREVOTE
                self.emit(self.buf, K_TIMEOUT_PROPOSE, tag)
        if step >= PREVOTE and s[base + VALID_ROUND] - 1 < r:
            np = self.proposals(s, h, r, pv, pvr, poff, pbit, ci, tag)
            self.by_value_emit(s, ci, h, r, step, 0, np, pv, poff, pbit, tag)
        if step == PREVOTE:
            self.for_value(s, 0, h, r, NIL, self.d1, ci, False, tag)
            for di in range(self.d1.count):
                if not self.with_draws(s, -1, 0, self.d1, di):
                    continue
                self.buf[precommit_at] = NIL
                if Net is short:
                    self.send(self.buf, precommit_at, ci)
                self.buf[base + STEP] = PRECOMMIT
                self.emit(self.buf, K_PRECOMMIT, tag)
            if self.any_quorum(s, 0, h, r, ci, tag) and self.prevote_due(s, ci, h, r, tag):
                memcpy(self.buf, s, self.size)
                self.buf[precommit_at] = NIL
                if Net is short:
                    self.send(self.buf, precommit_at, ci)
                self.buf[base + STEP] = PRECOMMIT
                self.emit(self.buf, K_TIMEOUT_PREVOTE, tag)
        if r + 1 < self.R and self.leaves_round(s, ci, h, r, tag):
            memcpy(self.buf2, s, self.size)
            self.start_round_emit(self.buf2, ci, h, r + 1, K_TIMEOUT_PRECOMMIT, tag)
        for rr in range(self.R):
            np = self.proposals(s, h, rr, pv, pvr, poff, pbit, ci, tag)
            self.by_value_emit(s, ci, h, rr, step, 1, np, pv, poff, pbit, tag)
        if r + 1 < self.R and not self.skip_due(s, ci, h, r, tag):
            return
        for rr in range(r + 1, self.R):
            if self.round_skip(s, h, rr, ci, tag):
                memcpy(self.buf2, s, self.size)
                self.start_round_emit(self.buf2, ci, h, rr, K_ROUND_SKIP, tag)

    # -- the network (tendermint.py: _sync_steps, _network_events) ---------------
    cdef void sync_steps(self, const unsigned char* s, int ci, int h) noexcept nogil:
        """Block sync: ci takes the decided block of h from a peer of its
        component, with a commit certificate of one round that verifies."""
        cdef short tag = 0
        cdef int peers = self.peers[s[self.net_at] * self.n + ci]
        cdef int j, v, lo, hi, rd, di, ck, at
        self.dedup = True
        self.dedup_from = self.ocount
        for j in range(self.n):
            if j == ci or not (peers >> j & 1):
                continue
            if j >= self.nc:  # a Byzantine peer offers any block with an id
                lo = FIRST_VALUE
                hi = self.invalid + 1 if self.flags & M_ACCEPT_INVALID else self.invalid
            else:  # a correct peer offers the block it decided, if any
                lo = s[self.local[j] + LOCAL_FIELDS + h]
                hi = lo + 1 if lo else lo
            for v in range(lo, hi):
                if not self.valid(v):
                    continue
                for rd in range(self.R):
                    self.for_value(s, 1, h, rd, v, self.d1, j, True, tag)
                    for di in range(self.d1.count):
                        if not self.with_draws(s, -1, 0, self.d1, di):
                            continue
                        for ck in range(self.nc):  # the certificate is now held
                            at = self.vote_off(1, ck, h, rd)
                            if self.buf[at] == v and sees(s, at + self.shift, j):
                                self.buf[at + self.shift] |= 1 << ci
                        self.decide_emit(self.buf, ci, h, v, K_SYNC_BLOCK, tag)
        self.dedup = False

    cdef void network_events(self, const unsigned char* s) noexcept nogil:
        """The nemesis: split a whole network, or heal a split one."""
        cdef short tag = 0
        cdef int k
        if s[self.events_at] >= self.max_events:
            return
        if s[self.net_at] == 0:
            if self.gst_passed(s):
                return  # no split from GST on
            for k in range(1, self.nsplits + 1):
                memcpy(self.buf, s, self.size)
                self.buf[self.net_at] = k
                self.buf[self.events_at] += 1
                self.emit(self.buf, K_SPLIT, tag)
        else:
            memcpy(self.buf, s, self.size)
            self.buf[self.net_at] = 0
            self.buf[self.events_at] += 1
            self.emit(self.buf, K_HEAL, tag)

    cdef void partitioned_successors(self, const unsigned char* s) noexcept nogil:
        """tendermint.py: next_states with a network."""
        cdef short tag = 0
        cdef int ci
        for ci in range(self.nc):
            if s[self.local[ci] + HEIGHT] >= self.H:
                continue
            self.validator(s, ci, tag)
            if not self.flags & M_NO_BLOCK_SYNC:
                self.sync_steps(s, ci, s[self.local[ci] + HEIGHT])
        self.network_events(s)

    cdef int expand(self, const unsigned char* s, unsigned char* out, unsigned short* kinds,
                    int capacity) noexcept nogil:
        """The successors of s into the caller's buffers, in the Python model's
        order (native_model.h: successors)."""
        cdef int ci
        cdef char plain = 0
        self.obuf = out
        self.okinds = kinds
        self.ocap = capacity
        self.ocount = 0
        if self.parted:
            self.partitioned_successors(s)
        else:
            for ci in range(self.nc):
                self.validator(s, ci, plain)
        return self.ocount

    def successors(self, bytes state):
        """(list of successor states, bytes of action kinds), in the Python model's order."""
        if PyBytes_GET_SIZE(state) != self.size:
            raise ValueError("state of the wrong size")
        cdef const unsigned char* s = <const unsigned char*>PyBytes_AS_STRING(state)
        cdef int n, k
        while True:
            n = self.expand(s, self.obuf_own, self.okinds_own, self.own_cap)
            if n <= self.own_cap:
                break
            self.grow_own(n)
        out = [PyBytes_FromStringAndSize(<const char*>(self.obuf_own + <Py_ssize_t>k * self.size),
                                         self.size) for k in range(n)]
        return out, bytes([self.okinds_own[k] for k in range(n)])

    cdef grow_own(self, int n):
        cdef int cap = max(2 * self.own_cap, n)
        free(self.obuf_own)
        free(self.okinds_own)
        self.obuf_own = <unsigned char*>malloc(<Py_ssize_t>cap * self.size)
        self.okinds_own = <unsigned short*>malloc(cap * sizeof(unsigned short))
        self.own_cap = cap if (self.obuf_own and self.okinds_own) else 0
        if not self.own_cap:
            raise MemoryError()

    # -- the native capability (checker/native_model.h) ------------------------
    def native(self):
        """A capsule of the C entry points: successors into a caller's buffer and
        the predicates below as bit masks, for the compiled search engine."""
        self.entry.version = BFTCHECK_NATIVE_VERSION
        self.entry.ctx = <void*>self
        self.entry.state_size = self.size
        self.entry.successors = native_successors
        self.entry.state_predicates = native_state_predicates
        self.entry.step_predicates = native_step_predicates
        capsule = PyCapsule_New(<void*>&self.entry, BFTCHECK_NATIVE_CAPSULE, release_rules)
        # the capsule owns a reference to these rules: its pointers stay valid
        # for as long as anyone holds it
        Py_INCREF(self)
        PyCapsule_SetContext(capsule, <void*>self)
        return capsule

    cdef unsigned long long state_mask(self, const unsigned char* s,
                                       unsigned long long wanted) noexcept nogil:
        """Bit i: STATE_PREDICATES[i] holds."""
        cdef unsigned long long m = 0
        if wanted & 1 and self.c_agreement(s):
            m |= 1
        if wanted & 2 and self.c_validity(s):
            m |= 2
        if wanted & 4 and self.c_ledger_consistency(s):
            m |= 4
        if wanted & 8 and self.c_accountability(s):
            m |= 8
        if wanted & 16 and self.c_no_false_accusation(s):
            m |= 16
        if wanted & 32 and self.c_decision_reached(s):
            m |= 32
        if wanted & 64 and self.c_valid_block(s):
            m |= 64
        return m

    cdef unsigned long long step_mask(self, const unsigned char* a, int kind,
                                      const unsigned char* b,
                                      unsigned long long wanted) noexcept nogil:
        """Bit i: STEP_PREDICATES[i] holds."""
        cdef unsigned long long m = 0
        if wanted & 1 and self.c_integrity(a, b):
            m |= 1
        if wanted & 2 and kind == K_ROUND_SKIP:
            m |= 2
        if wanted & 4 and self.c_lock_changed(a, b):
            m |= 4
        return m

    # -- recovery (properties.py: round_bounded, recovered) --------------------
    def round_bounded(self, bytes state, int ci):
        """Correct validator ci is in the last round of an undecided height and its
        OnTimeoutPrecommit guard (2f + 1 precommits it sees) holds."""
        if PyBytes_GET_SIZE(state) != self.size:
            raise ValueError("state of the wrong size")
        if not 0 <= ci < self.nc:
            raise ValueError("not a correct validator")
        return self.bounded(<const unsigned char*>PyBytes_AS_STRING(state), ci)

    cdef bint bounded(self, const unsigned char* s, int ci) noexcept nogil:
        cdef int base = self.local[ci], h = s[base + HEIGHT]
        cdef char plain = 0
        cdef short parted = 0
        if h >= self.H or s[base + ROUND] != self.R - 1:
            return False
        if self.parted:
            return self.leaves_round(s, ci, h, self.R - 1, parted)
        return self.leaves_round(s, ci, h, self.R - 1, plain)

    def recovered(self, bytes state):
        """The Recovery target: every correct validator decided every height (or is
        stopped only by the round bound), with the same ledger."""
        if PyBytes_GET_SIZE(state) != self.size:
            raise ValueError("state of the wrong size")
        cdef const unsigned char* s = <const unsigned char*>PyBytes_AS_STRING(state)
        cdef int ci, h, full = -1
        for ci in range(self.nc):
            if s[self.local[ci] + HEIGHT] == self.H:
                if full < 0:
                    full = ci
                else:
                    for h in range(self.H):
                        if (s[self.local[ci] + LOCAL_FIELDS + h]
                                != s[self.local[full] + LOCAL_FIELDS + h]):
                            return False
            elif not self.bounded(s, ci):
                return False
        return True

    # -- properties (properties.py) -------------------------------------------
    cdef int votes(self, const unsigned char* s, int kind, int i, int h, int r) noexcept nogil:
        """Bitmask of vote codes validator i sent at (h, r)."""
        cdef int c
        if i >= self.nc:
            return s[self.byz_off(kind, i - self.nc, h, r)]
        c = s[self.vote_off(kind, i, h, r)]
        return (1 << c) if c else 0

    cdef bint equivocated(self, const unsigned char* s, int i, int h) noexcept nogil:
        cdef int r, bits, j, base, x
        if i < self.nc:
            return False  # a correct validator's vote slot holds one code: never two votes
        for r in range(self.R):
            if popcount(self.votes(s, 0, i, h, r)) > 1:
                return True
            if popcount(self.votes(s, 1, i, h, r)) > 1:
                return True
            if i >= self.nc and self.proposer(h, r) == i:
                base = self.byz_proposal_base + (h * self.R + r) * self.pmb
                bits = 0
                for j in range(self.pmb):
                    bits += popcount(s[base + j])
                if bits > 1:
                    return True
        return False

    cdef int prevote_power(self, const unsigned char* s, int h, int r, int code) noexcept nogil:
        cdef int i, p = 0
        for i in range(self.n):
            if self.votes(s, 0, i, h, r) >> code & 1:
                p += self.powers[i]
        return p

    cdef bint amnesic(self, const unsigned char* s, int i, int h) noexcept nogil:
        cdef int r1, r2, v1, v2, vr, m1, m2
        cdef bint pol
        for r1 in range(self.R):
            m1 = self.votes(s, 1, i, h, r1)
            if not (m1 >> FIRST_VALUE):
                continue  # no precommit for a value at r1 (nothing, or nil)
            for v1 in range(FIRST_VALUE, 8):
                if not (m1 >> v1 & 1):
                    continue
                for r2 in range(r1 + 1, self.R):
                    m2 = self.votes(s, 0, i, h, r2)
                    for v2 in range(FIRST_VALUE, 8):
                        if not (m2 >> v2 & 1) or v2 == v1:
                            continue
                        pol = False
                        for vr in range(r1, r2):
                            if 3 * self.prevote_power(s, h, vr, v2) > 2 * self.total:
                                pol = True
                                break
                        if not pol:
                            return True
        return False

    cdef bint accused(self, const unsigned char* s, int i, int h) noexcept nogil:
        """Validator i is provably faulty at height h (properties.py: faulty)."""
        return self.equivocated(s, i, h) or self.amnesic(s, i, h)

    cdef bint disagree(self, const unsigned char* s, int h) noexcept nogil:
        cdef int ci, first = 0, c
        for ci in range(self.nc):
            c = s[self.local[ci] + LOCAL_FIELDS + h]
            if c:
                if first and c != first:
                    return True
                first = c
        return False

    def agreement(self, bytes state):
        return self.c_agreement(<const unsigned char*>PyBytes_AS_STRING(state))

    cdef bint c_agreement(self, const unsigned char* s) noexcept nogil:
        cdef int h
        for h in range(self.H):
            if self.disagree(s, h):
                return False
        return True

    def validity(self, bytes state):
        return self.c_validity(<const unsigned char*>PyBytes_AS_STRING(state))

    cdef bint c_validity(self, const unsigned char* s) noexcept nogil:
        cdef int ci, h
        for ci in range(self.nc):
            for h in range(self.H):
                if s[self.local[ci] + LOCAL_FIELDS + h] == self.invalid:
                    return False
        return True

    def ledger_consistency(self, bytes state):
        return self.c_ledger_consistency(<const unsigned char*>PyBytes_AS_STRING(state))

    cdef bint c_ledger_consistency(self, const unsigned char* s) noexcept nogil:
        cdef int a, b, h, x, y
        for a in range(self.nc):
            for b in range(a + 1, self.nc):
                for h in range(self.H):
                    x = s[self.local[a] + LOCAL_FIELDS + h]
                    y = s[self.local[b] + LOCAL_FIELDS + h]
                    if x == 0 or y == 0:
                        break
                    if x != y:
                        return False
        return True

    def accountability(self, bytes state):
        return self.c_accountability(<const unsigned char*>PyBytes_AS_STRING(state))

    cdef bint c_accountability(self, const unsigned char* s) noexcept nogil:
        cdef int h, i, p
        for h in range(self.H):
            if self.disagree(s, h):
                p = 0
                for i in range(self.n):
                    if self.accused(s, i, h):
                        p += self.powers[i]
                if 3 * p <= self.total:
                    return False
        return True

    def no_false_accusation(self, bytes state):
        return self.c_no_false_accusation(<const unsigned char*>PyBytes_AS_STRING(state))

    cdef bint c_no_false_accusation(self, const unsigned char* s) noexcept nogil:
        cdef int h, i
        for h in range(self.H):
            for i in range(self.nc):
                if self.accused(s, i, h):
                    return False
        return True

    def decision_reached(self, bytes state):
        return self.c_decision_reached(<const unsigned char*>PyBytes_AS_STRING(state))

    cdef bint c_decision_reached(self, const unsigned char* s) noexcept nogil:
        cdef int ci
        for ci in range(self.nc):
            if s[self.local[ci] + LOCAL_FIELDS]:
                return True
        return False

    def valid_block(self, bytes state):
        return self.c_valid_block(<const unsigned char*>PyBytes_AS_STRING(state))

    cdef bint c_valid_block(self, const unsigned char* s) noexcept nogil:
        """properties.py: valid_block_breach is None."""
        cdef int h, r, ci, locked
        if self.gst < 0:
            return True
        for h in range(self.H):
            for r in range(self.gst if h == 0 else 0, self.R - 1):
                locked = False
                for ci in range(self.nc):
                    if s[self.vote_off(1, ci, h, r)] > NIL:
                        locked = True
                if not locked:
                    continue
                for ci in range(self.nc):
                    if (s[self.local[ci] + HEIGHT] == h and s[self.local[ci] + ROUND] > r
                            and s[self.local[ci] + VALID_ROUND] - 1 < r):
                        return False
        return True

    def integrity(self, bytes before, bytes after):
        return self.c_integrity(<const unsigned char*>PyBytes_AS_STRING(before),
                          <const unsigned char*>PyBytes_AS_STRING(after))

    cdef bint c_integrity(self, const unsigned char* a, const unsigned char* b) noexcept nogil:
        cdef int ci, h, off
        for ci in range(self.nc):
            for h in range(self.H):
                off = self.local[ci] + LOCAL_FIELDS + h
                if a[off] and b[off] != a[off]:
                    return False
        return True

    def lock_changed(self, bytes before, bytes after):
        return self.c_lock_changed(<const unsigned char*>PyBytes_AS_STRING(before),
                          <const unsigned char*>PyBytes_AS_STRING(after))

    cdef bint c_lock_changed(self, const unsigned char* a, const unsigned char* b) noexcept nogil:
        cdef int ci, off
        for ci in range(self.nc):
            off = self.local[ci] + LOCKED_VALUE
            if a[off] and b[off] and a[off] != b[off]:
                return True
        return False


cdef void release_rules(object capsule) noexcept:
    """The capsule's destructor: drop its reference to the rules."""
    Py_DECREF(<object>PyCapsule_GetContext(capsule))


# The entry points of native_model.h, with its exact C types.
cdef int native_successors(void* ctx, const uint8_t* s, uint8_t* out, uint16_t* kinds,
                           int capacity) noexcept nogil:
    return (<Rules>ctx).expand(s, out, kinds, capacity)


cdef uint64_t native_state_predicates(void* ctx, const uint8_t* s,
                                      uint64_t wanted) noexcept nogil:
    return (<Rules>ctx).state_mask(s, wanted)


cdef uint64_t native_step_predicates(void* ctx, const uint8_t* a, int kind, const uint8_t* b,
                                     uint64_t wanted) noexcept nogil:
    return (<Rules>ctx).step_mask(a, kind, b, wanted)


cdef inline bint sees(const unsigned char* s, int reach_at, int viewer) noexcept nogil:
    """Tally.sees: the reach byte at `reach_at` holds validator `viewer`."""
    return s[reach_at] >> viewer & 1


cdef inline int popcount(unsigned int x) noexcept nogil:
    cdef int c = 0
    while x:
        x &= x - 1
        c += 1
    return c

