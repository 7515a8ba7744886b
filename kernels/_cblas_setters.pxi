# Included by every kernel module that cimports _blas: each such module keeps
# its own copy of the cblas pointers (_cblas.h), and these set and report it.


def set_cblas(size_t sgemm, size_t dgemm, size_t sgemv, size_t dgemv,
              size_t sdot, size_t ddot):
    """Route this module's BLAS calls to these ILP64 cblas_?gemm, cblas_?gemv
    and cblas_?dot addresses (all 0: back to SciPy's cython_blas). See
    fastmlp/_blas.py."""
    fastmlp_set_cblas(sgemm, dgemm, sgemv, dgemv, sdot, ddot)


def blas_source():
    """'numpy' when BLAS calls go to NumPy's BLAS, 'scipy' otherwise."""
    return "numpy" if fastmlp_have_cblas() else "scipy"
