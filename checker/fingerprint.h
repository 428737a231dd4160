/* The 64-bit fingerprint of an encoded state, shared by the exploration cores:
 * splitmix64 over the state's little-endian 8-byte words. Never 0 (0 marks an
 * empty slot). checker/_core_py.py is its readable reference. */
#ifndef BFTCHECK_FINGERPRINT_H
#define BFTCHECK_FINGERPRINT_H

#include <stddef.h>
#include <stdint.h>

static inline uint64_t bftcheck_mix(uint64_t x) {
    x ^= x >> 30;
    x *= 0xBF58476D1CE4E5B9ULL;
    x ^= x >> 27;
    x *= 0x94D049BB133111EBULL;
    return x ^ (x >> 31);
}

static inline uint64_t bftcheck_fingerprint(const uint8_t *data, size_t n) {
    uint64_t h = 0x9E3779B97F4A7C15ULL ^ (uint64_t)n;
    for (size_t i = 0; i < n; i += 8) {
        uint64_t w = 0;
        for (size_t j = 0; j < 8 && i + j < n; j++)
            w |= (uint64_t)data[i + j] << (8 * j);
        h = bftcheck_mix(h ^ w);
    }
    h = bftcheck_mix(h);
    return h ? h : 1;
}

#endif
