"""Point the kernels' BLAS calls at NumPy's own BLAS.

NumPy and SciPy wheels each bundle an OpenBLAS with its own thread pool.
scikit-learn's work (and the user's) runs on NumPy's; if fastmlp's GEMMs ran
on SciPy's, both pools would spin on the same cores whenever the two
alternate, which was measured here to double GEMM times. So the kernels call
NumPy's BLAS through its cblas entry points, found here once per process in
the library NumPy has already loaded. Where NumPy's BLAS is not the
``scipy-openblas`` ILP64 build its wheels ship (a conda MKL build, say), the
kernels keep SciPy's cython_blas: correct, only not sharing a pool, and not
NumPy's bits where NumPy's BLAS and SciPy's add in different orders.
"""

import contextlib
import ctypes
import functools
import glob
import os
import threading

import numpy as np

# Symbol names in scipy-openblas64, the BLAS of NumPy's wheels, in the order
# set_cblas takes them: NumPy's matmul calls GEMM, GEMV or DOT by shape, and
# the kernels call the same (kernels/_blas.pxd).
_SYMBOLS = (
    "scipy_cblas_sgemm64_", "scipy_cblas_dgemm64_",
    "scipy_cblas_sgemv64_", "scipy_cblas_dgemv64_",
    "scipy_cblas_sdot64_", "scipy_cblas_ddot64_",
)
# Its threading backend hook (OpenBLAS >= 0.3.28): the setter, the variable
# it sets, and the thread count that threadpoolctl controls.
_POOL_SYMBOLS = (
    "scipy_openblas_set_threads_callback_function64_",
    "openblas_threads_callback_",
    "scipy_openblas_get_num_threads64_",
)
# The same hook in SciPy's own OpenBLAS (unprefixed names there).
_SCIPY_POOL_SYMBOLS = (
    "openblas_set_threads_callback_function",
    "openblas_threads_callback_",
)
# FASTMLP_BLAS_POOL=0 leaves OpenBLAS's own threads in charge.
POOL_ENV = "FASTMLP_BLAS_POOL"


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


def _numpy_blas_addresses(names):
    """Addresses of these symbols in NumPy's ILP64 scipy-openblas, or None."""
    config = _numpy_blas_config()
    if config.get("name") != "scipy-openblas" or "USE64BITINT" not in config.get(
        "openblas configuration", ""
    ):
        return None
    for path in _candidate_libraries():
        addresses = _symbol_addresses(path, names)
        if addresses is not None:
            return addresses
    return None


def _symbol_addresses(path, names):
    """Addresses of these symbols in the shared library at path (already
    loaded, so the same handle), or None if it lacks one."""
    try:
        library = ctypes.CDLL(path)
        return tuple(ctypes.cast(getattr(library, name), ctypes.c_void_p).value
                     for name in names)
    except (OSError, AttributeError):
        return None


def numpy_cblas():
    """Addresses of NumPy's ILP64 cblas ?gemm, ?gemv and ?dot (in the order
    of ``set_cblas``), or None."""
    return _numpy_blas_addresses(_SYMBOLS)


def use_numpy_blas(*modules):
    """Hand NumPy's BLAS addresses to each kernel module; False if not found."""
    addresses = numpy_cblas()
    if addresses is None:
        return False
    for module in modules:
        module.set_cblas(*addresses)
    return True


def share_numpy_blas_pool(module):
    """Make ``module``'s thread pool the threading backend of NumPy's OpenBLAS.

    Then OpenBLAS's GEMMs and the training kernels' element-wise passes run
    on the same threads instead of two pools competing for the cores (see
    kernels/_pool.h). Once per process, for good: switching back and forth
    would leave OpenBLAS's own workers spinning beside the pool after each
    switch. Nothing changes where the OpenBLAS is older than 0.3.28, another
    backend is already installed, or FASTMLP_BLAS_POOL=0. Returns whether
    the pool is the backend.
    """
    if os.environ.get(POOL_ENV, "1").strip() == "0":
        return False
    addresses = _numpy_blas_addresses(_POOL_SYMBOLS)
    if addresses is None:
        return False
    return module.install_blas_pool(*addresses)


@functools.cache
def _scipy_blas():
    """threadpoolctl's handle on the BLAS bundled with SciPy, where that is
    not the BLAS the kernels call; None otherwise."""
    if numpy_cblas() is None:
        return None  # the kernels' GEMMs run on SciPy's BLAS: leave it be
    import scipy
    from threadpoolctl import ThreadpoolController

    scipy_dir = os.path.dirname(os.path.realpath(scipy.__file__))
    bundled = (scipy_dir + ".libs" + os.sep, os.path.join(scipy_dir, ".dylibs") + os.sep)
    controller = ThreadpoolController()
    paths = [
        lib.filepath for lib in controller.lib_controllers
        if lib.user_api == "blas" and os.path.realpath(lib.filepath).startswith(bundled)
    ]
    return controller.select(filepath=paths) if paths else None


def _attach_pool_to_scipy_blas(controller):
    """Make the kernels' pool the threading backend of NumPy's OpenBLAS (if
    it is not yet) and of SciPy's as well (the same hook, in that library);
    whether it is."""
    from fastmlp._kernels import _train

    if not share_numpy_blas_pool(_train):
        return False
    for lib in controller.lib_controllers:
        addresses = _symbol_addresses(lib.filepath, _SCIPY_POOL_SYMBOLS)
        if addresses is None or not _train.attach_blas_pool(*addresses):
            return False
    return True


@functools.cache
def _scipy_blas_on_pool():
    controller = _scipy_blas()
    return controller is not None and _attach_pool_to_scipy_blas(controller)


# Fits in threads share SciPy's BLAS: the first to enter limits it and the
# last to leave restores it, or one fit's exit would undo another's limit
# (or restore a limit for good, if exits came in the other order).
_scipy_limit_lock = threading.Lock()
_scipy_limit_users = 0
_scipy_limiter = None


@contextlib.contextmanager
def scipy_blas_for_lbfgs():
    """Context for scipy.optimize's L-BFGS-B between the kernels' calls.

    L-BFGS-B calls SciPy's own BLAS on vectors and tiny matrices. Left with
    its own threads, that OpenBLAS's workers spin for ~0.1 s beside the
    kernels' pool on the same cores between every two evaluations of the
    loss: small lbfgs fits ran tens of times slower. So it runs its jobs on
    the kernels' pool, once per process, splitting them as it always does:
    the same bits as scikit-learn's L-BFGS-B. (Its dot products split over
    threads above 10000 entries, so their sums depend on its thread count.)
    Where the pool cannot take them (FASTMLP_BLAS_POOL=0, an OpenBLAS older
    than 0.3.28), it runs on one thread instead: as fast, and the same bits
    up to 10000 parameters, beyond which they may differ in the last place.
    """
    global _scipy_limit_users, _scipy_limiter
    controller = _scipy_blas()
    if controller is None or _scipy_blas_on_pool():
        yield
        return
    with _scipy_limit_lock:
        if _scipy_limit_users == 0:
            _scipy_limiter = controller.limit(limits=1)
        _scipy_limit_users += 1
    try:
        yield
    finally:
        with _scipy_limit_lock:
            _scipy_limit_users -= 1
            if _scipy_limit_users == 0:
                _scipy_limiter.restore_original_limits()
                _scipy_limiter = None
