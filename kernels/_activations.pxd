# cython: language_level=3, cdivision=True
"""Activation functions and their derivatives, one per-element formula each.

Design: scikit-learn's activations are written here once each, as small
``inline`` functions of one value over the ``floating`` fused type; the
array loops in the kernels are built from these and dispatch on an integer
code, so the compiled variants stay few (one per dtype, not one per
activation). Their derivatives are taken from the activation's *output*,
as scikit-learn does, so the forward buffers are all backprop needs.

The codes, the names and the activations fastmlp adds (leaky_relu, elu,
gelu, silu: vector loops over libm, whose derivatives may need the
pre-activation z, as their table entries in fastmlp/_operations.py say)
live in _activations.h; ``activation_codes`` and
``hidden_derivative_codes`` read its tables, which fastmlp/_operations.py
checks against its own when the kernels load.
"""

from libc.math cimport exp, expf, log, logf
from cython cimport floating


cdef extern from "_activations.h" nogil:
    enum:
        ACT_IDENTITY
        ACT_LOGISTIC
        ACT_TANH
        ACT_RELU
        ACT_EXP
        ACT_SOFTMAX
    const char *FASTMLP_ACTIVATION_NAMES[]
    const int FASTMLP_HIDDEN_DERIVATIVE[]
    void fastmlp_activation_run_f32(float *z, Py_ssize_t n, int code)
    void fastmlp_activation_run_f64(double *z, Py_ssize_t n, int code)
    void fastmlp_derivative_run_f32(const float *src, float *delta, Py_ssize_t n,
                                    int code)
    void fastmlp_derivative_run_f64(const double *src, double *delta, Py_ssize_t n,
                                    int code)
    void fastmlp_bias_relu_f32(float *z, const float *b, Py_ssize_t n_rows,
                               Py_ssize_t n_cols)
    void fastmlp_bias_relu_f64(double *z, const double *b, Py_ssize_t n_rows,
                               Py_ssize_t n_cols)
    void fastmlp_derivative_sums_f32(const float *a, float *delta, Py_ssize_t n_rows,
                                     Py_ssize_t n_cols, Py_ssize_t lo, Py_ssize_t hi,
                                     int code, float *sums)
    void fastmlp_derivative_sums_f64(const double *a, double *delta, Py_ssize_t n_rows,
                                     Py_ssize_t n_cols, Py_ssize_t lo, Py_ssize_t hi,
                                     int code, double *sums)


cdef inline floating _exp(floating x) noexcept nogil:
    if floating is float:
        return expf(x)
    else:
        return exp(x)


cdef inline floating logistic(floating x) noexcept nogil:
    """1 / (1 + exp(-x)), scipy.special.expit's formula, so the same bits.

    For x below about -709 (float32: -88) exp(-x) overflows to inf and the
    result is 0, as it should be; no NaN arises for any x but NaN.
    """
    # A typed 1: Cython writes a bare literal 1 as the C double 1.0, which
    # would carry float32 arithmetic out to double.
    cdef floating one = 1
    return one / (one + _exp(-x))


cdef inline floating relu(floating x) noexcept nogil:
    # np.maximum(x, 0): a NaN passes through (a diverged layer must stay
    # diverged, not turn into zeros), and -0.0 gives +0.0.
    return 0 if x <= 0 else x


cdef inline floating activate(floating x, int code) noexcept nogil:
    """act(x) for scikit-learn's activations computed one element at a time
    (tanh, exp and softmax run as blocks through NumPy's loops; the added
    activations through ``activation_run``)."""
    if code == ACT_RELU:
        return relu(x)
    if code == ACT_LOGISTIC:
        return logistic(x)
    return x


cdef inline bint sklearns(int code) noexcept nogil:
    """Whether ``code`` is one of scikit-learn's activations (written here)."""
    return code <= ACT_SOFTMAX


cdef inline void activation_run(floating *z, Py_ssize_t n, int code) noexcept nogil:
    """z = act(z) over a run, for the activations fastmlp adds."""
    if floating is float:
        fastmlp_activation_run_f32(z, n, code)
    else:
        fastmlp_activation_run_f64(z, n, code)


cdef inline void derivative_run(const floating *src, floating *delta, Py_ssize_t n,
                                int code) noexcept nogil:
    """delta *= act'(z) over a run, for the activations fastmlp adds; src is
    what their table entry says (the output or the pre-activation)."""
    if floating is float:
        fastmlp_derivative_run_f32(src, delta, n, code)
    else:
        fastmlp_derivative_run_f64(src, delta, n, code)


cdef inline void bias_relu(floating *z, const floating *b, Py_ssize_t n_rows,
                           Py_ssize_t n_cols) noexcept nogil:
    """z = relu(z + b) over a block, as a vector loop (_activations.h)."""
    if floating is float:
        fastmlp_bias_relu_f32(z, b, n_rows, n_cols)
    else:
        fastmlp_bias_relu_f64(z, b, n_rows, n_cols)


cdef inline void derivative_sums_block(
    const floating *a, floating *delta, Py_ssize_t n_rows, Py_ssize_t n_cols,
    Py_ssize_t lo, Py_ssize_t hi, int code, floating *sums,
) noexcept nogil:
    """Columns [lo, hi): delta *= act'(z) from the output a, for scikit-
    learn's hidden activations, and sums = those columns' sums
    (_activations.h)."""
    if floating is float:
        fastmlp_derivative_sums_f32(a, delta, n_rows, n_cols, lo, hi, code, sums)
    else:
        fastmlp_derivative_sums_f64(a, delta, n_rows, n_cols, lo, hi, code, sums)


cdef inline dict activation_codes():
    """Every activation's code by its name in fastmlp/_operations.py."""
    cdef dict codes = {}
    cdef int code = 0
    while FASTMLP_ACTIVATION_NAMES[code] != NULL:
        codes[FASTMLP_ACTIVATION_NAMES[code].decode()] = code
        code += 1
    return codes


cdef inline frozenset hidden_derivative_codes():
    """The codes the hidden-layer derivative handles."""
    cdef list codes = []
    cdef int code
    for code in activation_codes().values():
        if FASTMLP_HIDDEN_DERIVATIVE[code]:
            codes.append(code)
    return frozenset(codes)


cdef inline floating _log(floating x) noexcept nogil:
    if floating is float:
        return logf(x)
    else:
        return log(x)


cdef inline floating times_derivative(
    floating delta, floating out, int code
) noexcept nogil:
    """delta * (d activation / dz), from the activation's output ``out``,
    for scikit-learn's activations.

    The operation order is the NumPy reference's (numpy_engine.DERIVATIVES),
    so float64 results are bit-identical: logistic is (delta * out) * (1 - out)
    and relu zeroes delta where out == 0 (even an inf or nan delta).
    Identity leaves delta as is; so do other codes.
    """
    # A typed 1: Cython writes a bare literal 1 as the C double 1.0, which
    # would carry float32 arithmetic out to double.
    cdef floating one = 1
    if code == ACT_RELU:
        return delta if out != 0 else 0
    if code == ACT_TANH:
        return delta * (one - out * out)
    if code == ACT_LOGISTIC:
        return delta * out * (one - out)
    return delta
