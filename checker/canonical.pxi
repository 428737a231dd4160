# The canonical representative of a state's orbit under a model's symmetry
# group, in C: checker/symmetry.py says what the group is and why the reduction
# keeps every verdict; `python_canonical` there is the reference this must equal
# (tests/model/test_symmetry.py). Included by _search_c.pyx.

cdef enum:
    GATHER_TABLE = 0xFFFF


cdef class ByteMaps:
    """Group elements (checker/symmetry.BytePermutation) as C arrays."""

    cdef int size
    cdef int count
    cdef uint16_t* src           # count * size: the input byte of each output byte
    cdef uint16_t* table         # count * size: its table, or GATHER_TABLE
    cdef uint8_t* tables         # ntables * 256
    cdef int32_t* gather         # count * size * 8: input byte * 8 + bit, or -1

    def __cinit__(self, int state_size, elements):
        cdef int e, i, b, t
        cdef dict ids = {}
        pool = []
        self.size = state_size
        self.count = len(elements)
        n = <size_t>max(self.count, 1) * state_size
        self.src = <uint16_t*>malloc(n * sizeof(uint16_t))
        self.table = <uint16_t*>malloc(n * sizeof(uint16_t))
        self.gather = <int32_t*>malloc(n * 8 * sizeof(int32_t))
        if not (self.src and self.table and self.gather):
            raise MemoryError()
        for e, g in enumerate(elements):
            if len(g.src) != state_size or len(g.table) != state_size:
                raise ValueError(f"a symmetry element maps {len(g.src)} bytes, the model's "
                                 f"states have {state_size}")
            for i in range(state_size):
                if not 0 <= g.src[i] < state_size:
                    raise ValueError(f"a symmetry element reads byte {g.src[i]}, outside the "
                                     f"state's {state_size}")
                self.src[e * state_size + i] = g.src[i]
                t = g.table[i]
                if t == GATHER_TABLE:
                    self.table[e * state_size + i] = GATHER_TABLE
                    for b in range(8):
                        k, bit = g.gather[i][b]
                        if k >= state_size or not 0 <= bit < 8:
                            raise ValueError(f"a symmetry element gathers bit {bit} of byte "
                                             f"{k}, outside the state")
                        self.gather[(e * state_size + i) * 8 + b] = k * 8 + bit if k >= 0 else -1
                    continue
                key = g.tables[t]
                if key not in ids:
                    if len(key) != 256:
                        raise ValueError("a symmetry table must have 256 entries")
                    ids[key] = len(pool)
                    pool.append(key)
                self.table[e * state_size + i] = ids[key]
        if len(pool) >= GATHER_TABLE:
            raise ValueError("too many distinct symmetry tables")
        self.tables = <uint8_t*>malloc(max(len(pool), 1) * 256)
        if not self.tables:
            raise MemoryError()
        for t, key in enumerate(pool):
            memcpy(self.tables + t * 256, PyBytes_AS_STRING(key), 256)

    def __dealloc__(self):
        free(self.src)
        free(self.table)
        free(self.tables)
        free(self.gather)

    cdef inline uint8_t image_byte(self, const uint8_t* s, size_t at) noexcept nogil:
        """Byte `at` of the images (element at // size, byte at % size)."""
        cdef int b, k
        cdef uint8_t out = 0
        cdef uint16_t t = self.table[at]
        if t != GATHER_TABLE:
            return self.tables[<size_t>t * 256 + s[self.src[at]]]
        for b in range(8):
            k = self.gather[at * 8 + b]
            if k >= 0 and (s[k >> 3] >> (k & 7)) & 1:
                out |= <uint8_t>(1 << b)
        return out

    cdef void image(self, int e, const uint8_t* s, uint8_t* out) noexcept nogil:
        cdef int i
        cdef size_t base = <size_t>e * self.size
        for i in range(self.size):
            out[i] = self.image_byte(s, base + i)


cdef class Canonical:
    """The least image in byte order of a state under the group's elements:
    by trying every element, or, for a group given as renamings times record
    orders (checker/symmetry.Records), by renaming and sorting the records."""

    cdef int size
    cdef ByteMaps all            # every element but the identity
    cdef ByteMaps renamings      # with records: the renamings but the identity
    cdef bint sorted_records
    cdef int nclasses
    cdef int* members            # per class: how many members
    cdef int* reclen             # per class: bytes per member
    cdef int* first              # per class: where its offsets start in `offsets`
    cdef int* offsets            # member-major, then byte
    cdef int* order              # scratch: members in sorted order
    cdef uint8_t* records        # scratch: a class's records, gathered
    cdef uint8_t* best
    cdef uint8_t* image

    def __cinit__(self, int state_size, elements, records=None):
        cdef int c, m, j, at = 0, widest = 1, most = 1
        self.size = state_size
        self.best = <uint8_t*>malloc(state_size)
        self.image = <uint8_t*>malloc(state_size)
        if not (self.best and self.image):
            raise MemoryError()
        if records is None:  # the records make the elements' maps unneeded
            self.all = ByteMaps(state_size, elements)
            return
        self.sorted_records = True
        self.renamings = ByteMaps(state_size, records.renamings)
        self.nclasses = len(records.classes)
        total = sum(len(member) for c_ in records.classes for member in c_)
        self.members = <int*>malloc(max(self.nclasses, 1) * sizeof(int))
        self.reclen = <int*>malloc(max(self.nclasses, 1) * sizeof(int))
        self.first = <int*>malloc(max(self.nclasses, 1) * sizeof(int))
        self.offsets = <int*>malloc(max(total, 1) * sizeof(int))
        if not (self.members and self.reclen and self.first and self.offsets):
            raise MemoryError()
        for c, cls in enumerate(records.classes):
            self.members[c] = len(cls)
            self.reclen[c] = len(cls[0])
            self.first[c] = at
            if any(len(member) != len(cls[0]) for member in cls):
                raise ValueError("the members of a record class must have equally many bytes")
            widest = max(widest, len(cls[0]))
            most = max(most, len(cls))
            for m, member in enumerate(cls):
                for j, offset in enumerate(member):
                    if not 0 <= offset < state_size:
                        raise ValueError(f"a record offset {offset} is outside the state")
                    self.offsets[at] = offset
                    at += 1
        self.order = <int*>malloc(most * sizeof(int))
        self.records = <uint8_t*>malloc(<size_t>most * widest)
        if not (self.order and self.records):
            raise MemoryError()

    def __dealloc__(self):
        free(self.best)
        free(self.image)
        free(self.members)
        free(self.reclen)
        free(self.first)
        free(self.offsets)
        free(self.order)
        free(self.records)

    cdef void canonicalize(self, uint8_t* s) noexcept nogil:
        """Replace s by the least of its images (itself included)."""
        if self.sorted_records:
            self.by_records(s)
        elif self.all.count:
            self.by_elements(s)

    cdef void by_elements(self, uint8_t* s) noexcept nogil:
        cdef int e, i
        cdef size_t base
        cdef uint8_t byte
        cdef bint less
        cdef uint8_t* swap
        memcpy(self.best, s, self.size)
        for e in range(self.all.count):
            base = <size_t>e * self.size
            less = False
            for i in range(self.size):
                byte = self.all.image_byte(s, base + i)
                if not less:
                    if byte > self.best[i]:
                        break
                    if byte < self.best[i]:
                        less = True
                self.image[i] = byte
            else:
                if less:
                    swap = self.best
                    self.best = self.image
                    self.image = swap
        memcpy(s, self.best, self.size)

    cdef void by_records(self, uint8_t* s) noexcept nogil:
        cdef int e
        memcpy(self.best, s, self.size)
        self.sort_records(self.best)
        for e in range(self.renamings.count):
            self.renamings.image(e, s, self.image)
            self.sort_records(self.image)
            if memcmp(self.image, self.best, self.size) < 0:
                memcpy(self.best, self.image, self.size)
        memcpy(s, self.best, self.size)

    cdef void sort_records(self, uint8_t* s) noexcept nogil:
        """Reorder each class's members by their bytes (insertion sort: a
        class has a handful of members)."""
        cdef int c, m, k, j, len_, a
        cdef int* off
        for c in range(self.nclasses):
            len_ = self.reclen[c]
            off = self.offsets + self.first[c]
            for m in range(self.members[c]):
                for j in range(len_):
                    self.records[m * len_ + j] = s[off[m * len_ + j]]
                k = m
                while k > 0 and memcmp(self.records + <size_t>self.order[k - 1] * len_,
                                       self.records + <size_t>m * len_, len_) > 0:
                    self.order[k] = self.order[k - 1]
                    k -= 1
                self.order[k] = m
            for m in range(self.members[c]):
                a = self.order[m]
                for j in range(len_):
                    s[off[m * len_ + j]] = self.records[a * len_ + j]

    def canonical(self, bytes state):
        """The representative of `state` (a new bytes object)."""
        if PyBytes_GET_SIZE(state) != self.size:
            raise ValueError(f"state has {len(state)} bytes, expected {self.size}")
        out = bytearray(state)
        cdef uint8_t* buf = out
        with nogil:
            self.canonicalize(buf)
        return bytes(out)
