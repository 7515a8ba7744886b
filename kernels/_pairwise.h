/* NumPy's pairwise summation, for sums that must give NumPy's bits.
 *
 * Design: `a.sum()` over a contiguous run (a 1-D array, a row reduced along
 * axis 1, a single column reduced along axis 0) adds its terms in this order
 * (numpy/_core/src/umath/loops_utils.h.src, @TYPE@_pairwise_sum), onto the
 * reduction's initial value 0:
 *   fewer than 8 terms:  one running sum;
 *   up to 128 terms:     8 running sums over the terms 8 apart, combined as
 *                        ((r0 + r1) + (r2 + r3)) + ((r4 + r5) + (r6 + r7)),
 *                        then the last n % 8 terms one by one;
 *   more:                the halves, split at a multiple of 8, each summed so.
 * The accumulators have the array's type, as in NumPy. A reduction along
 * axis 0 of a matrix with several columns is not pairwise: NumPy adds it row
 * by row (see _column_sums in _train.pyx).
 */
#ifndef FASTMLP_PAIRWISE_H
#define FASTMLP_PAIRWISE_H

#include <stddef.h>

#define FASTMLP_PW_BLOCKSIZE 128

#define FASTMLP_PAIRWISE_SUM(NAME, T)                                         \
static T NAME##_block(const T *a, ptrdiff_t n, ptrdiff_t stride) {           \
    ptrdiff_t i;                                                             \
    if (n < 8) {                                                             \
        T res = 0;                                                           \
        for (i = 0; i < n; i++) {                                            \
            res += a[i * stride];                                            \
        }                                                                    \
        return res;                                                          \
    }                                                                        \
    if (n <= FASTMLP_PW_BLOCKSIZE) {                                         \
        T r[8], res;                                                         \
        int k;                                                               \
        for (k = 0; k < 8; k++) {                                            \
            r[k] = a[k * stride];                                            \
        }                                                                    \
        for (i = 8; i < n - (n % 8); i += 8) {                               \
            for (k = 0; k < 8; k++) {                                        \
                r[k] += a[(i + k) * stride];                                 \
            }                                                                \
        }                                                                    \
        res = ((r[0] + r[1]) + (r[2] + r[3])) +                              \
              ((r[4] + r[5]) + (r[6] + r[7]));                               \
        for (; i < n; i++) {                                                 \
            res += a[i * stride];                                            \
        }                                                                    \
        return res;                                                          \
    }                                                                        \
    {                                                                        \
        ptrdiff_t n2 = n / 2;                                                \
        n2 -= n2 % 8;                                                        \
        return NAME##_block(a, n2, stride) +                                 \
               NAME##_block(a + n2 * stride, n - n2, stride);                \
    }                                                                        \
}                                                                            \
                                                                             \
/* np.sum of the n terms a[0], a[stride], ...: 0 plus the pairwise sum. */   \
static T NAME(const T *a, ptrdiff_t n, ptrdiff_t stride) {                   \
    T zero = 0;                                                              \
    return zero + NAME##_block(a, n, stride);                                \
}

FASTMLP_PAIRWISE_SUM(fastmlp_pairwise_sum_f32, float)
FASTMLP_PAIRWISE_SUM(fastmlp_pairwise_sum_f64, double)

#endif
