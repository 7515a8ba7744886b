/* The flat-buffer loops of the training kernels, in C because they need
 * what Cython cannot say: a per-function target list and a per-loop
 * reduction pragma.
 *
 * Design: the optimizer steps and the L2 sum are one pass each over the
 * whole flat parameter buffer, every minibatch; with the portable x86-64
 * baseline (SSE2) their divisions and square roots run 2 or 4 lanes wide.
 * Each function is compiled once per vector unit and chosen at load time
 * (measured, 80k parameters: Adam float32 77 -> 36 us, float64 234 -> 158
 * us). The arithmetic is IEEE-exact at every width, and -ffp-contract=off
 * (set for the module that includes this) keeps multiplies and adds
 * unfused, so every clone gives the NumPy reference's bits.
 *
 * Sums: a plain running sum is a chain of dependent additions that the
 * compiler may not reorder (that would change the rounding), so it runs one
 * addition per add latency. `omp simd reduction` allows the reordering for
 * that one loop only; it needs -fopenmp-simd and no OpenMP runtime.
 */
#ifndef FASTMLP_VECTOR_H
#define FASTMLP_VECTOR_H

#include <float.h>
#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "_multiversion.h"

/* Sum of squares in double; a float32 entry's square is exact in double.
 * (float64 takes NumPy's np.dot instead: see _l2_sum in _train.pyx.) */
FASTMLP_MULTIVERSION
static double fastmlp_sum_squares_f32(const float *x, ptrdiff_t n) {
    double total = 0.0;
    ptrdiff_t i;
#pragma omp simd reduction(+:total)
    for (i = 0; i < n; i++) {
        total += (double) x[i] * (double) x[i];
    }
    return total;
}

/* The float32 L2 sum of a network's coefficients, in chunks: the chunks'
 * sums (each in the order of fastmlp_sum_squares_f32), added in order. The
 * chunk length depends on n alone, so the optimizer step, which sums the
 * chunks of its own part of the coefficients while they are in its core's
 * cache (_flat_step_part in _train_passes.pxi), gives the same bits as
 * this serial sum whatever the thread count. At most FASTMLP_L2_MAX_CHUNKS
 * chunks, of at least FASTMLP_L2_CHUNK_MIN entries (one chunk, the plain
 * sum, for small networks), whole cache lines each. */
#define FASTMLP_L2_CHUNK_MIN 4096
#define FASTMLP_L2_MAX_CHUNKS 64

static inline ptrdiff_t fastmlp_l2_chunk(ptrdiff_t n) {
    ptrdiff_t chunk = (n + FASTMLP_L2_MAX_CHUNKS - 1) / FASTMLP_L2_MAX_CHUNKS;
    chunk = (chunk + 15) / 16 * 16;
    return chunk < FASTMLP_L2_CHUNK_MIN ? FASTMLP_L2_CHUNK_MIN : chunk;
}

static double fastmlp_sum_squares_chunked_f32(const float *x, ptrdiff_t n) {
    const ptrdiff_t chunk = fastmlp_l2_chunk(n);
    double total = 0.0;
    ptrdiff_t lo;
    for (lo = 0; lo < n; lo += chunk) {
        total += fastmlp_sum_squares_f32(x + lo, n - lo < chunk ? n - lo : chunk);
    }
    return total;
}

/* The natural logarithm of a positive normal double (no zero, infinity,
 * NaN or subnormal), within 2 ulp of the correctly rounded log (measured
 * on 13 million arguments across the range), in arithmetic that vectorizes;
 * libm's log, one call per element, is what float64 losses take for
 * scikit-learn's bits.
 *
 * x = 2^k m with m in [sqrt(1/2), sqrt(2)): k from x's bits less those of
 * sqrt(1/2), then m = x / 2^k exactly. With f = m - 1 (exact) and
 * s = f / (2 + f), log(m) = 2 atanh(s) = 2 (s + s^3/3 + s^5/5 + ...): |s| <=
 * 0.1716, so the terms up to s^21 leave a relative truncation of ~1e-18.
 * log(x) = k ln2 + log(m), with ln2 split in a high part whose products by
 * k are exact and a low part. */
static inline double fastmlp_log_positive(double x) {
    const uint64_t sqrt_half = 0x3FE6A09E667F3BCDull;   /* sqrt(1/2) */
    const double ln2_hi = 6.93147180369123816490e-01;   /* 32 bits */
    const double ln2_lo = 1.90821492927058770002e-10;
    union { double d; uint64_t u; } v;
    double f, s, z, series, k;
    int64_t kk;
    v.d = x;
    /* (bits - sqrt_half) >> 52 is k, taken on a biased copy so that the
     * shift is a logical one. */
    kk = (int64_t) ((v.u - sqrt_half + (1023ull << 52)) >> 52) - 1023;
    v.u -= (uint64_t) kk << 52;
    k = (double) (int32_t) kk;
    f = v.d - 1.0;
    s = f / (2.0 + f);
    z = s * s;
    series = 2.0 / 21;
    series = series * z + 2.0 / 19;
    series = series * z + 2.0 / 17;
    series = series * z + 2.0 / 15;
    series = series * z + 2.0 / 13;
    series = series * z + 2.0 / 11;
    series = series * z + 2.0 / 9;
    series = series * z + 2.0 / 7;
    series = series * z + 2.0 / 5;
    series = series * z + 2.0 / 3;
    /* log(m) = 2s + s z series: the small correction added last. */
    return k * ln2_hi + ((2.0 * s + (s * z) * series) + k * ln2_lo);
}

/* out[i] = log(clip(p[i], eps, 1 - eps)) in double, eps float32's epsilon
 * (the clip in float32, as the log losses clip a float32 model's outputs),
 * NaN where p[i] is NaN. Two loops over blocks of 64, each of which GCC
 * vectorizes (written as one, its selects kept branches). */
FASTMLP_MULTIVERSION
static void fastmlp_clipped_logs_f32(const float *p, double *out, ptrdiff_t n) {
    const float lo = FLT_EPSILON, hi = 1.0f - FLT_EPSILON;
    float clipped[64];
    ptrdiff_t start, i, m;
    for (start = 0; start < n; start += 64) {
        m = n - start < 64 ? n - start : 64;
        for (i = 0; i < m; i++) {
            float c = p[start + i] < lo ? lo : p[start + i];
            clipped[i] = c > hi ? hi : c;
        }
        /* c - c is +0 (exact to add: a log here is never -0) or, for a
         * NaN, NaN, which replaces the number its bits made. */
        for (i = 0; i < m; i++) {
            out[start + i] = fastmlp_log_positive(clipped[i])
                             + (double) (clipped[i] - clipped[i]);
        }
    }
}

/* The optimizer steps over the flat buffer, one per optimizer of
 * fastmlp/_optimizers.py, and fastmlp_flat_step_*, which picks one by its
 * code: its index in FASTMLP_STEP_NAMES. The incoming gradient is raw: for the
 * first n_coef entries (coefficients) g = (grad + alpha * param) / sw_sum,
 * for the rest (intercepts) g = grad / sw_sum; a division, as the reference
 * divides. Scalars arrive as double and are cast once to the buffer's type,
 * as NumPy casts Python floats against an array; 1 - beta is formed in
 * double first, as in the reference. Operation order (fastmlp._optimizers):
 *   Adam: m = m * b1 + (1 - b1) * g; v = v * b2 + (1 - b2) * (g * g);
 *         param += (-lr_t * m) / (sqrt(v) + eps)
 *   SGD:  scaled = lr * g; velocity = velocity * mu - scaled;
 *         param += mu * velocity - scaled (Nesterov) or velocity */
/* Whether x is 2^k, with 2^-k a normal number of float32 (dividing by it
 * and multiplying by its reciprocal then give the same bits). */
static inline int fastmlp_power_of_two(double x) {
    int exponent;
    return frexp(x, &exponent) == 0.5 && exponent >= -120 && exponent <= 120;
}

#define FASTMLP_ADAM_STEP(NAME, T, SQRT)                                      \
FASTMLP_MULTIVERSION                                                          \
static void NAME(T *params, const T *grad, T *m, T *v, ptrdiff_t n_params,   \
                 ptrdiff_t n_coef, double alpha, double sw_sum, double lr_t, \
                 double beta_1, double beta_2, double epsilon) {             \
    const T s = (T) sw_sum, a = (T) alpha, neg_lr = (T) (-lr_t);             \
    const T b1 = (T) beta_1, c1 = (T) (1 - beta_1);                          \
    const T b2 = (T) beta_2, c2 = (T) (1 - beta_2), eps = (T) epsilon;       \
    ptrdiff_t i;                                                             \
    if (fastmlp_power_of_two(sw_sum)) {                                      \
        /* x / s and x * (1 / s) round the same exact value: same bits. */   \
        const T r = (T) (1.0 / sw_sum);                                      \
        for (i = 0; i < n_params; i++) {                                     \
            T g = i < n_coef ? (grad[i] + a * params[i]) * r : grad[i] * r;  \
            m[i] = m[i] * b1 + c1 * g;                                       \
            v[i] = v[i] * b2 + c2 * (g * g);                                 \
            params[i] += neg_lr * m[i] / (SQRT(v[i]) + eps);                 \
        }                                                                    \
        return;                                                              \
    }                                                                        \
    for (i = 0; i < n_params; i++) {                                         \
        T g = i < n_coef ? (grad[i] + a * params[i]) / s : grad[i] / s;      \
        m[i] = m[i] * b1 + c1 * g;                                           \
        v[i] = v[i] * b2 + c2 * (g * g);                                     \
        params[i] += neg_lr * m[i] / (SQRT(v[i]) + eps);                     \
    }                                                                        \
}

#define FASTMLP_SGD_STEP(NAME, T)                                             \
FASTMLP_MULTIVERSION                                                          \
static void NAME(T *params, const T *grad, T *velocity, ptrdiff_t n_params,  \
                 ptrdiff_t n_coef, double alpha, double sw_sum, double lr,   \
                 double momentum, int nesterov) {                            \
    const T s = (T) sw_sum, a = (T) alpha, rate = (T) lr, mu = (T) momentum; \
    ptrdiff_t i;                                                             \
    for (i = 0; i < n_params; i++) {                                         \
        T g = i < n_coef ? (grad[i] + a * params[i]) / s : grad[i] / s;      \
        T scaled = rate * g;                                                 \
        velocity[i] = velocity[i] * mu - scaled;                             \
        params[i] += nesterov ? mu * velocity[i] - scaled : velocity[i];     \
    }                                                                        \
}

/*   RMSprop: v = v * rho + (1 - rho) * (g * g);
 *         param += (-lr * g) / (sqrt(v) + eps) */
#define FASTMLP_RMSPROP_STEP(NAME, T, SQRT)                                   \
FASTMLP_MULTIVERSION                                                          \
static void NAME(T *params, const T *grad, T *v, ptrdiff_t n_params,         \
                 ptrdiff_t n_coef, double alpha, double sw_sum, double lr,   \
                 double rho, double epsilon) {                               \
    const T s = (T) sw_sum, a = (T) alpha, neg_lr = (T) (-lr);               \
    const T r = (T) rho, c = (T) (1 - rho), eps = (T) epsilon;               \
    ptrdiff_t i;                                                             \
    for (i = 0; i < n_params; i++) {                                         \
        T g = i < n_coef ? (grad[i] + a * params[i]) / s : grad[i] / s;      \
        v[i] = v[i] * r + c * (g * g);                                       \
        params[i] += neg_lr * g / (SQRT(v[i]) + eps);                        \
    }                                                                        \
}

/*   AdamW: Adam's step, after param -= decay * param on the coefficients
 *          (decay = lr * weight_decay), g taken from the undecayed param */
#define FASTMLP_ADAMW_STEP(NAME, T, SQRT)                                     \
FASTMLP_MULTIVERSION                                                          \
static void NAME(T *params, const T *grad, T *m, T *v, ptrdiff_t n_params,   \
                 ptrdiff_t n_coef, double alpha, double sw_sum, double lr_t, \
                 double beta_1, double beta_2, double epsilon,               \
                 double decay) {                                             \
    const T s = (T) sw_sum, a = (T) alpha, neg_lr = (T) (-lr_t);             \
    const T b1 = (T) beta_1, c1 = (T) (1 - beta_1);                          \
    const T b2 = (T) beta_2, c2 = (T) (1 - beta_2), eps = (T) epsilon;       \
    const T d = (T) decay;                                                   \
    ptrdiff_t i;                                                             \
    for (i = 0; i < n_params; i++) {                                         \
        T p = params[i], g;                                                  \
        if (i < n_coef) {                                                    \
            g = (grad[i] + a * p) / s;                                       \
            p -= d * p;                                                      \
        } else {                                                             \
            g = grad[i] / s;                                                 \
        }                                                                    \
        m[i] = m[i] * b1 + c1 * g;                                           \
        v[i] = v[i] * b2 + c2 * (g * g);                                     \
        params[i] = p + neg_lr * m[i] / (SQRT(v[i]) + eps);                  \
    }                                                                        \
}

FASTMLP_ADAM_STEP(fastmlp_adam_step_f32, float, sqrtf)
FASTMLP_ADAM_STEP(fastmlp_adam_step_f64, double, sqrt)
FASTMLP_SGD_STEP(fastmlp_sgd_step_f32, float)
FASTMLP_SGD_STEP(fastmlp_sgd_step_f64, double)
FASTMLP_RMSPROP_STEP(fastmlp_rmsprop_step_f32, float, sqrtf)
FASTMLP_RMSPROP_STEP(fastmlp_rmsprop_step_f64, double, sqrt)
FASTMLP_ADAMW_STEP(fastmlp_adamw_step_f32, float, sqrtf)
FASTMLP_ADAMW_STEP(fastmlp_adamw_step_f64, double, sqrt)

/* The optimizers' names by code, as fastmlp/_optimizers.py knows them, and
 * the step of a code; `hyper` holds the optimizer's scalars in the order of
 * its hyperparameters() (Adam: beta_1, beta_2, epsilon; SGD: momentum,
 * nesterov; RMSprop: rho, epsilon; AdamW: Adam's, then the decay),
 * `rate` the step's rate (step_rate). An unknown code does
 * nothing: the tables are checked when the kernels load, and the shims
 * refuse such a code. */
static const char *const FASTMLP_STEP_NAMES[] = {"adam", "sgd", "rmsprop", "adamw",
                                                 NULL};
/* How many scalars each code reads from `hyper`. */
static const int FASTMLP_STEP_N_HYPER[] = {3, 2, 2, 4};

#define FASTMLP_FLAT_STEP(NAME, T, SUFFIX)                                    \
static void NAME(int code, T *params, const T *grad, T *a, T *b,             \
                 ptrdiff_t n_params, ptrdiff_t n_coef, double alpha,         \
                 double sw_sum, double rate, const double *hyper) {          \
    switch (code) {                                                          \
    case 0:                                                                  \
        fastmlp_adam_step_##SUFFIX(params, grad, a, b, n_params, n_coef,     \
                                   alpha, sw_sum, rate, hyper[0], hyper[1],  \
                                   hyper[2]);                                \
        break;                                                               \
    case 1:                                                                  \
        fastmlp_sgd_step_##SUFFIX(params, grad, a, n_params, n_coef, alpha,  \
                                  sw_sum, rate, hyper[0], hyper[1] != 0);    \
        break;                                                               \
    case 2:                                                                  \
        fastmlp_rmsprop_step_##SUFFIX(params, grad, b, n_params, n_coef,     \
                                      alpha, sw_sum, rate, hyper[0],         \
                                      hyper[1]);                             \
        break;                                                               \
    case 3:                                                                  \
        fastmlp_adamw_step_##SUFFIX(params, grad, a, b, n_params, n_coef,    \
                                    alpha, sw_sum, rate, hyper[0], hyper[1], \
                                    hyper[2], hyper[3]);                     \
        break;                                                               \
    }                                                                        \
}

FASTMLP_FLAT_STEP(fastmlp_flat_step_f32, float, f32)
FASTMLP_FLAT_STEP(fastmlp_flat_step_f64, double, f64)

/* dst (cols x rows) = src (rows x cols) transposed, row-major float32: a
 * layer's weights for the backward pass (see _loss_gradient in
 * fastmlp/engines/_cpu_loops.py). */
static void fastmlp_transpose_f32(const float *src, ptrdiff_t rows, ptrdiff_t cols,
                                  float *dst) {
    ptrdiff_t i, j;
    for (i = 0; i < rows; i++)
        for (j = 0; j < cols; j++) dst[j * rows + i] = src[i * cols + j];
}

/* Copy rows[0..n_rows) of a row-major matrix (row_bytes per row) into dst,
 * in order. A row at a time, the copy waits on one row's memory at a time:
 * shuffled 3 kB rows came at 9-10 GB/s. Eight rows interleaved a cache line
 * at a time keep eight streams in flight: 11.5-12 GB/s, a sequential
 * copy's speed (measured on 60000x784 float32 and float64). */
#define FASTMLP_GATHER_WIDTH 8
/* Short rows (a small network's inputs, any targets) would pay a libc
 * call for each row's tail: fixed-size copies the compiler inlines instead
 * (32 rows of 20 float32 and 32 of 3 targets: 0.2 -> 0.1 us a step). */
#define FASTMLP_SHORT_ROW 256
static void fastmlp_gather_short_rows(const char *src, ptrdiff_t row_bytes,
                                      const ptrdiff_t *rows, ptrdiff_t n_rows,
                                      char *dst) {
    ptrdiff_t r, o;
    for (r = 0; r < n_rows; r++) {
        const char *from = src + rows[r] * row_bytes;
        char *to = dst + r * row_bytes;
        for (o = 0; o + 16 <= row_bytes; o += 16) memcpy(to + o, from + o, 16);
        for (; o + 4 <= row_bytes; o += 4) memcpy(to + o, from + o, 4);
        for (; o < row_bytes; o++) to[o] = from[o];
    }
}

static void fastmlp_gather_rows(const char *src, ptrdiff_t row_bytes,
                                const ptrdiff_t *rows, ptrdiff_t n_rows, char *dst) {
    const ptrdiff_t whole = row_bytes & ~(ptrdiff_t) 63;
    const char *from[FASTMLP_GATHER_WIDTH];
    char *to[FASTMLP_GATHER_WIDTH];
    ptrdiff_t r = 0, offset;
    int g;
    if (row_bytes <= FASTMLP_SHORT_ROW) {
        fastmlp_gather_short_rows(src, row_bytes, rows, n_rows, dst);
        return;
    }
    for (; r + FASTMLP_GATHER_WIDTH <= n_rows; r += FASTMLP_GATHER_WIDTH) {
        for (g = 0; g < FASTMLP_GATHER_WIDTH; g++) {
            from[g] = src + rows[r + g] * row_bytes;
            to[g] = dst + (r + g) * row_bytes;
        }
        for (offset = 0; offset < whole; offset += 64) {
            for (g = 0; g < FASTMLP_GATHER_WIDTH; g++) {
                memcpy(to[g] + offset, from[g] + offset, 64);
            }
        }
        if (whole < row_bytes) {
            for (g = 0; g < FASTMLP_GATHER_WIDTH; g++) {
                memcpy(to[g] + whole, from[g] + whole, (size_t) (row_bytes - whole));
            }
        }
    }
    for (; r < n_rows; r++) {
        memcpy(dst + r * row_bytes, src + rows[r] * row_bytes, (size_t) row_bytes);
    }
}

#endif
