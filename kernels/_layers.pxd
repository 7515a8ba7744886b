# cython: language_level=3
"""Row-wise layer operations shared by the inference and training kernels.

Design: the fused ``z = act(z + b)`` pass is written once, here, as an inline
function over ``floating``, so ``_forward`` (inference) and ``_train`` (the
kernels the Numba training loops call) compile the same logic and cannot
drift apart. Softmax is its own row function because the training output
kernel applies it without a bias (the bias is already in z there).
"""

from cython cimport floating
from libc.math cimport INFINITY

from _activations cimport ACT_IDENTITY, ACT_RELU, ACT_SOFTMAX, _exp, activate, relu


cdef inline void softmax_row(
    floating *row,          # IN/OUT: n entries
    Py_ssize_t n,
) noexcept nogil:
    """row = softmax(row), the row maximum subtracted first (no overflow)."""
    cdef Py_ssize_t j
    cdef floating mx = -INFINITY
    cdef floating total = 0
    for j in range(n):
        if row[j] > mx:
            mx = row[j]
    for j in range(n):
        row[j] = _exp(row[j] - mx)
        total += row[j]
    # Divide, as the NumPy reference does, rather than scale by 1 / total.
    for j in range(n):
        row[j] /= total


cdef inline void bias_activation(
    floating *z,            # IN/OUT: row-major n_rows x n_cols
    const floating *b,      # IN: n_cols
    Py_ssize_t n_rows,
    Py_ssize_t n_cols,
    int code,               # IN: an ACT_* code; softmax is row-wise
) noexcept nogil:
    """z = act(z + b) in place."""
    cdef Py_ssize_t i, j
    cdef floating *row
    for i in range(n_rows):
        row = z + i * n_cols
        if code == ACT_SOFTMAX:
            for j in range(n_cols):
                row[j] += b[j]
            softmax_row(row, n_cols)
        elif code == ACT_IDENTITY:
            for j in range(n_cols):
                row[j] += b[j]
        elif code == ACT_RELU:
            # Its own loop so that it compiles to vector max instructions
            # (the generic one below dispatches per element).
            for j in range(n_cols):
                row[j] = relu(row[j] + b[j])
        else:
            for j in range(n_cols):
                row[j] = activate(row[j] + b[j], code)
