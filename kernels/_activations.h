/* The activations' codes and names, and the loops of the activations
 * fastmlp adds to scikit-learn's (leaky_relu, elu, gelu, silu) with their
 * derivatives, in C because they need what Cython cannot say: vector
 * loops over libm's functions.
 *
 * Design: scikit-learn's activations (identity, logistic, tanh, relu, and
 * the outputs exp and softmax) are written in _activations.pxd and
 * _layers.pxd, where they follow NumPy's loops bit for bit. The added
 * ones have no NumPy counterpart to follow; their cost is libm's erfc, exp
 * and expm1 (scalar erfcf: ~10 ns an element, 1 ms for a 200 x 512 block,
 * as much as the layer's GEMM). glibc's libmvec has vector variants of
 * them (x86-64, glibc >= 2.35): declared `omp declare simd` below, the
 * loops call them 4, 8 or 16 lanes at a time (61 us for that block's gelu
 * with AVX-512). Where libmvec is absent (FASTMLP_LIBMVEC undefined, set by
 * setup.py) the same loops call scalar libm.
 *
 * Every element goes through the same (vector) function whatever its
 * position: the loops run in chunks of FASTMLP_CHUNK, the tail through a
 * padded chunk, so a pass split over threads writes the serial bits.
 *
 * Adding an activation touches this file only, of the kernels: its code
 * and name, whether it has a hidden-layer derivative, its formulas, and
 * its cases in the two run functions. fastmlp/_operations.py checks the
 * names and codes against its table when the kernels load. */
#ifndef FASTMLP_ACTIVATIONS_H
#define FASTMLP_ACTIVATIONS_H

#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "_vector.h"   /* FASTMLP_MULTIVERSION */

enum {
    ACT_IDENTITY = 0,
    ACT_LOGISTIC = 1,
    ACT_TANH = 2,
    ACT_RELU = 3,
    ACT_EXP = 4,
    ACT_SOFTMAX = 5,
    /* Hidden-only activations follow the output ones. */
    ACT_LEAKY_RELU = 6,
    ACT_ELU = 7,
    ACT_GELU = 8,
    ACT_SILU = 9,
};

/* Names by code (fastmlp/_operations.py's), and which codes have a
 * hidden-layer derivative. */
static const char *const FASTMLP_ACTIVATION_NAMES[] = {
    "identity", "logistic", "tanh", "relu", "exp", "softmax",
    "leaky_relu", "elu", "gelu", "silu", NULL};
static const int FASTMLP_HIDDEN_DERIVATIVE[] = {1, 1, 1, 1, 0, 0, 1, 1, 1, 1};

/* The vector variants under names of fastmlp's own, aliases of libm's
 * symbols: declaring libm's own names `declare simd` would also send
 * scikit-learn's logistic (scalar expf, bit for bit NumPy's) to libmvec. */
#if defined(FASTMLP_LIBMVEC)
#define FASTMLP_VECTOR_MATH(T, NAME, LIBM)                                    \
    _Pragma("omp declare simd notinbranch")                                   \
    extern T NAME(T) __asm__(#LIBM);
#else
#define FASTMLP_VECTOR_MATH(T, NAME, LIBM)                                    \
    static inline T NAME(T x) { return LIBM(x); }
#endif
FASTMLP_VECTOR_MATH(float, fastmlp_erfcf, erfcf)
FASTMLP_VECTOR_MATH(double, fastmlp_erfc, erfc)
FASTMLP_VECTOR_MATH(float, fastmlp_expf, expf)
FASTMLP_VECTOR_MATH(double, fastmlp_exp, exp)
FASTMLP_VECTOR_MATH(float, fastmlp_expm1f, expm1f)
FASTMLP_VECTOR_MATH(double, fastmlp_expm1, expm1)

#define FASTMLP_LEAKY_RELU_SLOPE 0.01      /* _operations.LEAKY_RELU_SLOPE */
#define FASTMLP_SQRT1_2 0.7071067811865476 /* 1 / sqrt(2) */
#define FASTMLP_INV_SQRT_2PI 0.3989422804014327 /* 1 / sqrt(2 pi) */

/* c ? a : b by bits. A plain ?: whose one arm calls libm lets the compiler
 * move the call into that arm, and a conditional call does not vectorize
 * (libmvec has no masked variants): elu took 8 us an element-block more
 * than gelu. The selects keep the calls unconditional. */
#define FASTMLP_SELECT(T, U, S)                                               \
static inline T fastmlp_select_##S(int c, T a, T b) {                         \
    U ua, ub, m = (U) 0 - (U) (c != 0);                                       \
    T r;                                                                      \
    memcpy(&ua, &a, sizeof ua);                                               \
    memcpy(&ub, &b, sizeof ub);                                               \
    ua = (ua & m) | (ub & ~m);                                                \
    memcpy(&r, &ua, sizeof r);                                                \
    return r;                                                                 \
}
FASTMLP_SELECT(float, uint32_t, f32)
FASTMLP_SELECT(double, uint64_t, f64)

/* The formulas, once per type (T, its libm suffix S), in the NumPy
 * reference's operation order (fastmlp/_operations.py). A derivative takes
 * what its table entry says: the output (leaky_relu) or the pre-activation
 * z (the others); it returns d act / dz, or delta times it. */
#define FASTMLP_FORMULAS(T, S)                                                \
static inline T fastmlp_leaky_relu_##S(T x) {                                 \
    return x > 0 ? x : (T) FASTMLP_LEAKY_RELU_SLOPE * x;                      \
}                                                                             \
static inline T fastmlp_leaky_relu_grad_##S(T out, T delta) {                 \
    /* the slope at z = 0 too, as PyTorch's; out's sign is z's */            \
    return out > 0 ? delta : delta * (T) FASTMLP_LEAKY_RELU_SLOPE;            \
}                                                                             \
static inline T fastmlp_elu_##S(T x) {                                        \
    T e = EXPM1_##S(x);   /* exact near 0 */                                  \
    return fastmlp_select_##S(x > 0, x, e);                                   \
}                                                                             \
static inline T fastmlp_elu_grad_##S(T z, T delta) {                          \
    /* exp(z) of a large z overflows to inf, unused */                      \
    T scaled = delta * EXP_##S(z);                                            \
    return fastmlp_select_##S(z > 0, delta, scaled);                          \
}                                                                             \
static inline T fastmlp_gelu_##S(T x) {                                       \
    /* x Phi(x), Phi from erfc: accurate in the left tail */                 \
    return x * ((T) 0.5 * ERFC_##S(-x * (T) FASTMLP_SQRT1_2));                \
}                                                                             \
static inline T fastmlp_gelu_grad_##S(T z, T delta) {                         \
    T pdf = EXP_##S(-(T) 0.5 * z * z) * (T) FASTMLP_INV_SQRT_2PI;             \
    return delta * ((T) 0.5 * ERFC_##S(-z * (T) FASTMLP_SQRT1_2) + z * pdf);  \
}                                                                             \
static inline T fastmlp_silu_##S(T x) {                                       \
    /* x sigmoid(x), scipy's expit formula: no overflow */                   \
    return x * ((T) 1 / ((T) 1 + EXP_##S(-x)));                               \
}                                                                             \
static inline T fastmlp_silu_grad_##S(T z, T delta) {                         \
    T s = (T) 1 / ((T) 1 + EXP_##S(-z));                                      \
    return delta * (s * ((T) 1 + z * ((T) 1 - s)));                           \
}

#define EXP_f32 fastmlp_expf
#define EXPM1_f32 fastmlp_expm1f
#define ERFC_f32 fastmlp_erfcf
#define EXP_f64 fastmlp_exp
#define EXPM1_f64 fastmlp_expm1
#define ERFC_f64 fastmlp_erfc
FASTMLP_FORMULAS(float, f32)
FASTMLP_FORMULAS(double, f64)

#define FASTMLP_CHUNK 16

/* z[i] = F(z[i]) for i < n, chunk by chunk. */
#define FASTMLP_MAP(T, F, z, n)                                               \
    do {                                                                      \
        ptrdiff_t i_ = 0, j_;                                                 \
        for (; i_ + FASTMLP_CHUNK <= (n); i_ += FASTMLP_CHUNK) {              \
            T *c_ = (z) + i_;                                                 \
            _Pragma("omp simd")                                               \
            for (j_ = 0; j_ < FASTMLP_CHUNK; j_++) c_[j_] = F(c_[j_]);        \
        }                                                                     \
        if (i_ < (n)) {                                                       \
            T c_[FASTMLP_CHUNK] = {0};                                        \
            memcpy(c_, (z) + i_, (size_t) ((n) - i_) * sizeof(T));            \
            _Pragma("omp simd")                                               \
            for (j_ = 0; j_ < FASTMLP_CHUNK; j_++) c_[j_] = F(c_[j_]);        \
            memcpy((z) + i_, c_, (size_t) ((n) - i_) * sizeof(T));            \
        }                                                                     \
    } while (0)

/* delta[i] = G(src[i], delta[i]) for i < n, chunk by chunk. */
#define FASTMLP_MAP2(T, G, src, delta, n)                                     \
    do {                                                                      \
        ptrdiff_t i_ = 0, j_;                                                 \
        for (; i_ + FASTMLP_CHUNK <= (n); i_ += FASTMLP_CHUNK) {              \
            const T *s_ = (src) + i_;                                         \
            T *d_ = (delta) + i_;                                             \
            _Pragma("omp simd")                                               \
            for (j_ = 0; j_ < FASTMLP_CHUNK; j_++) d_[j_] = G(s_[j_], d_[j_]); \
        }                                                                     \
        if (i_ < (n)) {                                                       \
            T s_[FASTMLP_CHUNK] = {0}, d_[FASTMLP_CHUNK] = {0};               \
            memcpy(s_, (src) + i_, (size_t) ((n) - i_) * sizeof(T));          \
            memcpy(d_, (delta) + i_, (size_t) ((n) - i_) * sizeof(T));        \
            _Pragma("omp simd")                                               \
            for (j_ = 0; j_ < FASTMLP_CHUNK; j_++) d_[j_] = G(s_[j_], d_[j_]); \
            memcpy((delta) + i_, d_, (size_t) ((n) - i_) * sizeof(T));        \
        }                                                                     \
    } while (0)

/* z = act(z) over a run of n entries, for the added activations' codes
 * (others leave z as is). */
#define FASTMLP_ACTIVATION_RUN(T, S)                                          \
FASTMLP_MULTIVERSION                                                          \
static void fastmlp_activation_run_##S(T *z, ptrdiff_t n, int code) {         \
    switch (code) {                                                           \
    case ACT_LEAKY_RELU: FASTMLP_MAP(T, fastmlp_leaky_relu_##S, z, n); break; \
    case ACT_ELU: FASTMLP_MAP(T, fastmlp_elu_##S, z, n); break;               \
    case ACT_GELU: FASTMLP_MAP(T, fastmlp_gelu_##S, z, n); break;             \
    case ACT_SILU: FASTMLP_MAP(T, fastmlp_silu_##S, z, n); break;             \
    }                                                                         \
}

/* delta *= act'(z) over a run of n entries, from src (the output or the
 * pre-activation, as the table says), for the added activations' codes. */
#define FASTMLP_DERIVATIVE_RUN(T, S)                                          \
FASTMLP_MULTIVERSION                                                          \
static void fastmlp_derivative_run_##S(const T *src, T *delta, ptrdiff_t n,   \
                                       int code) {                           \
    switch (code) {                                                           \
    case ACT_LEAKY_RELU:                                                      \
        FASTMLP_MAP2(T, fastmlp_leaky_relu_grad_##S, src, delta, n); break;   \
    case ACT_ELU: FASTMLP_MAP2(T, fastmlp_elu_grad_##S, src, delta, n); break; \
    case ACT_GELU:                                                            \
        FASTMLP_MAP2(T, fastmlp_gelu_grad_##S, src, delta, n); break;         \
    case ACT_SILU:                                                            \
        FASTMLP_MAP2(T, fastmlp_silu_grad_##S, src, delta, n); break;         \
    }                                                                         \
}

FASTMLP_ACTIVATION_RUN(float, f32)
FASTMLP_ACTIVATION_RUN(double, f64)
FASTMLP_DERIVATIVE_RUN(float, f32)
FASTMLP_DERIVATIVE_RUN(double, f64)

/* Two passes of scikit-learn's own activations as vector loops, compiled
 * per vector unit: the portable build's SSE2 takes 2 doubles (4 floats) an
 * instruction, and at a small network's sizes these passes cost as much as
 * its GEMMs (32 x 32 float64: 0.4 us each). The expressions are
 * _activations.pxd's, one IEEE operation at a time (no contraction), so
 * every width gives their bits.
 *
 * z = relu(z + b) over an n_rows x n_cols block (relu: 0 where x <= 0, so
 * -0 becomes +0 and a NaN passes, as np.maximum(x, 0)). */
#define FASTMLP_BIAS_RELU(T, S)                                               \
FASTMLP_MULTIVERSION                                                          \
static void fastmlp_bias_relu_##S(T *z, const T *b, ptrdiff_t n_rows,         \
                                  ptrdiff_t n_cols) {                         \
    ptrdiff_t i, j;                                                           \
    for (i = 0; i < n_rows; i++) {                                            \
        T *restrict row = z + i * n_cols;                                     \
        const T *restrict bias = b;                                           \
        for (j = 0; j < n_cols; j++) {                                        \
            const T x = row[j] + bias[j];                                     \
            row[j] = x <= 0 ? (T) 0 : x;                                      \
        }                                                                     \
    }                                                                         \
}

/* Columns [lo, hi) of an n_rows x n_cols delta: delta *= act'(z) from the
 * output a (times_derivative's expressions: relu keeps delta where a != 0,
 * tanh delta * (1 - a * a), logistic (delta * a) * (1 - a), identity as
 * is), then sums[j] = the column's sum, rows added in order onto 0 (NumPy's
 * order for several columns). */
/* One loop of it: x = EXPR for j in [lo, hi), stored and summed. */
#define FASTMLP_TIMES_SUM(T, EXPR)                                              \
    for (j = lo; j < hi; j++) {                                               \
        const T x = (EXPR);                                                   \
        dr[j] = x;                                                            \
        total[j] += x;                                                        \
    }

#define FASTMLP_DERIVATIVE_SUMS(T, S)                                         \
FASTMLP_MULTIVERSION                                                          \
static void fastmlp_derivative_sums_##S(const T *a, T *delta, ptrdiff_t n_rows, \
                                        ptrdiff_t n_cols, ptrdiff_t lo,       \
                                        ptrdiff_t hi, int code, T *sums) {    \
    const T one = 1, zero = 0;                                                \
    ptrdiff_t i, j;                                                           \
    for (j = lo; j < hi; j++) sums[j] = zero;                                 \
    for (i = 0; i < n_rows; i++) {                                            \
        const T *restrict ar = a + i * n_cols;                                \
        T *restrict dr = delta + i * n_cols;                                  \
        T *restrict total = sums;                                             \
        switch (code) {                                                       \
        case ACT_RELU: FASTMLP_TIMES_SUM(T, ar[j] != 0 ? dr[j] : zero); break; \
        case ACT_TANH: FASTMLP_TIMES_SUM(T, dr[j] * (one - ar[j] * ar[j])); break; \
        case ACT_LOGISTIC:                                                    \
            FASTMLP_TIMES_SUM(T, dr[j] * ar[j] * (one - ar[j])); break;       \
        default: FASTMLP_TIMES_SUM(T, dr[j]);                                 \
        }                                                                     \
    }                                                                         \
}

FASTMLP_BIAS_RELU(float, f32)
FASTMLP_BIAS_RELU(double, f64)
FASTMLP_DERIVATIVE_SUMS(float, f32)
FASTMLP_DERIVATIVE_SUMS(double, f64)

#endif
