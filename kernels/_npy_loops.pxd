# cython: language_level=3, cdivision=True
"""Element-wise exp and tanh with NumPy's bits, over runs of ``floating``.

Design: NumPy's ufunc loops are reached through ``_npy_loops.h`` only; a
module that cimports this must also ``include "_npy_loops.pxi"``, which
finds the loops when the module is imported. Where a loop is missing the
functions fall back to the C library, element by element.
"""

from cython cimport floating
from libc.math cimport exp, expf, tanh, tanhf


cdef extern from "_npy_loops.h" nogil:
    int FASTMLP_NPY_EXP
    int FASTMLP_NPY_TANH
    void fastmlp_set_npy_loop(int func, int is_double, size_t loop, size_t data)
    int fastmlp_have_npy_loop(int func, int is_double)
    void fastmlp_npy_apply(int func, int is_double, void *x, Py_ssize_t n)


cdef inline void _npy_run(int func, floating *x, Py_ssize_t n) noexcept nogil:
    """x = func(x) on x[0..n), in place: NumPy's own loop for func
    (FASTMLP_NPY_EXP or FASTMLP_NPY_TANH), libm's where it was not found."""
    cdef Py_ssize_t i
    cdef int is_double = floating is double
    if fastmlp_have_npy_loop(func, is_double):
        fastmlp_npy_apply(func, is_double, x, n)
        return
    for i in range(n):
        if func == FASTMLP_NPY_EXP:
            x[i] = expf(x[i]) if floating is float else exp(x[i])
        else:
            x[i] = tanhf(x[i]) if floating is float else tanh(x[i])


cdef inline void exp_run(floating *x, Py_ssize_t n) noexcept nogil:
    """x = np.exp(x) on x[0..n), in place."""
    _npy_run(FASTMLP_NPY_EXP, x, n)


cdef inline void tanh_run(floating *x, Py_ssize_t n) noexcept nogil:
    """x = np.tanh(x) on x[0..n), in place."""
    _npy_run(FASTMLP_NPY_TANH, x, n)
