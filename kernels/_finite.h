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

#define FASTMLP_ALL_FINITE(NAME, T)                                           \
static int NAME(const T *x, ptrdiff_t n) {                                   \
    T acc = 0;                                                               \
    ptrdiff_t i;                                                             \
    _Pragma("omp simd reduction(+:acc)")                                     \
    for (i = 0; i < n; i++) {                                                \
        acc += x[i] * (T) 0;                                                 \
    }                                                                        \
    return acc == 0;                                                         \
}

FASTMLP_ALL_FINITE(fastmlp_all_finite_f32, float)
FASTMLP_ALL_FINITE(fastmlp_all_finite_f64, double)

#endif
