# Cython's view of checker/native_model.h, included (`include "native_model.pxi"`)
# by the engine and by every model that provides the native entry.
from libc.stdint cimport uint8_t, uint16_t, uint64_t

cdef extern from "native_model.h":
    const char* BFTCHECK_NATIVE_CAPSULE
    int BFTCHECK_NATIVE_VERSION
    ctypedef struct bftcheck_native_model:
        int version
        void* ctx
        int state_size
        int (*successors)(void*, const uint8_t*, uint8_t*, uint16_t*, int) noexcept nogil
        uint64_t (*state_predicates)(void*, const uint8_t*, uint64_t) noexcept nogil
        uint64_t (*step_predicates)(void*, const uint8_t*, int, const uint8_t*,
                                    uint64_t) noexcept nogil
