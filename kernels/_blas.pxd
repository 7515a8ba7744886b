# cython: language_level=3
"""Row-major BLAS for the kernels, over the ``floating`` fused type.

Design: every kernel reaches BLAS through this header only. The GEMM goes to
NumPy's own BLAS when fastmlp/_blas.py has found its cblas entry points
(``_cblas.h``; one BLAS thread pool for NumPy, scikit-learn and fastmlp),
else to SciPy's ``cython_blas``. The functions are ``inline`` so that no
module has to import another at run time; a module that cimports this must
also ``include "_cblas_setters.pxi"`` (set_cblas, blas_source) so Python
can hand it the addresses.

Row-major matrices are column-major matrices transposed, so for the
Fortran interface ``C = op(A) @ op(B)`` in row-major is
``C^T = op(B)^T @ op(A)^T`` in column-major: the operands are swapped.
"""

from cython cimport floating
from libc.stdint cimport int64_t
from scipy.linalg.cython_blas cimport dgemm, sgemm


cdef extern from "_cblas.h" nogil:
    int FASTMLP_CBLAS_ROW_MAJOR
    int FASTMLP_CBLAS_NO_TRANS
    int FASTMLP_CBLAS_TRANS
    ctypedef void (*fastmlp_sgemm64_t)(
        int, int, int, int64_t, int64_t, int64_t, float, const float *,
        int64_t, const float *, int64_t, float, float *, int64_t)
    ctypedef void (*fastmlp_dgemm64_t)(
        int, int, int, int64_t, int64_t, int64_t, double, const double *,
        int64_t, const double *, int64_t, double, double *, int64_t)
    fastmlp_sgemm64_t fastmlp_sgemm64
    fastmlp_dgemm64_t fastmlp_dgemm64
    void fastmlp_set_cblas(size_t sgemm_address, size_t dgemm_address)
    int fastmlp_have_cblas()


cdef inline void gemm(
    bint trans_a,          # IN: use A^T
    bint trans_b,          # IN: use B^T
    int m,                 # IN: rows of op(A) and of C
    int n,                 # IN: columns of op(B) and of C
    int k,                 # IN: columns of op(A), rows of op(B)
    floating alpha,
    const floating *a,     # IN: row-major, leading dimension lda
    int lda,
    const floating *b,     # IN: row-major, leading dimension ldb
    int ldb,
    floating beta,
    floating *c,           # OUT: row-major m x n, leading dimension ldc
    int ldc,
) noexcept nogil:
    """C = alpha * op(A) @ op(B) + beta * C, all row-major."""
    cdef char ta = b"T" if trans_a else b"N"
    cdef char tb = b"T" if trans_b else b"N"
    if m == 0 or n == 0:
        return
    if fastmlp_have_cblas():
        if floating is float:
            fastmlp_sgemm64(
                FASTMLP_CBLAS_ROW_MAJOR,
                FASTMLP_CBLAS_TRANS if trans_a else FASTMLP_CBLAS_NO_TRANS,
                FASTMLP_CBLAS_TRANS if trans_b else FASTMLP_CBLAS_NO_TRANS,
                m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
        else:
            fastmlp_dgemm64(
                FASTMLP_CBLAS_ROW_MAJOR,
                FASTMLP_CBLAS_TRANS if trans_a else FASTMLP_CBLAS_NO_TRANS,
                FASTMLP_CBLAS_TRANS if trans_b else FASTMLP_CBLAS_NO_TRANS,
                m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
        return
    # Fortran BLAS takes non-const pointers; it does not write A or B.
    if floating is float:
        sgemm(&tb, &ta, &n, &m, &k, &alpha, <float *> b, &ldb,
              <float *> a, &lda, &beta, c, &ldc)
    else:
        dgemm(&tb, &ta, &n, &m, &k, &alpha, <double *> b, &ldb,
              <double *> a, &lda, &beta, c, &ldc)
