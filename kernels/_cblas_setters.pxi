# Included by every kernel module that cimports _blas: each such module keeps
# its own copy of the cblas pointers (_cblas.h), and these set and report it.


def set_cblas(size_t sgemm_address, size_t dgemm_address):
    """Route this module's GEMMs to these ILP64 cblas_sgemm/cblas_dgemm
    addresses (0, 0: back to SciPy's cython_blas). See fastmlp/_blas.py."""
    fastmlp_set_cblas(sgemm_address, dgemm_address)


def blas_source():
    """'numpy' when GEMMs go to NumPy's BLAS, 'scipy' otherwise."""
    return "numpy" if fastmlp_have_cblas() else "scipy"
