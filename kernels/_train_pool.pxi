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


# Prediction's check of its next block of rows for NaN and infinity, in idle
# time (_pool.h), for fastmlp/_inference.py: while one block runs through the
# network, the threads that would spin read the next block (from memory, as
# the check must) and the block's turn only finishes what is left.

cdef extern from "_finite.h" nogil:
    bint fastmlp_all_finite_f32(const float *x, Py_ssize_t n)
    bint fastmlp_all_finite_f64(const double *x, Py_ssize_t n)


cdef struct _FiniteCheck:
    const char *data
    Py_ssize_t n
    Py_ssize_t itemsize
    unsigned char bad[256]   # per part (FASTMLP_POOL_MAX_PARTS): no shared write


cdef void _finite_part(void *arg, int part, int n_parts) noexcept nogil:
    cdef _FiniteCheck *c = <_FiniteCheck *> arg
    cdef Py_ssize_t lo, hi
    fastmlp_part_range(c.n, part, n_parts, LINE_BYTES // c.itemsize, &lo, &hi)
    if hi == lo:
        return
    if c.itemsize == 4:
        c.bad[part] = not fastmlp_all_finite_f32(<const float *> c.data + lo, hi - lo)
    else:
        c.bad[part] = not fastmlp_all_finite_f64(<const double *> c.data + lo, hi - lo)


def all_finite(const floating[::1] x):
    """Whether every entry of x is finite: vectorized passes (_finite.h),
    split over the pool once the cpu engine installed it (fit's direct
    validation reads all of X: 60000 x 784 float32, ~16 ms on one core of
    the development VM, ~9 on two)."""
    cdef _FiniteCheck c
    cdef int part, n_parts
    if x.shape[0] == 0:
        return True
    c.data = <const char *> &x[0]
    c.n = x.shape[0]
    c.itemsize = sizeof(floating)
    with nogil:
        n_parts = fastmlp_pool_parts(c.n * c.itemsize, PARALLEL_MIN_BYTES)
        for part in range(n_parts):
            c.bad[part] = 0
        fastmlp_pool_dispatch(_finite_part, &c, n_parts, 0)
    for part in range(n_parts):
        if c.bad[part]:
            return False
    return True


def idle_acquire():
    """True if the caller may arm idle work: one loop at a time owns it."""
    return fastmlp_idle_acquire() == 1


def idle_release():
    """Finish any armed work and give the facility up (the owner only)."""
    with nogil:
        fastmlp_idle_release()


def idle_check_arm(const floating[:, ::1] a):
    """Post the check of a's entries (the owner only, its previous work
    finished; a must stay alive until idle_check_finish). False if not
    posted: the caller checks a itself."""
    cdef int single = 1 if floating is float else 0
    if a.shape[0] == 0 or a.shape[1] == 0:
        return False
    return fastmlp_idle_arm_check(&a[0, 0], a.shape[0] * a.shape[1], single) == 1


def idle_check_finish():
    """Finish the posted check; whether all its entries were finite."""
    cdef int finite
    with nogil:
        finite = fastmlp_idle_finish_check(PARALLEL_MIN_BYTES)
    return finite == 1
