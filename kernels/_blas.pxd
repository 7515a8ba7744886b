# cython: language_level=3, cdivision=True
"""Row-major BLAS for the kernels, over the ``floating`` fused type.

Design: every kernel reaches BLAS through this header only. Calls go to
NumPy's own BLAS when fastmlp/_blas.py has found its cblas entry points
(``_cblas.h``; one BLAS thread pool for NumPy, scikit-learn and fastmlp),
else to SciPy's ``cython_blas``. The functions are ``inline`` so that no
module has to import another at run time; a module that cimports this must
also ``include "_cblas_setters.pxi"`` (set_cblas, blas_source) so Python
can hand it the addresses.

``gemm`` with alpha = 1 and beta = 0 computes what ``A @ B`` computes in
NumPy, bit for bit: NumPy's matmul does not always call GEMM. Where a core
dimension is 1 it calls DOT (a 1 x 1 result), GEMV (one row or one column)
or its own loop (an inner dimension of 1), and each of those adds in another
order than GEMM does (numpy/_core/src/umath/matmul.c.src, @TYPE@_matmul;
mirrored in ``_matmul``). Only A @ A.T, for which NumPy calls SYRK, is left
to GEMM: no kernel multiplies a buffer by itself. Other alphas and betas
are a plain GEMM.

Row-major matrices are column-major matrices transposed, so for the
Fortran interface ``C = op(A) @ op(B)`` in row-major is
``C^T = op(B)^T @ op(A)^T`` in column-major: the operands are swapped.
"""

from cython cimport floating
from libc.stdint cimport int64_t
from scipy.linalg.cython_blas cimport ddot, dgemm, dgemv, sdot, sgemm, sgemv


cdef extern from "_cblas.h" nogil:
    int FASTMLP_CBLAS_ROW_MAJOR
    int FASTMLP_CBLAS_COL_MAJOR
    int FASTMLP_CBLAS_NO_TRANS
    int FASTMLP_CBLAS_TRANS
    ctypedef void (*fastmlp_sgemm64_t)(
        int, int, int, int64_t, int64_t, int64_t, float, const float *,
        int64_t, const float *, int64_t, float, float *, int64_t)
    ctypedef void (*fastmlp_dgemm64_t)(
        int, int, int, int64_t, int64_t, int64_t, double, const double *,
        int64_t, const double *, int64_t, double, double *, int64_t)
    ctypedef void (*fastmlp_sgemv64_t)(
        int, int, int64_t, int64_t, float, const float *, int64_t,
        const float *, int64_t, float, float *, int64_t)
    ctypedef void (*fastmlp_dgemv64_t)(
        int, int, int64_t, int64_t, double, const double *, int64_t,
        const double *, int64_t, double, double *, int64_t)
    ctypedef float (*fastmlp_sdot64_t)(
        int64_t, const float *, int64_t, const float *, int64_t)
    ctypedef double (*fastmlp_ddot64_t)(
        int64_t, const double *, int64_t, const double *, int64_t)
    fastmlp_sgemm64_t fastmlp_sgemm64
    fastmlp_dgemm64_t fastmlp_dgemm64
    fastmlp_sgemv64_t fastmlp_sgemv64
    fastmlp_dgemv64_t fastmlp_dgemv64
    fastmlp_sdot64_t fastmlp_sdot64
    fastmlp_ddot64_t fastmlp_ddot64
    void fastmlp_set_cblas(size_t sgemm, size_t dgemm, size_t sgemv,
                           size_t dgemv, size_t sdot, size_t ddot)
    int fastmlp_have_cblas()


cdef inline void _gemm(
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
    """C = alpha * op(A) @ op(B) + beta * C through GEMM, all row-major."""
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


cdef inline double dot(
    Py_ssize_t n,
    const floating *x,     # IN: n entries, incx apart
    int incx,
    const floating *y,     # IN: n entries, incy apart
    int incy,
) noexcept nogil:
    """NumPy's @TYPE@_dot: BLAS ?dot of x and y added onto a double 0, in
    one call with NumPy's ILP64 BLAS, in chunks of 2^30 (NumPy's
    NPY_CBLAS_CHUNK for a 32-bit BLAS) with SciPy's (positive increments)."""
    cdef double total = 0.0
    cdef int chunk
    if fastmlp_have_cblas():
        if floating is float:
            total += fastmlp_sdot64(n, x, incx, y, incy)
        else:
            total += fastmlp_ddot64(n, x, incx, y, incy)
        return total
    while n > 0:
        chunk = <int> min(n, 1073741824)
        if floating is float:
            total += sdot(&chunk, <float *> x, &incx, <float *> y, &incy)
        else:
            total += ddot(&chunk, <double *> x, &incx, <double *> y, &incy)
        x += chunk * incx
        y += chunk * incy
        n -= chunk
    return total


cdef inline void _gemv(
    bint row_major,        # IN: the order a is read in
    bint trans,            # IN: y = A^T x
    int m,                 # IN: rows of A (in that order)
    int n,                 # IN: columns of A
    const floating *a,
    int lda,
    const floating *x,
    int incx,
    floating *y,           # OUT
    int incy,
) noexcept nogil:
    """cblas ?gemv(order, trans, m, n, 1, a, lda, x, incx, 0, y, incy)."""
    cdef char t
    cdef floating one = 1, zero = 0
    if fastmlp_have_cblas():
        if floating is float:
            fastmlp_sgemv64(
                FASTMLP_CBLAS_ROW_MAJOR if row_major else FASTMLP_CBLAS_COL_MAJOR,
                FASTMLP_CBLAS_TRANS if trans else FASTMLP_CBLAS_NO_TRANS,
                m, n, one, a, lda, x, incx, zero, y, incy)
        else:
            fastmlp_dgemv64(
                FASTMLP_CBLAS_ROW_MAJOR if row_major else FASTMLP_CBLAS_COL_MAJOR,
                FASTMLP_CBLAS_TRANS if trans else FASTMLP_CBLAS_NO_TRANS,
                m, n, one, a, lda, x, incx, zero, y, incy)
        return
    # Fortran is column-major: a row-major A is A^T column-major.
    if row_major:
        trans = not trans
        m, n = n, m
    t = b"T" if trans else b"N"
    if floating is float:
        sgemv(&t, &m, &n, &one, <float *> a, &lda, <float *> x, &incx, &zero,
              y, &incy)
    else:
        dgemv(&t, &m, &n, &one, <double *> a, &lda, <double *> x, &incx,
              &zero, y, &incy)


cdef inline bint _blasable(int s1, int s2, int d1, int d2) noexcept nogil:
    """NumPy's is_blasable2d, strides in elements: the second axis
    contiguous, the first stride at least the second dimension."""
    return s2 == 1 and s1 >= d2


cdef inline void _numpy_gemv(
    const floating *a, int a_m, int a_n, const floating *x, int incx,
    floating *y, int incy, int m, int n,
) noexcept nogil:
    """NumPy's @TYPE@_gemv: y (m) = A (m x n, strides a_m, a_n) @ x (n)."""
    if _blasable(a_m, a_n, m, n):
        _gemv(False, True, n, m, a, a_m, x, incx, y, incy)
    else:
        _gemv(True, True, n, m, a, a_n, x, incx, y, incy)


cdef inline void _matmul(
    bint trans_a, bint trans_b, int m, int n, int k,
    const floating *a, int lda, const floating *b, int ldb,
    floating *c, int ldc,
) noexcept nogil:
    """C = op(A) @ op(B) as NumPy's matmul computes it (m, n > 0).

    NumPy's names: dm = m, dn = k, dp = n; the strides (in elements) are
    those of the row-major arrays and their transposed views.
    """
    cdef int s1_m = 1 if trans_a else lda, s1_n = lda if trans_a else 1
    cdef int s2_n = 1 if trans_b else ldb, s2_p = ldb if trans_b else 1
    cdef bint a_c = _blasable(s1_m, s1_n, m, k)
    cdef bint b_c = _blasable(s2_n, s2_p, k, n)
    cdef bint a_ok = a_c or _blasable(s1_n, s1_m, k, m)
    cdef bint b_ok = b_c or _blasable(s2_p, s2_n, n, k)
    cdef int i, j, l
    cdef floating zero = 0, ai
    cdef floating *out
    if k > 0 and (m == 1 or n == 1 or k == 1):
        if m == 1 and n == 1:
            # A row @ a column: DOT (@TYPE@_dot).
            c[0] = <floating> dot(k, a, s1_n, b, s2_n)
            return
        if m == 1 and not k == 1 and b_ok:
            # A row @ a matrix: GEMV on B^T.
            _numpy_gemv(b, s2_p, s2_n, a, s1_n, c, 1, n, k)
            return
        if n == 1 and not k == 1 and a_ok:
            _numpy_gemv(a, s1_m, s1_n, b, s2_n, c, ldc, m, k)
            return
    if k == 1:
        # NumPy's own loop (@TYPE@_matmul_inner_noblas) with one term: each
        # entry 0 + a_i * b_j. An outer product, vectorized along rows of C.
        for i in range(m):
            out = c + i * ldc
            ai = a[i * s1_m]
            if s2_p == 1:
                for j in range(n):
                    out[j] = zero + ai * b[j]
            else:
                for j in range(n):
                    out[j] = zero + ai * b[j * s2_p]
        return
    if k == 0 or m == 1 or n == 1:
        # NumPy's own loop, in general: each entry a running sum from 0, in
        # the order of the inner index. The kernels' callers reach it with
        # k = 0 only (a zero fill: their operands are all BLAS-able); the
        # loop keeps any other strides right too.
        for i in range(m):
            out = c + i * ldc
            for j in range(n):
                out[j] = zero
                for l in range(k):
                    out[j] += a[i * s1_m + l * s1_n] * b[l * s2_n + j * s2_p]
        return
    _gemm(not a_c, not b_c, m, n, k, <floating> 1, a,
          s1_m if a_c else s1_n, b, s2_n if b_c else s2_p, <floating> 0, c,
          ldc)


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
    """C = alpha * op(A) @ op(B) + beta * C, all row-major; with alpha = 1
    and beta = 0, NumPy's ``op(A) @ op(B)`` (see the module's Design)."""
    if m == 0 or n == 0:
        return
    if alpha == 1 and beta == 0:
        _matmul(trans_a, trans_b, m, n, k, a, lda, b, ldb, c, ldc)
    else:
        _gemm(trans_a, trans_b, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
