# cython: language_level=3, boundscheck=False, wraparound=False
# cython: cdivision=True, initializedcheck=False, nonecheck=False
# distutils: extra_compile_args = -ffp-contract=off -fopenmp-simd
"""Forward-pass kernels used by inference (predict, predict_proba).

Design: one layer is ``out = act(A @ W + b)``: a GEMM through BLAS into the
caller's ``out`` buffer, then a single fused pass that adds the bias and
applies the activation (row-wise for softmax; that pass lives in
``_layers.pxd``, shared with the training kernels). Kernels never allocate; the
Python funnel in ``fastmlp/_inference.py`` validates, fixes dtype and layout
and allocates. float32 and float64 share one source through ``floating``.
"""

from cython cimport floating

from _activations cimport activation_codes
from _bf16 cimport fastmlp_bf16_gemm
from _blas cimport fastmlp_have_cblas, fastmlp_set_cblas, gemm
# The fused pass is shared with the training kernels (_train): one source.
from _layers cimport bias_activation as _bias_activation
from _npy_loops cimport FASTMLP_NPY_EXP, FASTMLP_NPY_TANH, fastmlp_set_npy_loop

# Keyed by the names of fastmlp/_operations.py, which checks them.
ACTIVATION_CODES = activation_codes()


def bias_activation(floating[:, ::1] z, const floating[::1] b, int code):
    """In place: ``z = act(z + b)`` (z is OUT, b is IN)."""
    if z.shape[1] != b.shape[0]:
        raise ValueError(
            f"bias has {b.shape[0]} entries for {z.shape[1]} columns")
    if z.shape[0] == 0:
        return
    with nogil:
        _bias_activation(&z[0, 0], &b[0], z.shape[0], z.shape[1], code)


cdef extern from "_finite.h" nogil:
    bint fastmlp_all_finite_f32(const float *x, Py_ssize_t n)
    bint fastmlp_all_finite_f64(const double *x, Py_ssize_t n)


def dense_layer(
    const floating[:, ::1] a,
    const floating[:, ::1] w,
    const floating[::1] b,
    floating[:, ::1] out,
    int code,
    bint check_finite=False,
    bint bf16=False,
):
    """``out = act(a @ w + b)`` (a, w, b are IN; out is OUT).

    With ``bf16`` (float32; the caller has checked the CPU's support), the
    GEMM takes a's and w's entries rounded to bfloat16 and sums in float32.

    With ``check_finite``, a holding a NaN or an infinity computes nothing
    and returns False (the caller raises); otherwise returns True. The check
    reads a just before the GEMM does, so a is read from memory once.
    """
    cdef Py_ssize_t m = a.shape[0], k = a.shape[1], n = w.shape[1]
    cdef bint finite = True
    if w.shape[0] != k or b.shape[0] != n or out.shape[0] != m \
            or out.shape[1] != n:
        raise ValueError(
            f"shapes do not chain: a ({m}, {k}), "
            f"w ({w.shape[0]}, {n}), b ({b.shape[0]},), "
            f"out ({out.shape[0]}, {out.shape[1]})")
    if m == 0:
        return True
    with nogil:
        if check_finite:
            if floating is float:
                finite = fastmlp_all_finite_f32(&a[0, 0], m * k)
            else:
                finite = fastmlp_all_finite_f64(&a[0, 0], m * k)
        if finite:
            if floating is float:
                if not bf16 or fastmlp_bf16_gemm(
                        False, False, <int> m, <int> n, <int> k, &a[0, 0], <int> k,
                        &w[0, 0], <int> n, &out[0, 0], <int> n) != 0:
                    gemm(False, False, <int> m, <int> n, <int> k, <floating> 1.0,
                         &a[0, 0], <int> k, &w[0, 0], <int> n, <floating> 0.0,
                         &out[0, 0], <int> n)
            else:
                gemm(False, False, <int> m, <int> n, <int> k, <floating> 1.0,
                     &a[0, 0], <int> k, &w[0, 0], <int> n, <floating> 0.0,
                     &out[0, 0], <int> n)
            _bias_activation(&out[0, 0], &b[0], m, n, code)
    return finite


include "_cblas_setters.pxi"
include "_npy_loops.pxi"
