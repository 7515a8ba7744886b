"""Point the kernels' GEMMs at NumPy's own BLAS.

NumPy and SciPy wheels each bundle an OpenBLAS with its own thread pool.
scikit-learn's work (and the user's) runs on NumPy's; if fastmlp's GEMMs ran
on SciPy's, both pools would spin on the same cores whenever the two
alternate, which was measured here to double GEMM times. So the kernels call
NumPy's BLAS through its cblas entry points, found here once per process in
the library NumPy has already loaded. Where NumPy's BLAS is not the
``scipy-openblas`` ILP64 build its wheels ship (a conda MKL build, say), the
kernels keep SciPy's cython_blas: correct, only not sharing a pool.
"""

import ctypes
import glob
import os

import numpy as np

# Symbol names in scipy-openblas64, the BLAS of NumPy's wheels.
_SYMBOLS = ("scipy_cblas_sgemm64_", "scipy_cblas_dgemm64_")


def _numpy_blas_config():
    try:
        return np.__config__.CONFIG["Build Dependencies"]["blas"]
    except (AttributeError, KeyError, TypeError):
        return {}


def _candidate_libraries():
    numpy_dir = os.path.dirname(np.__file__)
    patterns = [
        os.path.join(numpy_dir + ".libs", "*openblas64*"),   # Linux, Windows
        os.path.join(numpy_dir, ".dylibs", "*openblas64*"),  # macOS
    ]
    return [path for pattern in patterns for path in sorted(glob.glob(pattern))]


def numpy_cblas_gemm():
    """(sgemm address, dgemm address) of NumPy's ILP64 cblas, or None."""
    config = _numpy_blas_config()
    if config.get("name") != "scipy-openblas" or "USE64BITINT" not in config.get(
        "openblas configuration", ""
    ):
        return None
    for path in _candidate_libraries():
        try:
            library = ctypes.CDLL(path)   # already loaded by NumPy: same handle
            return tuple(
                ctypes.cast(getattr(library, name), ctypes.c_void_p).value
                for name in _SYMBOLS
            )
        except (OSError, AttributeError):
            continue
    return None


def use_numpy_blas(*modules):
    """Hand NumPy's GEMM addresses to each kernel module; False if not found."""
    addresses = numpy_cblas_gemm()
    if addresses is None:
        return False
    for module in modules:
        module.set_cblas(*addresses)
    return True
