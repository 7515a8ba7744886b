# cython: language_level=3, cdivision=True
"""Row-wise layer operations shared by the inference and training kernels.

Design: the fused ``z = act(z + b)`` pass is written once, here, as an inline
function over ``floating``, so ``_forward`` (inference) and ``_train`` (the
kernels the Numba training loops call) compile the same logic and cannot
drift apart. Each activation gives scikit-learn's bits: relu and logistic
are fused with the bias in one pass (their formulas are scipy's and NumPy's
own); tanh, exp and softmax's exp run over the whole block through NumPy's
own loops (``_npy_loops``), after a pass that adds the bias, as
scikit-learn adds it before it calls the ufunc. Softmax is its own block
function because the training output kernel applies it without a bias (the
bias is already in z there).

A module that cimports this must ``include "_npy_loops.pxi"``.
"""

from cython cimport floating

from _activations cimport (
    ACT_EXP, ACT_IDENTITY, ACT_LOGISTIC, ACT_RELU, ACT_SOFTMAX, ACT_TANH,
    activate, activation_run, bias_relu, logistic, sklearns,
)
from _npy_loops cimport exp_run, tanh_run


cdef extern from "_pairwise.h" nogil:
    float fastmlp_pairwise_sum_f32(const float *a, Py_ssize_t n,
                                   Py_ssize_t stride)
    double fastmlp_pairwise_sum_f64(const double *a, Py_ssize_t n,
                                    Py_ssize_t stride)
    # Without the leading 0 +: the pairwise part, for sums built in pieces.
    double fastmlp_pairwise_sum_f64_block(const double *a, Py_ssize_t n,
                                          Py_ssize_t stride)


cdef inline floating pairwise_sum(
    const floating *a,      # IN: n entries, stride apart
    Py_ssize_t n,
    Py_ssize_t stride,
) noexcept nogil:
    """np.sum over the n entries, in NumPy's order (_pairwise.h)."""
    if floating is float:
        return fastmlp_pairwise_sum_f32(a, n, stride)
    else:
        return fastmlp_pairwise_sum_f64(a, n, stride)


cdef inline void softmax_block(
    floating *z,            # IN/OUT: row-major n_rows x n_cols
    Py_ssize_t n_rows,
    Py_ssize_t n_cols,
) noexcept nogil:
    """Each row = softmax(row), as scikit-learn's inplace_softmax: subtract
    the row maximum (no overflow), NumPy's exp, divide by the row's sum
    (NumPy's pairwise sum; a division, not a scaling by 1 / sum)."""
    cdef Py_ssize_t i, j
    cdef floating *row
    cdef floating mx, total, v
    cdef bint nan
    for i in range(n_rows):
        row = z + i * n_cols
        # The maximum without a branch per entry (a data-dependent branch
        # mispredicts about twice a row); np.max propagates a NaN, the
        # first one, so a row with one takes that one.
        mx = row[0]
        nan = row[0] != row[0]
        for j in range(1, n_cols):
            v = row[j]
            nan = nan | (v != v)
            mx = v if v > mx else mx
        if nan:
            for j in range(n_cols):
                if row[j] != row[j]:
                    mx = row[j]
                    break
        for j in range(n_cols):
            row[j] = row[j] - mx
    exp_run(z, n_rows * n_cols)
    for i in range(n_rows):
        row = z + i * n_cols
        total = pairwise_sum(row, n_cols, 1)
        for j in range(n_cols):
            row[j] /= total


cdef inline void activation_block(
    floating *z,            # IN/OUT: row-major n_rows x n_cols
    Py_ssize_t n_rows,
    Py_ssize_t n_cols,
    int code,               # IN: an ACT_* code
) noexcept nogil:
    """z = act(z) in place, as scikit-learn's ACTIVATIONS[...] (z)."""
    cdef Py_ssize_t i, n = n_rows * n_cols
    if code == ACT_TANH:
        tanh_run(z, n)
    elif code == ACT_EXP:
        exp_run(z, n)
    elif code == ACT_SOFTMAX:
        softmax_block(z, n_rows, n_cols)
    elif not sklearns(code):
        activation_run(z, n, code)
    elif code != ACT_IDENTITY:
        for i in range(n):
            z[i] = activate(z[i], code)


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
    if code == ACT_RELU:
        # A vector loop compiled per vector unit (_activations.h).
        bias_relu(z, b, n_rows, n_cols)
        return
    for i in range(n_rows):
        row = z + i * n_cols
        if code == ACT_LOGISTIC:
            for j in range(n_cols):
                row[j] = logistic(row[j] + b[j])
        else:
            for j in range(n_cols):
                row[j] += b[j]
    if code != ACT_LOGISTIC:
        activation_block(z, n_rows, n_cols, code)


cdef inline void bias_activation_to(
    floating *z,            # IN/OUT: row-major n_rows x n_cols
    const floating *b,      # IN: n_cols
    floating *out,          # OUT: n_rows x n_cols
    Py_ssize_t n_rows,
    Py_ssize_t n_cols,
    int code,               # IN: an ACT_* code; softmax is row-wise
) noexcept nogil:
    """out = act(z + b), keeping z = z + b: the pre-activation that some
    derivatives need (``needs_preactivation`` in fastmlp/_operations.py)."""
    cdef Py_ssize_t i, j
    cdef floating *row
    cdef floating *dst
    for i in range(n_rows):
        row = z + i * n_cols
        dst = out + i * n_cols
        for j in range(n_cols):
            row[j] += b[j]
            dst[j] = row[j]
    activation_block(out, n_rows, n_cols, code)
