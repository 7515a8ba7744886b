/* Whether an array holds only finite values, in one vectorized pass.
 *
 * x * 0 is 0 for every finite x and NaN for an infinity or a NaN, so the sum
 * of x * 0 is 0 exactly when all x are finite. `omp simd reduction` lets the
 * compiler add in any order (needs -fopenmp-simd, no OpenMP runtime); the
 * result does not depend on the order.
 */
#ifndef FASTMLP_FINITE_H
#define FASTMLP_FINITE_H

#include <stddef.h>

static int fastmlp_all_finite_f32(const float *x, ptrdiff_t n) {
    float acc = 0.0f;
    ptrdiff_t i;
#pragma omp simd reduction(+:acc)
    for (i = 0; i < n; i++) {
        acc += x[i] * 0.0f;
    }
    return acc == 0.0f;
}

static int fastmlp_all_finite_f64(const double *x, ptrdiff_t n) {
    double acc = 0.0;
    ptrdiff_t i;
#pragma omp simd reduction(+:acc)
    for (i = 0; i < n; i++) {
        acc += x[i] * 0.0;
    }
    return acc == 0.0;
}

#endif
