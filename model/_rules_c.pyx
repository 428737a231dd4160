# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True
"""Compiled successor function and property checks of the Tendermint model.

This is a transcription of model/tendermint.py and model/properties.py (the
source of truth) into C-level Cython, for speed: the same successors, in the
same order, with the same action kinds, and the same property values.
tests/model/test_rules_compiled.py checks that, state by state, on every state
reachable in a set of configurations. Any change to the Python rules must be
made here too; that test fails until it is.
"""

from libc.stdlib cimport malloc, free
from libc.string cimport memcpy
from cpython.bytes cimport PyBytes_AS_STRING, PyBytes_GET_SIZE, PyBytes_FromStringAndSize

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

KIND_NAMES = ("Prevote", "TimeoutPropose", "Precommit", "UpdateValid", "TimeoutPrevote",
              "TimeoutPrecommit", "Decide", "RoundSkip")

# Mutant switches.
cdef enum:
    M_WEAK_QUORUM = 1
    M_NO_LOCK = 2
    M_DECIDE_ON_PREVOTES = 4
    M_UNLOCK_ON_NEW_ROUND = 8
    M_ACCEPT_INVALID = 16
    M_DECIDE_STAYS = 32

MUTANT_FLAGS = {None: 0, "weak-quorum": M_WEAK_QUORUM, "no-lock": M_NO_LOCK,
                "decide-on-prevotes": M_DECIDE_ON_PREVOTES,
                "unlock-on-new-round": M_UNLOCK_ON_NEW_ROUND,
                "accept-invalid": M_ACCEPT_INVALID, "decide-stays-in-height": M_DECIDE_STAYS}


cdef class Draws:
    """Minimal sets of Byzantine messages to draw: up to MAX_DRAWS sets of
    (offset, bit) pairs. count == 1 with len[0] == 0 means "enough already"."""
    cdef int count
    cdef int lens[MAX_DRAWS]
    cdef int offs[MAX_DRAWS][MAX_PAIRS]
    cdef int bits[MAX_DRAWS][MAX_PAIRS]


cdef class Rules:
    cdef int n, H, R, V, nc, nb, size, total, budget, flags, invalid, pmb, pbits
    cdef int prevote_base, precommit_base, proposal_base, proposal_vr_base
    cdef int byz_prevote_base, byz_precommit_base, byz_proposal_base, budget_used
    cdef int all_byz_power
    cdef int* powers
    cdef int* local
    cdef unsigned char* buf
    cdef unsigned char* buf2
    cdef list out
    cdef bytearray kinds
    cdef Draws d1, d2

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
        self.d1 = Draws()
        self.d2 = Draws()

    def __dealloc__(self):
        free(self.powers)
        free(self.local)
        free(self.buf)
        free(self.buf2)

    # -- thresholds and offsets ------------------------------------------------
    cdef inline bint quorum(self, int p):
        if self.flags & M_WEAK_QUORUM:
            return 2 * p >= self.total
        return 3 * p > 2 * self.total

    cdef inline bint skip(self, int p):
        return 3 * p > self.total

    cdef inline int vote_off(self, int kind, int ci, int h, int r):
        return (self.prevote_base if kind == 0 else self.precommit_base) + \
            (ci * self.H + h) * self.R + r

    cdef inline int byz_off(self, int kind, int bi, int h, int r):
        return (self.byz_prevote_base if kind == 0 else self.byz_precommit_base) + \
            (bi * self.H + h) * self.R + r

    cdef inline int proposer(self, int h, int r):
        return (h + r) % self.n

    cdef inline bint valid(self, int code):
        return (self.flags & M_ACCEPT_INVALID) or code != self.invalid

    cdef inline int budget_left(self, const unsigned char* s):
        return self.budget - s[self.budget_used]

    # -- byzantine draws (byzantine.py: Tally.for_value) ------------------------
    cdef void for_value(self, const unsigned char* s, int kind, int h, int r, int code,
                        Draws d):
        cdef int have = 0, ci, bi, off, nfree = 0, left, k, j, total, ok
        cdef int free_off[MAX_PAIRS]
        cdef int free_pw[MAX_PAIRS]
        cdef int idx[MAX_PAIRS]
        cdef int bit = 1 << code
        for ci in range(self.nc):
            if s[self.vote_off(kind, ci, h, r)] == code:
                have += self.powers[ci]
        for bi in range(self.nb):
            off = self.byz_off(kind, bi, h, r)
            if s[off] & bit:
                have += self.powers[self.nc + bi]
            else:
                free_off[nfree] = off
                free_pw[nfree] = self.powers[self.nc + bi]
                nfree += 1
        d.count = 0
        if self.quorum(have):
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
                if self.quorum(total):
                    ok = 1
                    for j in range(k):
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

    cdef bint any_quorum(self, const unsigned char* s, int kind, int h, int r):
        cdef int have = self.all_byz_power, ci
        for ci in range(self.nc):
            if s[self.vote_off(kind, ci, h, r)]:
                have += self.powers[ci]
        return self.quorum(have)

    cdef bint round_skip(self, const unsigned char* s, int h, int r):
        cdef int have = self.all_byz_power, ci
        cdef int q = self.proposer(h, r)
        for ci in range(self.nc):
            if (s[self.vote_off(0, ci, h, r)] or s[self.vote_off(1, ci, h, r)]
                    or (q == ci and s[self.proposal_base + h * self.R + r])):
                have += self.powers[ci]
        return self.skip(have)

    # -- building successors ---------------------------------------------------
    cdef inline void emit(self, const unsigned char* b, int kind):
        self.out.append(PyBytes_FromStringAndSize(<const char*>b, self.size))
        self.kinds.append(kind)

    cdef bint with_draws(self, const unsigned char* s, int poff, int pbit, Draws d, int di):
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

    cdef void start_round_emit(self, unsigned char* b, int ci, int h, int r, int kind):
        """StartRound (lines 11-21) on b, emitting one successor per proposal choice."""
        cdef int base = self.local[ci], v
        b[base + HEIGHT] = h
        b[base + ROUND] = r
        b[base + STEP] = PROPOSE
        if self.flags & M_UNLOCK_ON_NEW_ROUND:
            b[base + LOCKED_VALUE] = 0
            b[base + LOCKED_ROUND] = 0
        if self.proposer(h, r) != ci:
            self.emit(b, kind)
            return
        if b[base + VALID_VALUE]:
            b[self.proposal_base + h * self.R + r] = b[base + VALID_VALUE]
            b[self.proposal_vr_base + h * self.R + r] = b[base + VALID_ROUND]
            self.emit(b, kind)
            return
        for v in range(FIRST_VALUE, FIRST_VALUE + self.V):
            b[self.proposal_base + h * self.R + r] = v
            b[self.proposal_vr_base + h * self.R + r] = b[base + VALID_ROUND]
            self.emit(b, kind)

    cdef void decide_emit(self, unsigned char* b, int ci, int h, int v):
        cdef int base = self.local[ci]
        b[base + LOCAL_FIELDS + h] = v
        if self.flags & M_DECIDE_STAYS:
            self.emit(b, K_DECIDE)
            return
        b[base + LOCKED_VALUE] = 0
        b[base + LOCKED_ROUND] = 0
        b[base + VALID_VALUE] = 0
        b[base + VALID_ROUND] = 0
        if h + 1 == self.H:
            b[base + HEIGHT] = self.H
            b[base + ROUND] = 0
            b[base + STEP] = PROPOSE
            self.emit(b, K_DECIDE)
            return
        self.start_round_emit(b, ci, h + 1, 0, K_DECIDE)

    # Proposals of (h, r) as parallel arrays: value, vr, draw offset (-1 none), bit.
    cdef int proposals(self, const unsigned char* s, int h, int r, int* pv, int* pvr,
                       int* poff, int* pbit):
        cdef int q = self.proposer(h, r), n = 0, v, vr, bit, off, mask, hi, base
        cdef bint can_draw
        if q < self.nc:
            v = s[self.proposal_base + h * self.R + r]
            if v:
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
                            int mode, int np, int* pv, int* poff, int* pbit):
        """Lines 36-43 (mode 0) or 49-54 (mode 1): group proposals by valid value in
        first-appearance order; a value with a free proposal draws none."""
        cdef int i, j, v, di, base = self.local[ci], kind
        cdef bint seen, has_free
        kind = 0 if (mode == 0 or self.flags & M_DECIDE_ON_PREVOTES) else 1
        for i in range(np):
            v = pv[i]
            if not self.valid(v):
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
            self.for_value(s, kind, h, r, v, self.d2)
            for j in range(i, np):
                if pv[j] != v:
                    continue
                if has_free and poff[j] >= 0:
                    continue
                for di in range(self.d2.count):
                    if not self.with_draws(s, poff[j], pbit[j], self.d2, di):
                        continue
                    if mode == 1:
                        self.decide_emit(self.buf, ci, h, v)
                    elif step == PREVOTE:
                        self.buf[base + LOCKED_VALUE] = v
                        self.buf[base + LOCKED_ROUND] = r + 1
                        self.buf[self.vote_off(1, ci, h, r)] = v
                        self.buf[base + STEP] = PRECOMMIT
                        self.buf[base + VALID_VALUE] = v
                        self.buf[base + VALID_ROUND] = r + 1
                        self.emit(self.buf, K_PRECOMMIT)
                    else:
                        self.buf[base + VALID_VALUE] = v
                        self.buf[base + VALID_ROUND] = r + 1
                        self.emit(self.buf, K_UPDATE_VALID)
                if has_free:
                    break

    cdef void validator(self, const unsigned char* s, int ci):
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
            np = self.proposals(s, h, r, pv, pvr, poff, pbit)
            for i in range(np):
                v = pv[i]
                vr = pvr[i]
                if vr == -1:
                    ok = self.valid(v) and (lr == -1 or lv == v or (self.flags & M_NO_LOCK))
                    self.d1.count = 1
                    self.d1.lens[0] = 0
                elif vr < r:
                    self.for_value(s, 0, h, vr, v, self.d1)
                    ok = self.valid(v) and (lr <= vr or lv == v or (self.flags & M_NO_LOCK))
                else:
                    continue
                vote = v if ok else NIL
                for di in range(self.d1.count):
                    if not self.with_draws(s, poff[i], pbit[i], self.d1, di):
                        continue
                    self.buf[prevote_at] = vote
                    self.buf[base + STEP] = PREVOTE
                    self.emit(self.buf, K_PREVOTE)
            if self.proposer(h, r) != ci:
                memcpy(self.buf, s, self.size)
                self.buf[prevote_at] = NIL
                self.buf[base + STEP] = PREVOTE
                self.emit(self.buf, K_TIMEOUT_PROPOSE)
        if step >= PREVOTE and s[base + VALID_ROUND] - 1 < r:
            np = self.proposals(s, h, r, pv, pvr, poff, pbit)
            self.by_value_emit(s, ci, h, r, step, 0, np, pv, poff, pbit)
        if step == PREVOTE:
            self.for_value(s, 0, h, r, NIL, self.d1)
            for di in range(self.d1.count):
                if not self.with_draws(s, -1, 0, self.d1, di):
                    continue
                self.buf[precommit_at] = NIL
                self.buf[base + STEP] = PRECOMMIT
                self.emit(self.buf, K_PRECOMMIT)
            if self.any_quorum(s, 0, h, r):
                memcpy(self.buf, s, self.size)
                self.buf[precommit_at] = NIL
                self.buf[base + STEP] = PRECOMMIT
                self.emit(self.buf, K_TIMEOUT_PREVOTE)
        if r + 1 < self.R and self.any_quorum(s, 1, h, r):
            memcpy(self.buf2, s, self.size)
            self.start_round_emit(self.buf2, ci, h, r + 1, K_TIMEOUT_PRECOMMIT)
        for rr in range(self.R):
            np = self.proposals(s, h, rr, pv, pvr, poff, pbit)
            self.by_value_emit(s, ci, h, rr, step, 1, np, pv, poff, pbit)
        for rr in range(r + 1, self.R):
            if self.round_skip(s, h, rr):
                memcpy(self.buf2, s, self.size)
                self.start_round_emit(self.buf2, ci, h, rr, K_ROUND_SKIP)

    def successors(self, bytes state):
        """(list of successor states, bytes of action kinds), in the Python model's order."""
        if PyBytes_GET_SIZE(state) != self.size:
            raise ValueError("state of the wrong size")
        cdef const unsigned char* s = <const unsigned char*>PyBytes_AS_STRING(state)
        cdef int ci
        self.out = []
        self.kinds = bytearray()
        for ci in range(self.nc):
            self.validator(s, ci)
        out, kinds = self.out, bytes(self.kinds)
        self.out = None
        self.kinds = None
        return out, kinds

    # -- properties (properties.py) -------------------------------------------
    cdef int votes(self, const unsigned char* s, int kind, int i, int h, int r):
        """Bitmask of vote codes validator i sent at (h, r)."""
        cdef int c
        if i >= self.nc:
            return s[self.byz_off(kind, i - self.nc, h, r)]
        c = s[self.vote_off(kind, i, h, r)]
        return (1 << c) if c else 0

    cdef bint equivocated(self, const unsigned char* s, int i, int h):
        cdef int r, bits, j, base, x
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

    cdef int prevote_power(self, const unsigned char* s, int h, int r, int code):
        cdef int i, p = 0
        for i in range(self.n):
            if self.votes(s, 0, i, h, r) >> code & 1:
                p += self.powers[i]
        return p

    cdef bint amnesic(self, const unsigned char* s, int i, int h):
        cdef int r1, r2, v1, v2, vr, m1, m2
        cdef bint pol
        for r1 in range(self.R):
            m1 = self.votes(s, 1, i, h, r1)
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

    cdef bint accused(self, const unsigned char* s, int i, int h):
        """Validator i is provably faulty at height h (properties.py: faulty)."""
        return self.equivocated(s, i, h) or self.amnesic(s, i, h)

    cdef bint disagree(self, const unsigned char* s, int h):
        cdef int ci, first = 0, c
        for ci in range(self.nc):
            c = s[self.local[ci] + LOCAL_FIELDS + h]
            if c:
                if first and c != first:
                    return True
                first = c
        return False

    def agreement(self, bytes state):
        cdef const unsigned char* s = <const unsigned char*>PyBytes_AS_STRING(state)
        cdef int h
        for h in range(self.H):
            if self.disagree(s, h):
                return False
        return True

    def validity(self, bytes state):
        cdef const unsigned char* s = <const unsigned char*>PyBytes_AS_STRING(state)
        cdef int ci, h
        for ci in range(self.nc):
            for h in range(self.H):
                if s[self.local[ci] + LOCAL_FIELDS + h] == self.invalid:
                    return False
        return True

    def ledger_consistency(self, bytes state):
        cdef const unsigned char* s = <const unsigned char*>PyBytes_AS_STRING(state)
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
        cdef const unsigned char* s = <const unsigned char*>PyBytes_AS_STRING(state)
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
        cdef const unsigned char* s = <const unsigned char*>PyBytes_AS_STRING(state)
        cdef int h, i
        for h in range(self.H):
            for i in range(self.nc):
                if self.accused(s, i, h):
                    return False
        return True

    def decision_reached(self, bytes state):
        cdef const unsigned char* s = <const unsigned char*>PyBytes_AS_STRING(state)
        cdef int ci
        for ci in range(self.nc):
            if s[self.local[ci] + LOCAL_FIELDS]:
                return True
        return False

    def integrity(self, bytes before, bytes after):
        cdef const unsigned char* a = <const unsigned char*>PyBytes_AS_STRING(before)
        cdef const unsigned char* b = <const unsigned char*>PyBytes_AS_STRING(after)
        cdef int ci, h, off
        for ci in range(self.nc):
            for h in range(self.H):
                off = self.local[ci] + LOCAL_FIELDS + h
                if a[off] and b[off] != a[off]:
                    return False
        return True

    def lock_changed(self, bytes before, bytes after):
        cdef const unsigned char* a = <const unsigned char*>PyBytes_AS_STRING(before)
        cdef const unsigned char* b = <const unsigned char*>PyBytes_AS_STRING(after)
        cdef int ci, off
        for ci in range(self.nc):
            off = self.local[ci] + LOCKED_VALUE
            if a[off] and b[off] and a[off] != b[off]:
                return True
        return False


cdef inline int popcount(unsigned int x):
    cdef int c = 0
    while x:
        x &= x - 1
        c += 1
    return c

