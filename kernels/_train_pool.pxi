# The pool (_pool.h) and the build's tunables, seen from Python. Included by
# _train.pyx.

def install_blas_pool(size_t set_backend, size_t current_backend,
                      size_t get_num_threads):
    """Make the pool OpenBLAS's threading backend; see fastmlp/_blas.py.

    Arguments are addresses in NumPy's OpenBLAS:
    openblas_set_threads_callback_function, the variable
    openblas_threads_callback_ and openblas_get_num_threads. Returns True
    when the pool is (or already was) the backend, False when another
    backend is installed or the platform has no pool."""
    return fastmlp_pool_install(set_backend, current_backend, get_num_threads) == 1


def attach_blas_pool(size_t set_backend, size_t current_backend):
    """Make the installed pool the threading backend of another OpenBLAS
    (SciPy's) too; arguments are the first two of install_blas_pool, in that
    library. Returns True when the pool is (or already was) its backend."""
    return fastmlp_pool_attach(set_backend, current_backend) == 1


cdef extern from "_pool.h":
    enum:
        FASTMLP_POOL_SPIN_NS
        FASTMLP_POOL_PAUSES


cdef extern from "_bf16.h":
    enum:
        FASTMLP_PARALLEL_MIN_MACS


def compiled_tunables():
    """The C-level tunables this build was compiled with, by their names in
    fastmlp/_tunables.py."""
    return {
        "PARALLEL_MIN_STEP": PARALLEL_MIN_STEP,
        "PARALLEL_MIN_ELEMENTS": PARALLEL_MIN_ELEMENTS,
        "PARALLEL_MIN_BYTES": PARALLEL_MIN_BYTES,
        "PARALLEL_MIN_MACS": FASTMLP_PARALLEL_MIN_MACS,
        "MATH_PASS_WEIGHT": MATH_PASS_WEIGHT,
        "POOL_SPIN_NS": FASTMLP_POOL_SPIN_NS,
        "POOL_PAUSES": FASTMLP_POOL_PAUSES,
    }


def blas_pool_info():
    """(installed, worker threads started, parts a pass is split into now)."""
    return (bool(fastmlp_pool_installed()), fastmlp_pool_workers(),
            fastmlp_pool_parts(1, 0))
