# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True
"""The compiled search engine: one worker's share of a level-by-level
breadth-first search, in C (checker/search.py drives it; checker/bfs.py is the
readable reference it must agree with).

A worker owns the states whose fingerprints hash to it. Per state it keeps
8 bytes in RAM (its fingerprint, in a sharded open-addressing table at load at
most 3/4) and 12 bytes on disk (its parent and the position of the action that
led to it, appended to the parent log; traces are rebuilt by reading it back).
The level being expanded and the next one are spools of encoded states: in RAM
up to a share, then in files. With one worker, successors are inserted as they
are made, in the order of the reference loop. With several, each successor is
sent to its owner tagged with a key (the global rank of its parent in its level,
then its position); an owner merges what it received in key order, so the first
arrival of a state is the one the one-worker search would have seen first, and
every count, verdict and trace is the same for any number of workers.
"""

from libc.stdint cimport int32_t, int64_t, uint8_t, uint16_t, uint32_t, uint64_t
from libc.stdio cimport FILE, SEEK_SET, fclose, fflush, fopen, fread, fwrite
from libc.stdlib cimport calloc, free, malloc, realloc
from libc.string cimport memcmp, memcpy
from cpython.bytes cimport PyBytes_AS_STRING, PyBytes_FromStringAndSize, PyBytes_GET_SIZE
from cpython.pycapsule cimport PyCapsule_GetPointer, PyCapsule_IsValid
from posix.mman cimport MAP_ANONYMOUS, MAP_FAILED, MAP_PRIVATE, PROT_READ, PROT_WRITE, mmap, munmap

cdef extern from "fingerprint.h":
    uint64_t bftcheck_fingerprint(const uint8_t* data, size_t n) nogil

include "native_model.pxi"
include "canonical.pxi"

cdef extern from "stdio.h":
    int fseeko(FILE*, long long, int) nogil

cdef extern from *:
    void __builtin_prefetch(const void* addr) nogil

# What expand and merge return.
cdef enum:
    LEVEL_DONE = 0
    BUDGET_USED = 1
    DECIDED = 2
    STATE_LIMIT = 3
    NO_MEMORY = 4
    DISK_FULL = 5
    CALLBACK_ERROR = 6
    TOO_MANY_SUCCESSORS = 7

STATUS_NAMES = ("level done", "budget used", "decided", "state limit", "out of memory",
                "disk full", "callback error", "too many successors")
# For the coordinator: a key is (parent's rank) * ACTIONS + the successor's position.
ACTIONS = 65536
PARENT_BYTES = 12

cdef enum:
    SHARD_BITS = 8
    NSHARDS = 256
    FIRST_SHARD_SLOTS = 512   # one page
    MAX_PROPERTIES = 64
    MAX_ACTIONS = 65536
    PARENT_RECORD = 12   # int64 parent reference + uint32 action position
    READ_CHUNK = 1 << 20
    HEADER = 24          # an outbox record: key, parent reference, fingerprint, then the state
    MERGE_BATCH = 32


def fingerprint(bytes data):
    """The engine's 64-bit fingerprint of an encoded state (never 0)."""
    return bftcheck_fingerprint(<const uint8_t*>PyBytes_AS_STRING(data), PyBytes_GET_SIZE(data))


cdef inline int owner(uint64_t fp, int workers) noexcept nogil:
    """The worker that owns fingerprint fp: bits the table's shards do not use."""
    return <int>(((fp >> 24) & <uint64_t>0xFFFFFFFF) % <uint64_t>workers)


def owner_of(uint64_t fp, int workers):
    return owner(fp, workers)


ctypedef struct Shard:
    uint64_t* keys
    uint64_t mask
    int64_t count


cdef uint64_t* new_slots(uint64_t n) noexcept nogil:
    """n zeroed slots, mapped from the kernel so that a freed table goes back
    to it at once (the heap would keep every outgrown table resident)."""
    cdef void* p = mmap(NULL, n * 8, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0)
    return NULL if p == MAP_FAILED else <uint64_t*>p


cdef void free_slots(uint64_t* keys, uint64_t n) noexcept nogil:
    if keys != NULL:
        munmap(keys, n * 8)


cdef class FingerprintSet:
    """Visited fingerprints: 256 open-addressing tables (linear probing) picked
    by the top 8 bits, each doubling on its own at load 3/4, so a growth
    briefly needs 1/256 of the table twice, not the whole table."""

    cdef Shard shards[NSHARDS]
    cdef readonly int64_t count

    def __cinit__(self):
        cdef int i
        for i in range(NSHARDS):
            self.shards[i].keys = new_slots(FIRST_SHARD_SLOTS)
            self.shards[i].mask = FIRST_SHARD_SLOTS - 1
            self.shards[i].count = 0
            if not self.shards[i].keys:
                raise MemoryError()
        self.count = 0

    def __dealloc__(self):
        cdef int i
        for i in range(NSHARDS):
            free_slots(self.shards[i].keys, self.shards[i].mask + 1)

    @property
    def nbytes(self):
        cdef int i
        cdef int64_t n = 0
        for i in range(NSHARDS):
            n += (self.shards[i].mask + 1) * 8
        return n

    def next_growth(self):
        """Bytes the table may allocate soon: the shards near their load limit
        grow by their size, and one growth briefly holds old and new."""
        cdef int i
        cdef int64_t soon = 0, biggest = 0, slots
        for i in range(NSHARDS):
            slots = self.shards[i].mask + 1
            if 10 * 4 * self.shards[i].count >= 9 * 3 * slots:
                soon += slots * 8
            if slots * 16 > biggest:
                biggest = slots * 16
        return soon + biggest

    cdef int grow(self, Shard* sh) noexcept nogil:
        cdef uint64_t newmask = sh.mask * 2 + 1, j, fp
        cdef uint64_t i
        cdef uint64_t* nk = new_slots(newmask + 1)
        if not nk:
            return -1
        for i in range(sh.mask + 1):
            fp = sh.keys[i]
            if fp:
                j = fp & newmask
                while nk[j]:
                    j = (j + 1) & newmask
                nk[j] = fp
        free_slots(sh.keys, sh.mask + 1)
        sh.keys = nk
        sh.mask = newmask
        return 0

    cdef inline void prefetch(self, uint64_t fp) noexcept nogil:
        """Start loading fp's slot: the inserts of a state's successors then
        wait for their cache misses together, not one after another."""
        cdef Shard* sh = &self.shards[fp >> (64 - SHARD_BITS)]
        __builtin_prefetch(&sh.keys[fp & sh.mask])

    cdef int insert(self, uint64_t fp) noexcept nogil:
        """1 if fp is new (now stored), 0 if it was there, -1 out of memory."""
        cdef Shard* sh = &self.shards[fp >> (64 - SHARD_BITS)]
        cdef uint64_t j
        if 4 * (sh.count + 1) > 3 * (<int64_t>sh.mask + 1):
            if self.grow(sh) < 0:
                return -1
        j = fp & sh.mask
        while sh.keys[j]:
            if sh.keys[j] == fp:
                return 0
            j = (j + 1) & sh.mask
        sh.keys[j] = fp
        sh.count += 1
        self.count += 1
        return 1

    cdef void remove(self, uint64_t fp) noexcept nogil:
        """Delete fp (backward-shift deletion keeps every probe run whole)."""
        cdef Shard* sh = &self.shards[fp >> (64 - SHARD_BITS)]
        cdef uint64_t j = fp & sh.mask, k, home
        while sh.keys[j] != fp:
            if not sh.keys[j]:
                return
            j = (j + 1) & sh.mask
        k = j
        while True:
            k = (k + 1) & sh.mask
            if not sh.keys[k]:
                break
            home = sh.keys[k] & sh.mask
            # move keys[k] into the hole at j unless its home lies in (j, k]
            if (j <= k and (home <= j or home > k)) or (j > k and home <= j and home > k):
                sh.keys[j] = sh.keys[k]
                j = k
        sh.keys[j] = 0
        sh.count -= 1
        self.count -= 1

    def dump(self, str path):
        """Write the table to `path` (each shard's slot count, then its slots)."""
        cdef int i
        cdef uint64_t slots
        cdef FILE* f = fopen(path.encode(), b"wb")
        if f == NULL:
            raise OSError(f"cannot write {path}")
        try:
            for i in range(NSHARDS):
                slots = self.shards[i].mask + 1
                if (fwrite(&slots, 8, 1, f) != 1
                        or fwrite(self.shards[i].keys, 8, slots, f) != slots):
                    raise OSError(f"cannot write {path} (disk full?)")
        finally:
            if fclose(f) != 0:
                raise OSError(f"cannot write {path} (disk full?)")

    def load(self, str path):
        """Read a table written by dump; ValueError if the file does not fit."""
        cdef int i
        cdef uint64_t slots, j
        cdef uint64_t* keys
        cdef int64_t n
        cdef FILE* f = fopen(path.encode(), b"rb")
        if f == NULL:
            raise OSError(f"cannot read {path}")
        try:
            self.count = 0
            for i in range(NSHARDS):
                if fread(&slots, 8, 1, f) != 1 or slots == 0 or slots & (slots - 1) \
                        or slots > (1 << 40):
                    raise ValueError(f"{path} is not a fingerprint table")
                keys = new_slots(slots)
                if not keys:
                    raise MemoryError()
                if fread(keys, 8, slots, f) != slots:
                    free_slots(keys, slots)
                    raise ValueError(f"{path} is cut short")
                n = 0
                for j in range(slots):
                    if keys[j]:
                        n += 1
                free_slots(self.shards[i].keys, self.shards[i].mask + 1)
                self.shards[i].keys = keys
                self.shards[i].mask = slots - 1
                self.shards[i].count = n
                self.count += n
        finally:
            fclose(f)


cdef class Spool:
    """An append-only sequence of fixed-size records: in RAM up to `share`
    bytes, then in the file `path` (and read back in chunks)."""

    cdef readonly int record
    cdef readonly int64_t count
    cdef readonly str path
    cdef bytes cpath
    cdef const char* cpath_c       # into cpath, which keeps it alive
    cdef uint8_t* buf
    cdef int64_t used, cap, share
    cdef FILE* f
    cdef readonly bint spilled
    cdef bint failed
    # reading
    cdef FILE* rf
    cdef uint8_t* rbuf
    cdef int64_t rpos, rlen, read_count

    def __cinit__(self, int record, str path, int64_t share):
        self.record = record
        self.path = path
        self.cpath = path.encode()
        self.cpath_c = self.cpath
        self.share = max(share, <int64_t>record)
        self.cap = min(self.share, <int64_t>(64 * record))
        self.buf = <uint8_t*>malloc(self.cap)
        if not self.buf:
            raise MemoryError()

    def __dealloc__(self):
        if self.f != NULL:
            fclose(self.f)
        if self.rf != NULL:
            fclose(self.rf)
        free(self.buf)
        free(self.rbuf)

    @property
    def nbytes(self):
        return self.cap + (READ_CHUNK if self.rbuf else 0)

    cdef int flush_buffer(self) noexcept nogil:
        if self.f == NULL:
            self.f = fopen(self.cpath_c, b"wb")
            if self.f == NULL:
                self.failed = True
                return -1
            self.spilled = True
        if self.used and fwrite(self.buf, 1, self.used, self.f) != <size_t>self.used:
            self.failed = True
            return -1
        self.used = 0
        return 0

    cdef uint8_t* reserve(self) noexcept nogil:
        """Room for one more record at the end (the caller fills it), or NULL if
        the disk refused (full, or the folder is gone)."""
        cdef int64_t newcap
        cdef uint8_t* nb
        cdef uint8_t* r
        if self.used + self.record > self.cap:
            newcap = 2 * self.cap
            if self.f == NULL and newcap <= self.share:
                nb = <uint8_t*>realloc(self.buf, newcap)
                if nb != NULL:
                    self.buf = nb
                    self.cap = newcap
            if self.used + self.record > self.cap:
                if self.flush_buffer() < 0:
                    return NULL
        r = self.buf + self.used
        self.used += self.record
        self.count += 1
        return r

    cdef int append(self, const uint8_t* rec) noexcept nogil:
        """0, or -1 if the disk refused."""
        cdef uint8_t* r = self.reserve()
        if r == NULL:
            return -1
        memcpy(r, rec, self.record)
        return 0

    def seal(self):
        """Finish writing: a spilled spool's rest goes to its file; False if the
        disk refused."""
        if self.failed:
            return False
        if self.f != NULL:
            if self.flush_buffer() < 0 or fflush(self.f) != 0:
                return False
            if fclose(self.f) != 0:
                self.f = NULL
                return False
            self.f = NULL
        return True

    def to_file(self):
        """Put every record in the spool's file (a checkpoint needs them on disk)."""
        if not self.spilled:
            if self.flush_buffer() < 0:
                return False
        return self.seal()

    def rewind(self):
        """Read from the first record again."""
        if self.rf != NULL:
            fclose(self.rf)
            self.rf = NULL
        self.rpos = 0
        self.rlen = 0
        self.read_count = 0

    cdef const uint8_t* next(self) noexcept nogil:
        """The next record, or NULL at the end (or if the file cannot be read:
        `failed` says which)."""
        cdef const uint8_t* r
        cdef size_t got
        if self.read_count >= self.count:
            return NULL
        if not self.spilled:
            r = self.buf + self.read_count * self.record
            self.read_count += 1
            return r
        if self.rpos >= self.rlen:
            if self.rf == NULL:
                if self.rbuf == NULL:
                    self.rbuf = <uint8_t*>malloc(READ_CHUNK - READ_CHUNK % self.record
                                                 + self.record)
                self.rf = fopen(self.cpath_c, b"rb")
                if self.rf == NULL or self.rbuf == NULL:
                    self.failed = True
                    return NULL
                if fseeko(self.rf, self.read_count * self.record, SEEK_SET) != 0:
                    self.failed = True
                    return NULL
            got = fread(self.rbuf, self.record, READ_CHUNK // self.record, self.rf)
            if got == 0:
                self.failed = True
                return NULL
            self.rpos = 0
            self.rlen = got * self.record
        r = self.rbuf + self.rpos
        self.rpos += self.record
        self.read_count += 1
        return r


cdef class Worker:
    """One worker of a search: its fingerprints, its parent log, its levels,
    and the properties it watches (see the module docstring)."""

    cdef bftcheck_native_model* native
    cdef object capsule
    cdef object py_successors      # state -> (states, action names), without `native`
    cdef list action_names         # native action kind -> name, for Python step checks
    cdef readonly int state_size, workers, me
    cdef readonly FingerprintSet seen
    cdef FILE* parents
    cdef readonly str parents_path
    cdef readonly int64_t owned    # states this worker owns (their local indices 0..)
    cdef readonly int64_t generated
    cdef readonly int64_t level_base, next_base, position
    cdef public Spool current, upcoming
    cdef list outboxes
    cdef uint8_t* out
    cdef uint16_t* kinds
    cdef uint64_t* fps             # the fingerprints of the successors in `out`
    cdef int ocap
    cdef list names                # action names of the successors in `out` (Python)
    # properties: index j -> scope (1 step), kind (1 always), native bit or -1
    cdef int nprops
    cdef int pscope[MAX_PROPERTIES]
    cdef int palways[MAX_PROPERTIES]
    cdef int pbit[MAX_PROPERTIES]
    cdef list py_checks
    cdef uint64_t watch             # properties still to find (bit j: property j)
    cdef uint64_t state_bits, step_bits   # the native bits those need
    cdef bint py_states, any_steps        # some need Python; some are step properties
    cdef readonly uint64_t found
    cdef uint64_t found_key[MAX_PROPERTIES]
    cdef int64_t found_ref[MAX_PROPERTIES]
    cdef int found_step[MAX_PROPERTIES]
    cdef int found_depth[MAX_PROPERTIES]
    cdef public int depth          # level of the states being expanded
    # stopping (one worker): when every watched property is found, at the first
    # violation of an "always" property, at a state count
    cdef public bint stop_at_first
    cdef public int64_t max_states
    cdef uint64_t always_mask
    # several workers: the global ranks of the current level, successor counts,
    # and the keys of the next level's states in merge order
    cdef int64_t* ranks
    cdef uint32_t* nsucc
    cdef int64_t nsucc_cap
    cdef int64_t* keys
    cdef int64_t nkeys, keys_cap
    cdef object error
    cdef readonly str workdir
    cdef readonly int64_t share
    cdef void** boxes              # the outboxes' Spool objects (the list holds them)
    cdef Canonical canon           # symmetry reduction: store representatives
    cdef bint symmetric

    def __cinit__(self, int state_size, int workers, int me, str workdir, int64_t share,
                  object native, object py_successors, list properties, list action_names):
        """`properties`: (scope, kind, native bit or -1, Python check or None) per
        property, in the order of their indices."""
        cdef int j
        self.state_size = state_size
        self.workers = workers
        self.me = me
        self.seen = FingerprintSet()
        if native is not None:
            if not PyCapsule_IsValid(native, BFTCHECK_NATIVE_CAPSULE):
                raise TypeError("the model's native entry is not a bftcheck.native_model capsule")
            self.native = <bftcheck_native_model*>PyCapsule_GetPointer(native,
                                                                        BFTCHECK_NATIVE_CAPSULE)
            if self.native.version != BFTCHECK_NATIVE_VERSION:
                raise TypeError(f"native model version {self.native.version}, the engine "
                                f"speaks {BFTCHECK_NATIVE_VERSION}")
            if self.native.state_size != state_size:
                raise ValueError("the native model's state size differs from the model's")
            self.capsule = native
        self.py_successors = py_successors
        self.action_names = action_names
        if len(properties) > MAX_PROPERTIES:
            raise ValueError(f"at most {MAX_PROPERTIES} properties at once")
        self.nprops = len(properties)
        self.py_checks = []
        self.always_mask = 0
        for j, (scope, kind, bit, check) in enumerate(properties):
            self.pscope[j] = 1 if scope == "step" else 0
            self.palways[j] = 1 if kind == "always" else 0
            self.pbit[j] = bit if native is not None else -1
            self.py_checks.append(check)
            if self.palways[j]:
                self.always_mask |= (<uint64_t>1) << j
        self.watched = ((<uint64_t>1) << self.nprops) - 1 if self.nprops < 64 else ~(<uint64_t>0)
        self.ocap = 256
        self.out = <uint8_t*>malloc(<size_t>self.ocap * state_size)
        self.kinds = <uint16_t*>malloc(self.ocap * sizeof(uint16_t))
        self.fps = <uint64_t*>malloc(self.ocap * sizeof(uint64_t))
        if not (self.out and self.kinds and self.fps):
            raise MemoryError()
        self.parents_path = f"{workdir}/parents-w{me}.log"
        self.workdir = workdir
        self.share = share
        self.max_states = -1

    def __dealloc__(self):
        if self.parents != NULL:
            fclose(self.parents)
        free(self.out)
        free(self.kinds)
        free(self.fps)
        free(self.ranks)
        free(self.nsucc)
        free(self.keys)
        free(self.boxes)

    # -- files -----------------------------------------------------------------
    def open_parents(self, int64_t keep=-1):
        """Open the parent log for appending; with `keep` >= 0 (a resume) cut it
        to that many records first."""
        import os
        if keep >= 0:
            size = os.path.getsize(self.parents_path)
            if size < keep * PARENT_RECORD:
                raise ValueError(f"{self.parents_path} is shorter than the checkpoint says")
            os.truncate(self.parents_path, keep * PARENT_RECORD)
            self.parents = fopen(self.parents_path.encode(), b"ab")
        else:
            self.parents = fopen(self.parents_path.encode(), b"wb")
        if self.parents == NULL:
            raise OSError(f"cannot write {self.parents_path}")

    def flush_parents(self):
        """Make the parent log readable from its file; False if the disk refused."""
        return self.parents != NULL and fflush(self.parents) == 0

    def new_level(self, int level):
        """A fresh spool for the next level's states."""
        self.upcoming = Spool(self.state_size, f"{self.workdir}/level-{level}-w{self.me}.bin",
                              self.share)
        self.next_base = self.owned
        self.nkeys = 0

    def open_outboxes(self, int level):
        """One file of (key, parent, state) records per owner (several workers)."""
        cdef int o
        self.outboxes = [
            Spool(HEADER + self.state_size, f"{self.workdir}/out-{level}-w{self.me}-to{o}.bin",
                  1 << 20)
            for o in range(self.workers)
        ]
        if self.boxes == NULL:
            self.boxes = <void**>calloc(self.workers, sizeof(void*))
            if self.boxes == NULL:
                raise MemoryError()
        for o in range(self.workers):
            self.boxes[o] = <void*>self.outboxes[o]

    def seal_outboxes(self):
        """Put every outbox in its file; (all written, [(path, records)])."""
        ok = all([box.to_file() for box in self.outboxes])
        paths = [(box.path, box.count) for box in self.outboxes]
        self.outboxes = None
        return ok, paths

    def advance(self):
        """The next level becomes the one to expand."""
        self.current = self.upcoming
        self.upcoming = None
        self.level_base = self.next_base
        self.position = 0
        self.current.rewind()

    @property
    def watched(self):
        return self.watch

    @watched.setter
    def watched(self, uint64_t mask):
        self.watch = mask
        self.rewatch()

    cdef void rewatch(self) noexcept nogil:
        """What the watched properties need of each state and step, once."""
        cdef int j
        self.state_bits = 0
        self.step_bits = 0
        self.py_states = False
        self.any_steps = False
        for j in range(self.nprops):
            if not (self.watch >> j & 1):
                continue
            if self.pscope[j]:
                self.any_steps = True
                if self.pbit[j] >= 0:
                    self.step_bits |= (<uint64_t>1) << self.pbit[j]
            elif self.pbit[j] >= 0:
                self.state_bits |= (<uint64_t>1) << self.pbit[j]
            else:
                self.py_states = True

    cdef void found_one(self, int j) noexcept nogil:
        self.watch &= ~((<uint64_t>1) << j)
        self.rewatch()

    # -- found properties --------------------------------------------------------
    cdef void note(self, int j, uint64_t key, int64_t ref, int step, int depth) noexcept nogil:
        """Property j found at key (the first, in the one-worker order, wins)."""
        cdef uint64_t bit = (<uint64_t>1) << j
        if self.found & bit and self.found_key[j] <= key:
            return
        self.found |= bit
        self.found_key[j] = key
        self.found_ref[j] = ref
        self.found_step[j] = step
        self.found_depth[j] = depth

    def found_events(self):
        """{property index: (key, reference, step or -1, depth)} found here."""
        return {j: (self.found_key[j], self.found_ref[j], self.found_step[j],
                    self.found_depth[j])
                for j in range(self.nprops) if self.found >> j & 1}

    def set_found(self, dict events):
        """Restore found properties (a resume, or a level rolled back)."""
        self.found = 0
        for j, (key, ref, step, depth) in events.items():
            self.note(j, key, ref, step, depth)

    cdef int py_state(self, int j, const uint8_t* t) noexcept with gil:
        """Python check of state property j: 1 holds, 0 not, -1 it raised."""
        try:
            return 1 if self.py_checks[j](PyBytes_FromStringAndSize(<const char*>t,
                                                                     self.state_size)) else 0
        except BaseException as exc:
            self.error = exc
            return -1

    cdef int py_step(self, int j, const uint8_t* s, int k) noexcept with gil:
        try:
            before = PyBytes_FromStringAndSize(<const char*>s, self.state_size)
            after = PyBytes_FromStringAndSize(<const char*>(self.out + <size_t>k * self.state_size),
                                              self.state_size)
            if self.native != NULL:
                name = self.action_names[self.kinds[k]]
            else:
                name = self.names[k]
            return 1 if self.py_checks[j](before, name, after) else 0
        except BaseException as exc:
            self.error = exc
            return -1

    cdef int check_state(self, const uint8_t* t, uint64_t key, int64_t ref,
                         int depth) noexcept nogil:
        """Judge the watched state properties on a new state; -1 if a check raised."""
        cdef uint64_t holds = 0
        cdef int j, h
        if not self.state_bits and not self.py_states:
            return 0
        if self.state_bits:
            holds = self.native.state_predicates(self.native.ctx, t, self.state_bits)
        for j in range(self.nprops):
            if self.pscope[j] or not (self.watch >> j & 1):
                continue
            if self.pbit[j] >= 0:
                h = <int>(holds >> self.pbit[j] & 1)
            else:
                h = self.py_state(j, t)
                if h < 0:
                    return -1
            if h != self.palways[j]:
                self.note(j, key, ref, -1, depth)
                self.found_one(j)
        return 0

    cdef int check_steps(self, const uint8_t* s, int n, uint64_t rank, int64_t ref,
                         int depth) noexcept nogil:
        """Judge the watched step properties on every step out of s."""
        cdef uint64_t holds
        cdef int j, k, h
        if not self.any_steps:
            return 0
        for k in range(n):
            holds = 0
            if self.step_bits:
                holds = self.native.step_predicates(
                    self.native.ctx, s, self.kinds[k], self.out + <size_t>k * self.state_size,
                    self.step_bits)
            for j in range(self.nprops):
                if not self.pscope[j] or not (self.watch >> j & 1):
                    continue
                if self.pbit[j] >= 0:
                    h = <int>(holds >> self.pbit[j] & 1)
                else:
                    h = self.py_step(j, s, k)
                    if h < 0:
                        return -1
                if h != self.palways[j]:
                    self.note(j, rank * MAX_ACTIONS + k, ref, k, depth)
                    self.found_one(j)
        return 0

    def reduce_by(self, Canonical canon):
        """Store the representative of every successor (after its step checks,
        which see the real step): symmetry reduction."""
        self.canon = canon
        self.symmetric = True

    # -- successors ----------------------------------------------------------------
    cdef int successors(self, const uint8_t* s) noexcept nogil:
        """Fill `out` with the successors of s; their number, or -1 (no memory)
        or -2 (a Python successor function raised: `error`)."""
        cdef int n
        if self.native == NULL:
            return self.py_successors_into(s)
        while True:
            n = self.native.successors(self.native.ctx, s, self.out, self.kinds, self.ocap)
            if n <= self.ocap:
                return n
            if self.grow_out(n) < 0:
                return -1

    cdef int grow_out(self, int n) noexcept nogil:
        cdef int cap = n if n > 2 * self.ocap else 2 * self.ocap
        cdef uint8_t* o = <uint8_t*>realloc(self.out, <size_t>cap * self.state_size)
        if o == NULL:
            return -1
        self.out = o
        cdef uint16_t* k = <uint16_t*>realloc(self.kinds, cap * sizeof(uint16_t))
        if k == NULL:
            return -1
        self.kinds = k
        cdef uint64_t* f = <uint64_t*>realloc(self.fps, cap * sizeof(uint64_t))
        if f == NULL:
            return -1
        self.fps = f
        self.ocap = cap
        return 0

    cdef int py_successors_into(self, const uint8_t* s) noexcept with gil:
        cdef int k, n
        cdef bytes t
        try:
            states, names = self.py_successors(
                PyBytes_FromStringAndSize(<const char*>s, self.state_size))
            n = len(states)
            if n > self.ocap and self.grow_out(n) < 0:
                raise MemoryError()
            for k in range(n):
                t = states[k]
                if PyBytes_GET_SIZE(t) != self.state_size:
                    raise ValueError(f"a successor has {len(t)} bytes, the model's states "
                                     f"have {self.state_size}")
                memcpy(self.out + <size_t>k * self.state_size, PyBytes_AS_STRING(t),
                       self.state_size)
            self.names = list(names)
            return n
        except BaseException as exc:
            self.error = exc
            return -2

    # -- one worker: insert as made --------------------------------------------------
    cdef int add(self, const uint8_t* t, uint64_t fp, int64_t parent, uint32_t action,
                 uint64_t key, int depth) noexcept nogil:
        """Store t (fingerprint fp) if new: 1 new, 0 seen, or the negated status
        of a failure."""
        cdef uint8_t rec[PARENT_RECORD]
        cdef int r = self.seen.insert(fp)
        cdef int64_t sid
        if r < 0:
            return -NO_MEMORY
        if r == 0:
            return 0
        sid = self.owned * self.workers + self.me
        memcpy(rec, &parent, 8)
        memcpy(rec + 8, &action, 4)
        if fwrite(rec, PARENT_RECORD, 1, self.parents) != 1 or self.upcoming.append(t) < 0:
            # not stored after all: a table entry without its state would hide
            # it from a resumed search (the rollback forgets what the level holds)
            self.seen.remove(fp)
            return -DISK_FULL
        self.owned += 1
        if self.nprops and self.check_state(t, key, sid, depth) < 0:
            return -CALLBACK_ERROR
        return 1

    def add_initial(self, bytes state, int position):
        """Add an initial state this worker owns (its position in init_states());
        True if it was new. Raises what a Python check raised."""
        if PyBytes_GET_SIZE(state) != self.state_size:
            raise ValueError(f"state has {len(state)} bytes, expected {self.state_size}")
        cdef const uint8_t* data = <const uint8_t*>PyBytes_AS_STRING(state)
        r = self.add(data, bftcheck_fingerprint(data, self.state_size), -1, position, position,
                     0)
        return self.status_or_raise(r)

    cdef object status_or_raise(self, int r):
        if r == -CALLBACK_ERROR:
            exc, self.error = self.error, None
            raise exc
        if r == -NO_MEMORY:
            raise MemoryError()
        if r == -DISK_FULL:
            raise OSError(f"cannot write to {self.workdir} (disk full?)")
        return r == 1

    def expand(self, int64_t budget):
        """Expand up to `budget` states of the current level; LEVEL_DONE,
        BUDGET_USED, or (one worker) DECIDED / STATE_LIMIT, or a failure."""
        cdef int status
        with nogil:
            status = self.expand_nogil(budget)
        if status == CALLBACK_ERROR:
            exc, self.error = self.error, None
            raise exc
        return status

    cdef int expand_nogil(self, int64_t budget) noexcept nogil:
        cdef const uint8_t* s
        cdef int n, k, r
        cdef int64_t done = 0, parent
        cdef uint64_t rank
        cdef uint8_t* slot
        cdef uint64_t fp, key
        cdef int depth = self.depth + 1
        while done < budget:
            s = self.current.next()
            if s == NULL:
                return DISK_FULL if self.current.failed else LEVEL_DONE
            parent = (self.level_base + self.position) * self.workers + self.me
            rank = <uint64_t>(self.ranks[self.position] if self.workers > 1 else self.position)
            n = self.successors(s)
            if n < 0:
                return CALLBACK_ERROR if n == -2 else NO_MEMORY
            if n >= MAX_ACTIONS:
                return TOO_MANY_SUCCESSORS
            if self.workers > 1:
                if self.position >= self.nsucc_cap and self.grow_nsucc() < 0:
                    return NO_MEMORY
                self.nsucc[self.position] = n
            self.position += 1
            done += 1
            self.generated += n
            if self.check_steps(s, n, rank, parent, depth) < 0:
                return CALLBACK_ERROR
            if self.symmetric:
                for k in range(n):
                    self.canon.canonicalize(self.out + <size_t>k * self.state_size)
            if self.workers == 1:
                for k in range(n):
                    self.fps[k] = bftcheck_fingerprint(self.out + <size_t>k * self.state_size,
                                                       self.state_size)
                    self.seen.prefetch(self.fps[k])
            for k in range(n):
                if self.workers == 1:
                    r = self.add(self.out + <size_t>k * self.state_size, self.fps[k], parent, k,
                                 rank * MAX_ACTIONS + k, depth)
                    if r < 0:
                        return -r
                else:
                    fp = bftcheck_fingerprint(self.out + <size_t>k * self.state_size,
                                              self.state_size)
                    key = rank * MAX_ACTIONS + k
                    slot = (<Spool>self.boxes[owner(fp, self.workers)]).reserve()
                    if slot == NULL:
                        return DISK_FULL
                    memcpy(slot, &key, 8)
                    memcpy(slot + 8, &parent, 8)
                    memcpy(slot + 16, &fp, 8)
                    memcpy(slot + HEADER, self.out + <size_t>k * self.state_size,
                           self.state_size)
            if self.workers == 1:
                if self.max_states >= 0 and self.owned >= self.max_states:
                    return STATE_LIMIT
                if self.watch == 0:
                    return DECIDED
                if self.stop_at_first and self.found & self.always_mask:
                    return DECIDED
        return BUDGET_USED

    cdef int grow_nsucc(self) noexcept nogil:
        cdef int64_t cap = 2 * self.nsucc_cap if self.nsucc_cap else 4096
        cdef uint32_t* p = <uint32_t*>realloc(self.nsucc, cap * sizeof(uint32_t))
        if p == NULL:
            return -1
        self.nsucc = p
        self.nsucc_cap = cap
        return 0

    # -- several workers: merge what the owners received, in key order --------------
    def merge(self, list inboxes):
        """Insert the successors sent to this worker (one file per sender, each in
        key order) in global key order: the next level, its keys and the found
        state properties are those of the one-worker search."""
        cdef list spools = []
        cdef Spool sp
        cdef int i, m = len(inboxes), status
        cdef void** sources = <void**>calloc(max(m, 1), sizeof(void*))
        if sources == NULL:
            raise MemoryError()
        try:
            for path, count in inboxes:
                sp = Spool(HEADER + self.state_size, path, 1)
                sp.spilled = True
                sp.count = count
                spools.append(sp)
            for i in range(m):
                sources[i] = <void*>spools[i]
            with nogil:
                status = self.merge_nogil(sources, m)
        finally:
            free(sources)
        if status == CALLBACK_ERROR:
            exc, self.error = self.error, None
            raise exc
        return status

    cdef int merge_nogil(self, void** sources, int m) noexcept nogil:
        """The k-way merge by key, MERGE_BATCH records at a time: their table
        slots are prefetched together, then they are inserted in order."""
        cdef int record = HEADER + self.state_size, i, best, n, j, r, status
        cdef uint64_t key, bkey, fp
        cdef int64_t parent
        cdef const uint8_t** heads = <const uint8_t**>calloc(m, sizeof(uint8_t*))
        cdef uint8_t* batch = <uint8_t*>malloc(MERGE_BATCH * record)
        if heads == NULL or batch == NULL:
            free(heads)
            free(batch)
            return NO_MEMORY
        for i in range(m):
            heads[i] = (<Spool>sources[i]).next()
        status = LEVEL_DONE
        while status == LEVEL_DONE:
            n = 0
            while n < MERGE_BATCH:
                best = -1
                bkey = 0
                for i in range(m):
                    if heads[i] != NULL:
                        memcpy(&key, heads[i], 8)
                        if best < 0 or key < bkey:
                            best = i
                            bkey = key
                if best < 0:
                    break
                memcpy(batch + n * record, heads[best], record)
                memcpy(&fp, heads[best] + 16, 8)
                self.seen.prefetch(fp)
                n += 1
                heads[best] = (<Spool>sources[best]).next()
            if n == 0:
                break
            for j in range(n):
                memcpy(&key, batch + j * record, 8)
                memcpy(&parent, batch + j * record + 8, 8)
                memcpy(&fp, batch + j * record + 16, 8)
                r = self.add(batch + j * record + HEADER, fp, parent,
                             <uint32_t>(key % MAX_ACTIONS), key, self.depth + 1)
                if r < 0:
                    status = -r
                    break
                if r == 1 and self.push_key(key) < 0:
                    status = NO_MEMORY
                    break
        for i in range(m):
            if (<Spool>sources[i]).failed:
                status = DISK_FULL
        free(heads)
        free(batch)
        return status

    cdef int push_key(self, uint64_t key) noexcept nogil:
        cdef int64_t cap
        cdef int64_t* p
        if self.nkeys >= self.keys_cap:
            cap = 2 * self.keys_cap if self.keys_cap else 4096
            p = <int64_t*>realloc(self.keys, cap * sizeof(int64_t))
            if p == NULL:
                return -1
            self.keys = p
            self.keys_cap = cap
        self.keys[self.nkeys] = <int64_t>key
        self.nkeys += 1
        return 0

    def next_keys(self):
        """The keys of the next level's states, in their order (int64 bytes)."""
        return PyBytes_FromStringAndSize(<const char*>self.keys, self.nkeys * 8)

    def set_ranks(self, bytes ranks):
        """The global ranks of the current level's states (int64 bytes, in order)."""
        cdef int64_t n = PyBytes_GET_SIZE(ranks) // 8
        free(self.ranks)
        self.ranks = <int64_t*>malloc(max(n, 1) * 8)
        if self.ranks == NULL:
            raise MemoryError()
        memcpy(self.ranks, PyBytes_AS_STRING(ranks), n * 8)

    def expanded_upto(self, int64_t rank):
        """(successors made by the states of ranks <= rank, new states whose
        parent has rank <= rank): counts of a one-worker search stopped there."""
        cdef int64_t i, succ = 0, new = 0
        for i in range(self.position):
            if self.ranks[i] <= rank:
                succ += self.nsucc[i]
        for i in range(self.nkeys):
            if self.keys[i] // MAX_ACTIONS <= rank:
                new += 1
        return succ, new

    # -- checkpoints -----------------------------------------------------------------
    def rollback(self, int64_t generated):
        """Undo the current level's work: forget the states it added (the
        table, the parent log, the next level) and restart it from its first
        state, with `generated` successors counted before it."""
        import os
        cdef const uint8_t* rec
        if self.upcoming is not None:
            self.upcoming.seal()
            self.upcoming.rewind()
            while True:
                rec = self.upcoming.next()
                if rec == NULL:
                    break
                self.seen.remove(bftcheck_fingerprint(rec, self.state_size))
            if self.upcoming.failed:
                raise OSError(f"cannot read {self.upcoming.path}")
            path = self.upcoming.path
            self.upcoming = None
            if os.path.exists(path):
                os.remove(path)
        self.owned = self.next_base
        if self.parents != NULL:
            fflush(self.parents)
            fclose(self.parents)
            self.parents = NULL
        self.open_parents(self.owned)
        self.generated = generated
        self.position = 0
        self.nkeys = 0
        self.current.rewind()

    def restore(self, int64_t owned, int64_t level_base, int64_t generated, int depth,
                str level_path, int64_t level_count):
        """Continue from a checkpoint: the table is loaded, the parent log is cut
        to `owned` records, and the level to expand is the file `level_path`."""
        self.owned = owned
        self.next_base = level_base
        self.generated = generated
        self.depth = depth
        cdef Spool sp
        self.open_parents(owned)
        sp = Spool(self.state_size, level_path, self.share)
        sp.spilled = True
        sp.count = level_count
        self.upcoming = sp
        self.advance()
