/* Dropout masks from a counter-based generator: the C form of the
 * specification in fastmlp/_dropout.py, which states the formulas and why.
 * A mask element is a pure function of (seed, step, layer, index), so the
 * backward pass draws the forward mask again and any split of the work
 * gives the same bits. */
#ifndef FASTMLP_DROPOUT_H
#define FASTMLP_DROPOUT_H

#include <stddef.h>
#include <stdint.h>

#include "_vector.h"   /* FASTMLP_MULTIVERSION */

static inline uint64_t fastmlp_mix64(uint64_t z) {
    z = (z ^ (z >> 30)) * UINT64_C(0xBF58476D1CE4E5B9);
    z = (z ^ (z >> 27)) * UINT64_C(0x94D049BB133111EB);
    return z ^ (z >> 31);
}

static inline uint32_t fastmlp_dropout_key(uint64_t seed, uint64_t step, uint64_t layer) {
    const uint64_t golden = UINT64_C(0x9E3779B97F4A7C15);
    uint64_t z = fastmlp_mix64(seed + golden * (step + 1));
    z = fastmlp_mix64(z + golden * (layer + 1));
    return (uint32_t) (z >> 32);
}

static inline uint32_t fastmlp_dropout_hash(uint32_t key, uint32_t i) {
    uint32_t h = i * UINT32_C(0x9E3779B9) + key;
    h ^= h >> 16;
    h *= UINT32_C(0x85EBCA6B);
    h ^= h >> 13;
    h *= UINT32_C(0xC2B2AE35);
    h ^= h >> 16;
    return h;
}

/* out[i] = x[i] * scale where element lo + i is kept, else 0, for i < n
 * (out may be x). The hashes vectorize: 32-bit multiplies and shifts. */
#define FASTMLP_DROPOUT(NAME, T)                                              \
FASTMLP_MULTIVERSION                                                          \
static void NAME(const T *x, T *out, ptrdiff_t lo, ptrdiff_t n, uint32_t key, \
                 uint32_t threshold, double scale) {                         \
    const T s = (T) scale;                                                   \
    ptrdiff_t i;                                                             \
    for (i = 0; i < n; i++) {                                                \
        uint32_t h = fastmlp_dropout_hash(key, (uint32_t) (lo + i));         \
        out[i] = h >= threshold ? x[i] * s : (T) 0;                          \
    }                                                                        \
}

FASTMLP_DROPOUT(fastmlp_dropout_f32, float)
FASTMLP_DROPOUT(fastmlp_dropout_f64, double)

#endif
