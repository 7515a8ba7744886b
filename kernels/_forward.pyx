# cython: language_level=3, boundscheck=False, wraparound=False
# cython: cdivision=True, initializedcheck=False, nonecheck=False
"""Forward-pass kernels used by inference (predict, predict_proba).

Design: one layer is ``out = act(A @ W + b)``: a GEMM through BLAS into the
caller's ``out`` buffer, then a single fused pass that adds the bias and
applies the activation (row-wise for softmax). Kernels never allocate; the
Python funnel in ``fastmlp/_inference.py`` validates, fixes dtype and layout
and allocates. float32 and float64 share one source through ``floating``.
"""

from cython cimport floating
from libc.math cimport INFINITY

from _activations cimport (
    ACT_EXP, ACT_IDENTITY, ACT_LOGISTIC, ACT_RELU, ACT_SOFTMAX, ACT_TANH,
    _exp, activate,
)
from _blas cimport gemm

ACTIVATION_CODES = {
    "identity": ACT_IDENTITY,
    "logistic": ACT_LOGISTIC,
    "tanh": ACT_TANH,
    "relu": ACT_RELU,
    "exp": ACT_EXP,
    "softmax": ACT_SOFTMAX,
}


cdef void _bias_activation(
    floating *z,            # IN/OUT: row-major n_rows x n_cols
    const floating *b,      # IN: n_cols
    Py_ssize_t n_rows,
    Py_ssize_t n_cols,
    int code,
) noexcept nogil:
    cdef Py_ssize_t i, j
    cdef floating *row
    cdef floating mx, total
    for i in range(n_rows):
        row = z + i * n_cols
        if code == ACT_SOFTMAX:
            mx = -INFINITY
            for j in range(n_cols):
                row[j] += b[j]
                if row[j] > mx:
                    mx = row[j]
            total = 0
            for j in range(n_cols):
                row[j] = _exp(row[j] - mx)
                total += row[j]
            for j in range(n_cols):
                row[j] /= total
        elif code == ACT_IDENTITY:
            for j in range(n_cols):
                row[j] += b[j]
        else:
            for j in range(n_cols):
                row[j] = activate(row[j] + b[j], code)


def bias_activation(floating[:, ::1] z, const floating[::1] b, int code):
    """In place: ``z = act(z + b)`` (z is OUT, b is IN)."""
    if z.shape[1] != b.shape[0]:
        raise ValueError(
            f"bias has {b.shape[0]} entries for {z.shape[1]} columns")
    if z.shape[0] == 0:
        return
    with nogil:
        _bias_activation(&z[0, 0], &b[0], z.shape[0], z.shape[1], code)


def dense_layer(
    const floating[:, ::1] a,
    const floating[:, ::1] w,
    const floating[::1] b,
    floating[:, ::1] out,
    int code,
):
    """``out = act(a @ w + b)`` (a, w, b are IN; out is OUT)."""
    cdef Py_ssize_t m = a.shape[0], k = a.shape[1], n = w.shape[1]
    if w.shape[0] != k or b.shape[0] != n or out.shape[0] != m \
            or out.shape[1] != n:
        raise ValueError(
            f"shapes do not chain: a ({m}, {k}), "
            f"w ({w.shape[0]}, {n}), b ({b.shape[0]},), "
            f"out ({out.shape[0]}, {out.shape[1]})")
    if m == 0:
        return
    with nogil:
        gemm(False, False, <int> m, <int> n, <int> k, <floating> 1.0,
             &a[0, 0], <int> k, &w[0, 0], <int> n, <floating> 0.0,
             &out[0, 0], <int> n)
        _bias_activation(&out[0, 0], &b[0], m, n, code)
