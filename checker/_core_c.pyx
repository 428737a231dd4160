# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True
"""Compiled exploration core; the same API and results as _core_py.py.

Per state it stores 8 bytes of fingerprint in an open-addressing table (linear
probing, load at most 1/2) plus a parent index, an action position and a
depth in flat C arrays: about 32 bytes a state, no Python objects. The
frontier is one contiguous buffer of fixed-size records (state bytes + index).
"""

from libc.stdint cimport uint8_t, uint32_t, uint64_t, int64_t
from libc.stdlib cimport malloc, realloc, free, calloc
from libc.string cimport memcpy, memmove, memset
from cpython.bytes cimport PyBytes_AS_STRING, PyBytes_GET_SIZE, PyBytes_FromStringAndSize




cdef extern from "fingerprint.h":
    uint64_t _fingerprint "bftcheck_fingerprint"(const uint8_t* data, size_t n) nogil


def fingerprint(bytes data):
    """64-bit fingerprint of an encoded state; never 0 (0 marks an empty slot)."""
    return _fingerprint(<const uint8_t*>PyBytes_AS_STRING(data), PyBytes_GET_SIZE(data))


cdef class StateSpace:
    """Visited set (fingerprint -> state index) with parent links, plus the frontier."""

    cdef uint64_t* keys
    cdef int64_t* slots
    cdef Py_ssize_t capacity
    cdef int64_t* parents
    cdef uint32_t* actions
    cdef uint32_t* depths
    cdef Py_ssize_t count, reserved
    cdef uint8_t* fbuf
    cdef Py_ssize_t fhead, ftail, fcap, record
    cdef readonly Py_ssize_t state_size
    compiled = True

    def __cinit__(self, Py_ssize_t state_size):
        self.state_size = state_size
        self.capacity = 1 << 16
        self.keys = <uint64_t*>calloc(self.capacity, sizeof(uint64_t))
        self.slots = <int64_t*>malloc(self.capacity * sizeof(int64_t))
        self.reserved = 1 << 15
        self.parents = <int64_t*>malloc(self.reserved * sizeof(int64_t))
        self.actions = <uint32_t*>malloc(self.reserved * sizeof(uint32_t))
        self.depths = <uint32_t*>malloc(self.reserved * sizeof(uint32_t))
        self.record = state_size + sizeof(int64_t)
        self.fcap = 1024 * self.record
        self.fbuf = <uint8_t*>malloc(self.fcap)
        self.fhead = 0
        self.ftail = 0
        self.count = 0
        if not (self.keys and self.slots and self.parents and self.actions and self.depths
                and self.fbuf):
            raise MemoryError()

    def __dealloc__(self):
        free(self.keys)
        free(self.slots)
        free(self.parents)
        free(self.actions)
        free(self.depths)
        free(self.fbuf)

    def __len__(self):
        return self.count

    @property
    def queued(self):
        return (self.ftail - self.fhead) // self.record

    def next_growth(self):
        """(states to go before the next table or parent-array growth, bytes
        that growth allocates at once): the memory budget looks ahead."""
        cdef Py_ssize_t table = self.capacity // 2 - self.count
        cdef Py_ssize_t states = self.reserved - self.count
        cdef Py_ssize_t frontier = (self.fcap - self.ftail) // self.record
        growths = [
            (max(table, 0), 2 * self.capacity * (sizeof(uint64_t) + sizeof(int64_t))),
            (states, 2 * self.reserved * (sizeof(int64_t) + 2 * sizeof(uint32_t))),
            (frontier, 2 * self.fcap),
        ]
        return min(growths)

    cdef int _grow_table(self) except -1:
        cdef Py_ssize_t newcap = self.capacity * 2, i, j
        cdef uint64_t* nk = <uint64_t*>calloc(newcap, sizeof(uint64_t))
        cdef int64_t* ns = <int64_t*>malloc(newcap * sizeof(int64_t))
        if not nk or not ns:
            free(nk)
            free(ns)
            raise MemoryError()
        for i in range(self.capacity):
            if self.keys[i]:
                j = <Py_ssize_t>(self.keys[i] & <uint64_t>(newcap - 1))
                while nk[j]:
                    j = (j + 1) & (newcap - 1)
                nk[j] = self.keys[i]
                ns[j] = self.slots[i]
        free(self.keys)
        free(self.slots)
        self.keys = nk
        self.slots = ns
        self.capacity = newcap
        return 0

    cdef int _grow_states(self) except -1:
        cdef Py_ssize_t n = self.reserved * 2
        cdef int64_t* p = <int64_t*>realloc(self.parents, n * sizeof(int64_t))
        if not p:
            raise MemoryError()
        self.parents = p
        cdef uint32_t* a = <uint32_t*>realloc(self.actions, n * sizeof(uint32_t))
        if not a:
            raise MemoryError()
        self.actions = a
        cdef uint32_t* d = <uint32_t*>realloc(self.depths, n * sizeof(uint32_t))
        if not d:
            raise MemoryError()
        self.depths = d
        self.reserved = n
        return 0

    cdef int _push(self, const uint8_t* state, int64_t sid) except -1:
        cdef Py_ssize_t live
        cdef uint8_t* nb
        if self.ftail + self.record > self.fcap:
            live = self.ftail - self.fhead
            if self.fhead > 0 and live + self.record <= self.fcap // 2:
                memmove(self.fbuf, self.fbuf + self.fhead, live)
            else:
                nb = <uint8_t*>malloc(self.fcap * 2)
                if not nb:
                    raise MemoryError()
                memcpy(nb, self.fbuf + self.fhead, live)
                free(self.fbuf)
                self.fbuf = nb
                self.fcap *= 2
            self.fhead = 0
            self.ftail = live
        memcpy(self.fbuf + self.ftail, state, self.state_size)
        memcpy(self.fbuf + self.ftail + self.state_size, &sid, sizeof(int64_t))
        self.ftail += self.record
        return 0

    cdef int64_t _add(self, bytes state, int64_t parent, int action, int depth) except -2:
        if PyBytes_GET_SIZE(state) != self.state_size:
            raise ValueError(f"state has {len(state)} bytes, expected {self.state_size}")
        cdef const uint8_t* data = <const uint8_t*>PyBytes_AS_STRING(state)
        cdef uint64_t fp = _fingerprint(data, self.state_size)
        cdef Py_ssize_t mask = self.capacity - 1
        cdef Py_ssize_t j = <Py_ssize_t>(fp & <uint64_t>mask)
        while self.keys[j]:
            if self.keys[j] == fp:
                return -1
            j = (j + 1) & mask
        cdef int64_t sid = self.count
        if sid >= self.reserved:
            self._grow_states()
        self.keys[j] = fp
        self.slots[j] = sid
        self.parents[sid] = parent
        self.actions[sid] = <uint32_t>action
        self.depths[sid] = <uint32_t>depth
        self.count += 1
        self._push(data, sid)
        if 2 * self.count > self.capacity:
            self._grow_table()
        return sid

    def add_initial(self, bytes state, int position):
        """Add an initial state (its position in init_states()); -1 if seen."""
        return self._add(state, -1, position, 0)

    def add_successors(self, int64_t parent, list successors):
        """Add the successors of state `parent`; return the positions of the new ones.
        New states get consecutive indices, in the order of the returned positions."""
        cdef int depth = self.depths[parent] + 1
        cdef list new = []
        cdef Py_ssize_t k
        for k in range(len(successors)):
            if self._add(<bytes>successors[k], parent, k, depth) >= 0:
                new.append(k)
        return new

    cdef int64_t _index_of(self, const uint8_t* data) noexcept:
        cdef uint64_t fp = _fingerprint(data, self.state_size)
        cdef Py_ssize_t mask = self.capacity - 1
        cdef Py_ssize_t j = <Py_ssize_t>(fp & <uint64_t>mask)
        while self.keys[j]:
            if self.keys[j] == fp:
                return self.slots[j]
            j = (j + 1) & mask
        return -1

    def add_successors_indexed(self, int64_t parent, list successors):
        """As add_successors, and also the index of every successor (new or seen),
        for engines that keep the state graph's edges."""
        cdef int depth = self.depths[parent] + 1
        cdef list new = []
        cdef list ids = []
        cdef Py_ssize_t k
        cdef int64_t sid
        cdef bytes t
        for k in range(len(successors)):
            t = <bytes>successors[k]
            sid = self._add(t, parent, k, depth)
            if sid >= 0:
                new.append(k)
            else:
                sid = self._index_of(<const uint8_t*>PyBytes_AS_STRING(t))
            ids.append(sid)
        return new, ids

    def pop(self):
        """The next state to expand (FIFO, so breadth-first), or None when done."""
        cdef int64_t sid
        if self.fhead >= self.ftail:
            return None
        state = PyBytes_FromStringAndSize(<char*>(self.fbuf + self.fhead), self.state_size)
        memcpy(&sid, self.fbuf + self.fhead + self.state_size, sizeof(int64_t))
        self.fhead += self.record
        if self.fhead == self.ftail:
            self.fhead = 0
            self.ftail = 0
        return state, sid

    def _check(self, int64_t sid):
        if sid < 0 or sid >= self.count:
            raise IndexError(sid)

    def parent(self, int64_t sid):
        self._check(sid)
        return self.parents[sid]

    def action(self, int64_t sid):
        self._check(sid)
        return self.actions[sid]

    def depth(self, int64_t sid):
        self._check(sid)
        return self.depths[sid]

    def index(self, bytes state):
        """The index of a stored state, or -1."""
        if PyBytes_GET_SIZE(state) != self.state_size:
            return -1
        return self._index_of(<const uint8_t*>PyBytes_AS_STRING(state))

    def contains(self, bytes state):
        cdef uint64_t fp = _fingerprint(<const uint8_t*>PyBytes_AS_STRING(state),
                                        PyBytes_GET_SIZE(state))
        cdef Py_ssize_t mask = self.capacity - 1
        cdef Py_ssize_t j = <Py_ssize_t>(fp & <uint64_t>mask)
        while self.keys[j]:
            if self.keys[j] == fp:
                return True
            j = (j + 1) & mask
        return False
