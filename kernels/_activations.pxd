# cython: language_level=3, cdivision=True
"""Activation functions and their derivatives, one per-element formula each.

Design: each function is written once as a small ``inline`` function of one
value over the ``floating`` fused type; the array loops in the kernels are
built from these and dispatch on an integer code, so the compiled variants
stay few (one per dtype, not one per activation). Derivatives are taken from
the activation's *output*, as scikit-learn does, so the forward buffers are
all backprop needs.

The codes are shared with Python through ``ACTIVATION_CODES`` in ``_forward``.
"""

from libc.math cimport exp, expf, log, logf
from cython cimport floating


cdef enum:
    ACT_IDENTITY = 0
    ACT_LOGISTIC = 1
    ACT_TANH = 2
    ACT_RELU = 3
    ACT_EXP = 4
    ACT_SOFTMAX = 5


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


cdef inline floating _log(floating x) noexcept nogil:
    if floating is float:
        return logf(x)
    else:
        return log(x)


cdef inline floating times_derivative(
    floating delta, floating out, int code
) noexcept nogil:
    """delta * (d activation / dz), from the activation's output ``out``.

    The operation order is the NumPy reference's (numpy_engine.DERIVATIVES),
    so float64 results are bit-identical: logistic is (delta * out) * (1 - out)
    and relu zeroes delta where out == 0 (even an inf or nan delta).
    Identity, and codes with no hidden-layer derivative, leave delta as is.
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
