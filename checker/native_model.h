/* The C seam between a protocol model and the compiled search engine.
 *
 * A model that has its successors and its predicates in C gives the engine a
 * PyCapsule named BFTCHECK_NATIVE_CAPSULE holding a pointer to this struct
 * (the model's `native` capability, checker/interface.py). The engine then runs
 * pop -> successors -> fingerprint -> insert -> predicates in C with the GIL
 * released and makes no Python object per state. Every function must give
 * exactly what the model's Python rules give: the same successors in the same
 * order, the same predicate values (tests compare them state by state).
 */
#ifndef BFTCHECK_NATIVE_MODEL_H
#define BFTCHECK_NATIVE_MODEL_H

#include <stdint.h>

#define BFTCHECK_NATIVE_CAPSULE "bftcheck.native_model"
#define BFTCHECK_NATIVE_VERSION 1

typedef struct bftcheck_native_model {
    int version;      /* BFTCHECK_NATIVE_VERSION */
    void *ctx;        /* passed back to every function; owned by the capsule's object */
    int state_size;   /* bytes of every encoded state */
    /* Write the successors of `state` (state_size bytes each) to `out` and their
     * action kinds to `actions`, at most `capacity` of them; return how many
     * there are. A return above `capacity` means the buffers were too small:
     * the caller retries with at least that many. Never fails otherwise. */
    int (*successors)(void *ctx, const uint8_t *state, uint8_t *out, uint16_t *actions,
                      int capacity);
    /* Bit i set: state predicate i holds on `state` (only the bits of `wanted`
     * need be computed). */
    uint64_t (*state_predicates)(void *ctx, const uint8_t *state, uint64_t wanted);
    /* Bit i set: step predicate i holds on the step `before` -action-> `after`. */
    uint64_t (*step_predicates)(void *ctx, const uint8_t *before, int action,
                                const uint8_t *after, uint64_t wanted);
} bftcheck_native_model;

#endif
