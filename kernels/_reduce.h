/* Sums whose order of additions does not matter, written so they vectorize.
 *
 * A plain running sum is a chain of dependent additions that the compiler
 * may not reorder (that would change the rounding), so it runs one addition
 * per add latency. `omp simd reduction` allows the reordering for this one
 * loop only; it needs -fopenmp-simd at compile time and no OpenMP runtime.
 */
#ifndef FASTMLP_REDUCE_H
#define FASTMLP_REDUCE_H

#include <stddef.h>

/* Where the toolchain can, compile a copy for each wider x86 vector unit
 * and pick one at load time (GCC/Clang function multiversioning): the
 * portable baseline build only has 2-wide SSE2 for doubles. */
#if defined(__x86_64__) && defined(__linux__) && \
    (defined(__clang__) ? __clang_major__ >= 14 : (defined(__GNUC__) && __GNUC__ >= 6))
#define FASTMLP_MULTIVERSION __attribute__((target_clones("avx512f", "avx2", "default")))
#else
#define FASTMLP_MULTIVERSION
#endif

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

FASTMLP_MULTIVERSION
static double fastmlp_sum_squares_f64(const double *x, ptrdiff_t n) {
    double total = 0.0;
    ptrdiff_t i;
#pragma omp simd reduction(+:total)
    for (i = 0; i < n; i++) {
        total += x[i] * x[i];
    }
    return total;
}

#endif
