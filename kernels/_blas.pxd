# cython: language_level=3
"""Row-major BLAS for the kernels, over the ``floating`` fused type.

Design: every kernel reaches BLAS through this header only, and only through
scipy's ``cython_blas`` (so the whole package uses one BLAS library and one
thread pool: scipy's). The functions are ``inline`` so that no module has to
import another at run time. Integer arguments are C ``int``, as in the LP64
BLAS that scipy ships.

Row-major matrices are column-major matrices transposed, so
``C = op(A) @ op(B)`` in row-major is ``C^T = op(B)^T @ op(A)^T`` in
column-major: the operands are swapped before the Fortran call.
"""

from cython cimport floating
from scipy.linalg.cython_blas cimport dgemm, sgemm


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
    # Fortran BLAS takes non-const pointers; it does not write A or B.
    if floating is float:
        sgemm(&tb, &ta, &n, &m, &k, &alpha, <float *> b, &ldb,
              <float *> a, &lda, &beta, c, &ldc)
    else:
        dgemm(&tb, &ta, &n, &m, &k, &alpha, <double *> b, &ldb,
              <double *> a, &lda, &beta, c, &ldc)
