# cython: language_level=3, cdivision=True
"""Activation functions and their derivatives, one per-element formula each.

Design: each function is written once as a small ``inline`` function of one
value over the ``floating`` fused type; the array loops in the kernels are
built from these and dispatch on an integer code, so the compiled variants
stay few (one per dtype, not one per activation). Derivatives are taken from
the activation's *output* where it determines them (scikit-learn's four), so
the forward buffers are all backprop needs; an activation whose derivative
needs the pre-activation z says so in its table entry
(``needs_preactivation``, fastmlp/_operations.py), and the engines then keep
z and hand it to ``times_derivative`` in place of the output.

Adding an activation touches this file only, of the kernels: its code in the
enum, its formula in ``activate`` (or a block loop in _layers.pxd), its
derivative in ``times_derivative``, and its name in ``activation_codes`` and
``hidden_derivative_codes``, which fastmlp/_operations.py checks against its
table when the kernels load.
"""

from libc.math cimport erfc, erfcf, exp, expf, expm1, expm1f, log, logf
from cython cimport floating


DEF LEAKY_RELU_SLOPE = 0.01   # fastmlp/_operations.py's LEAKY_RELU_SLOPE
DEF SQRT1_2 = 0.7071067811865476        # 1 / sqrt(2)
DEF INV_SQRT_2PI = 0.3989422804014327   # 1 / sqrt(2 pi)


cdef enum:
    ACT_IDENTITY = 0
    ACT_LOGISTIC = 1
    ACT_TANH = 2
    ACT_RELU = 3
    ACT_EXP = 4
    ACT_SOFTMAX = 5
    # Hidden-only activations follow the output ones.
    ACT_LEAKY_RELU = 6
    ACT_ELU = 7
    ACT_GELU = 8
    ACT_SILU = 9


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
    """act(x) for the activations computed one element at a time (tanh, exp
    and softmax run as blocks through NumPy's loops: _layers.pxd)."""
    if code == ACT_RELU:
        return relu(x)
    if code == ACT_LOGISTIC:
        return logistic(x)
    if code == ACT_LEAKY_RELU:
        return leaky_relu(x)
    if code == ACT_ELU:
        return elu(x)
    if code == ACT_GELU:
        return gelu(x)
    if code == ACT_SILU:
        return x * logistic(x)     # x sigmoid(x): no overflow
    return x


cdef inline dict activation_codes():
    """Every activation's code by its name in fastmlp/_operations.py."""
    return {
        "identity": ACT_IDENTITY,
        "logistic": ACT_LOGISTIC,
        "tanh": ACT_TANH,
        "relu": ACT_RELU,
        "exp": ACT_EXP,
        "softmax": ACT_SOFTMAX,
        "leaky_relu": ACT_LEAKY_RELU,
        "elu": ACT_ELU,
        "gelu": ACT_GELU,
        "silu": ACT_SILU,
    }


cdef inline frozenset hidden_derivative_codes():
    """The codes ``times_derivative`` has a derivative for."""
    return frozenset({ACT_IDENTITY, ACT_LOGISTIC, ACT_TANH, ACT_RELU,
                      ACT_LEAKY_RELU, ACT_ELU, ACT_GELU, ACT_SILU})


cdef inline floating leaky_relu(floating x) noexcept nogil:
    # x where x > 0, else LEAKY_RELU_SLOPE x (in x's type): a NaN stays NaN.
    if x > 0:
        return x
    return <floating> LEAKY_RELU_SLOPE * x


cdef inline floating elu(floating x) noexcept nogil:
    # x where x > 0, else exp(x) - 1 through expm1 (exact near 0).
    if x > 0:
        return x
    if floating is float:
        return expm1f(x)
    else:
        return expm1(x)


cdef inline floating _erfc(floating x) noexcept nogil:
    if floating is float:
        return erfcf(x)
    else:
        return erfc(x)


cdef inline floating gelu(floating x) noexcept nogil:
    """x Phi(x), Phi(x) = erfc(-x / sqrt 2) / 2: exact, and accurate in the
    left tail, where 1 + erf(.) would cancel."""
    cdef floating half = 0.5
    return x * (half * _erfc(-x * <floating> SQRT1_2))


cdef inline floating gelu_derivative(floating z) noexcept nogil:
    """Phi(z) + z phi(z)."""
    cdef floating half = 0.5
    cdef floating pdf = _exp(-half * z * z) * <floating> INV_SQRT_2PI
    return half * _erfc(-z * <floating> SQRT1_2) + z * pdf


cdef inline floating silu_derivative(floating z) noexcept nogil:
    """s (1 + z (1 - s)), s = sigmoid(z)."""
    cdef floating one = 1
    cdef floating s = logistic(z)
    return s * (one + z * (one - s))


cdef inline floating _log(floating x) noexcept nogil:
    if floating is float:
        return logf(x)
    else:
        return log(x)


cdef inline floating times_derivative(
    floating delta, floating out, int code
) noexcept nogil:
    """delta * (d activation / dz), from the activation's output ``out``
    (or, for an activation that needs it, from the pre-activation z).

    The operation order is the NumPy reference's (numpy_engine.DERIVATIVES),
    so float64 results are bit-identical: logistic is (delta * out) * (1 - out)
    and relu zeroes delta where out == 0 (even an inf or nan delta).
    Identity leaves delta as is; so do codes with no hidden-layer
    derivative, which the shims and fastmlp/_operations.py refuse.
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
    if code == ACT_LEAKY_RELU:
        # From the output, whose sign is z's; the slope at z = 0 too.
        return delta if out > 0 else delta * <floating> LEAKY_RELU_SLOPE
    if code == ACT_ELU:
        # ``out`` is the pre-activation z here: exp(z) where z <= 0.
        return delta if out > 0 else delta * _exp(out)
    if code == ACT_GELU:
        return delta * gelu_derivative(out)      # out is z
    if code == ACT_SILU:
        return delta * silu_derivative(out)      # out is z
    return delta
