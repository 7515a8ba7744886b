/* cblas entry points of NumPy's own BLAS (GEMM, GEMV, DOT), when found.
 *
 * fastmlp routes its GEMMs through the BLAS that NumPy itself uses, so a
 * process that runs scikit-learn and fastmlp keeps one BLAS thread pool: two
 * OpenBLAS pools (NumPy's and SciPy's) spinning on the same cores were seen
 * to double GEMM times. The addresses are found at import time from Python
 * (fastmlp/_blas.py) and set here; until then, or where NumPy's BLAS is not
 * a known OpenBLAS build, the kernels call SciPy's cython_blas instead.
 *
 * Each Cython module that includes this header gets its own copy of these
 * pointers (they are static), and each exports a setter for its copy.
 */
#ifndef FASTMLP_CBLAS_H
#define FASTMLP_CBLAS_H

#include <stdint.h>
#include <stddef.h>

/* cblas enum values */
#define FASTMLP_CBLAS_ROW_MAJOR 101
#define FASTMLP_CBLAS_COL_MAJOR 102
#define FASTMLP_CBLAS_NO_TRANS 111
#define FASTMLP_CBLAS_TRANS 112

/* ILP64 cblas_?gemm: 64-bit integers, enums passed as int. */
typedef void (*fastmlp_sgemm64_t)(int, int, int, int64_t, int64_t, int64_t,
                                  float, const float *, int64_t,
                                  const float *, int64_t, float, float *,
                                  int64_t);
typedef void (*fastmlp_dgemm64_t)(int, int, int, int64_t, int64_t, int64_t,
                                  double, const double *, int64_t,
                                  const double *, int64_t, double, double *,
                                  int64_t);

/* ILP64 cblas_?gemv: order, trans, m, n, alpha, a, lda, x, incx, beta, y, incy */
typedef void (*fastmlp_sgemv64_t)(int, int, int64_t, int64_t, float,
                                  const float *, int64_t, const float *,
                                  int64_t, float, float *, int64_t);
typedef void (*fastmlp_dgemv64_t)(int, int, int64_t, int64_t, double,
                                  const double *, int64_t, const double *,
                                  int64_t, double, double *, int64_t);
/* ILP64 cblas_?dot */
typedef float (*fastmlp_sdot64_t)(int64_t, const float *, int64_t,
                                  const float *, int64_t);
typedef double (*fastmlp_ddot64_t)(int64_t, const double *, int64_t,
                                   const double *, int64_t);

static fastmlp_sgemm64_t fastmlp_sgemm64 = NULL;
static fastmlp_dgemm64_t fastmlp_dgemm64 = NULL;
static fastmlp_sgemv64_t fastmlp_sgemv64 = NULL;
static fastmlp_dgemv64_t fastmlp_dgemv64 = NULL;
static fastmlp_sdot64_t fastmlp_sdot64 = NULL;
static fastmlp_ddot64_t fastmlp_ddot64 = NULL;

/* All six or none (addresses 0: back to SciPy's cython_blas). */
static void fastmlp_set_cblas(size_t sgemm, size_t dgemm, size_t sgemv,
                              size_t dgemv, size_t sdot, size_t ddot) {
    int all = sgemm && dgemm && sgemv && dgemv && sdot && ddot;
    fastmlp_sgemm64 = all ? (fastmlp_sgemm64_t) sgemm : NULL;
    fastmlp_dgemm64 = all ? (fastmlp_dgemm64_t) dgemm : NULL;
    fastmlp_sgemv64 = all ? (fastmlp_sgemv64_t) sgemv : NULL;
    fastmlp_dgemv64 = all ? (fastmlp_dgemv64_t) dgemv : NULL;
    fastmlp_sdot64 = all ? (fastmlp_sdot64_t) sdot : NULL;
    fastmlp_ddot64 = all ? (fastmlp_ddot64_t) ddot : NULL;
}

static int fastmlp_have_cblas(void) {
    return fastmlp_dgemm64 != NULL;
}

#endif
