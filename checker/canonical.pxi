# The canonical representative of a state's orbit under a model's symmetry
# group, in C: checker/symmetry.py says what the group is and why the reduction
# keeps every verdict; `python_canonical` there is the reference this must equal
# (tests/checker/test_symmetry.py). Included by _search_c.pyx.

cdef enum:
    GATHER_TABLE = 0xFFFF


cdef class Canonical:
    """The least image in byte order of a state under the group's elements."""

    cdef int size
    cdef int order               # elements other than the identity
    cdef uint16_t* src           # order * size: the input byte of each output byte
    cdef uint16_t* table         # order * size: its table, or GATHER_TABLE
    cdef uint8_t* tables         # ntables * 256
    cdef int32_t* gather         # order * size * 8 (byte, bit) pairs packed byte*8+bit, -1 none
    cdef uint8_t* best
    cdef uint8_t* image

    def __cinit__(self, int state_size, elements):
        cdef int e, i, b, t
        cdef dict ids = {}
        pool = []
        self.size = state_size
        self.order = len(elements)
        n = <size_t>max(self.order, 1) * state_size
        self.src = <uint16_t*>malloc(n * sizeof(uint16_t))
        self.table = <uint16_t*>malloc(n * sizeof(uint16_t))
        self.gather = <int32_t*>malloc(n * 8 * sizeof(int32_t))
        self.best = <uint8_t*>malloc(state_size)
        self.image = <uint8_t*>malloc(state_size)
        if not (self.src and self.table and self.gather and self.best and self.image):
            raise MemoryError()
        for e, g in enumerate(elements):
            if len(g.src) != state_size or len(g.table) != state_size:
                raise ValueError(f"a symmetry element maps {len(g.src)} bytes, the model's "
                                 f"states have {state_size}")
            for i in range(state_size):
                self.src[e * state_size + i] = g.src[i]
                t = g.table[i]
                if t == GATHER_TABLE:
                    self.table[e * state_size + i] = GATHER_TABLE
                    for b in range(8):
                        k, bit = g.gather[i][b]
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
        free(self.best)
        free(self.image)

    cdef inline uint8_t image_byte(self, const uint8_t* s, size_t at) noexcept nogil:
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

    cdef void canonicalize(self, uint8_t* s) noexcept nogil:
        """Replace s by the least of its images (itself included)."""
        cdef int e, i
        cdef size_t base
        cdef uint8_t byte
        cdef bint less
        cdef uint8_t* swap
        if self.order == 0:
            return
        memcpy(self.best, s, self.size)
        for e in range(self.order):
            base = <size_t>e * self.size
            less = False
            for i in range(self.size):
                byte = self.image_byte(s, base + i)
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

    def canonical(self, bytes state):
        """The representative of `state` (a new bytes object)."""
        if PyBytes_GET_SIZE(state) != self.size:
            raise ValueError(f"state has {len(state)} bytes, expected {self.size}")
        out = bytearray(state)
        cdef uint8_t* buf = out
        with nogil:
            self.canonicalize(buf)
        return bytes(out)
