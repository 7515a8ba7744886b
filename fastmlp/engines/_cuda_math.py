"""The CUDA engine's per-element arithmetic, written once as plain Python.

``make_math(dtype, jit)`` returns the functions of one dtype compiled by
``jit``: ``numba.cuda.jit(device=True)`` for the kernels, or ``numba.njit``
so that the tests can compile them on a CPU and check their types (Numba's
CUDA simulator runs Python and infers no types, so a float32 function that
slips into float64 would pass there unseen). Every constant is of the
function's dtype, and integer hashing runs on uint64 masked to 32 bits:
Numba widens small integers, and mixing signed and unsigned 64-bit integers
gives a float.

Each formula is the NumPy reference's (fastmlp/_operations.py,
fastmlp/_optimizers.py, fastmlp/_dropout.py), operation by operation and
in the same order, so that float64 follows the numpy engine to rounding.
"""

import math

import numba
import numpy as np

from .. import _dropout
from .._operations import LEAKY_RELU_SLOPE, SQRT1_2, INV_SQRT_2PI
from .._optimizers import KERNEL_ADAM, KERNEL_ADAMW, KERNEL_RMSPROP, KERNEL_SGD
from .._operations import ACTIVATION_CODES, LOSS_CODES

_U64 = np.uint64
MASK32 = _U64(0xFFFFFFFF)


def make_math(dtype, jit):
    """The element functions for ``dtype`` (float32 or float64), compiled
    by ``jit``; a namespace of them."""
    dtype = np.dtype(dtype)
    T = numba.float32 if dtype == np.float32 else numba.float64
    F = dtype.type
    zero, one, half = F(0), F(1), F(0.5)
    slope, sqrt1_2, inv_sqrt_2pi = F(LEAKY_RELU_SLOPE), F(SQRT1_2), F(INV_SQRT_2PI)
    eps = F(np.finfo(dtype).eps)
    one_minus_eps = F(1) - eps
    identity, logistic, tanh_, relu, exp_ = (
        ACTIVATION_CODES[n] for n in ("identity", "logistic", "tanh", "relu", "exp"))
    leaky, elu, gelu, silu = (
        ACTIVATION_CODES[n] for n in ("leaky_relu", "elu", "gelu", "silu"))
    squared, poisson, log_loss, binary = (
        LOSS_CODES[n] for n in ("squared_error", "poisson", "log_loss", "binary_log_loss"))
    g64, g32 = _U64(_dropout.GOLDEN64), _U64(_dropout.GOLDEN32)
    m1, m2 = _U64(0xBF58476D1CE4E5B9), _U64(0x94D049BB133111EB)
    h1, h2 = _U64(0x85EBCA6B), _U64(0xC2B2AE35)
    s30, s27, s31, s32 = _U64(30), _U64(27), _U64(31), _U64(32)
    s16, s13 = _U64(16), _U64(13)
    u1 = _U64(1)

    @jit
    def expit(z):
        return one / (one + math.exp(-z))

    @jit
    def activate(code, z):
        """act(z) for a hidden activation or the elementwise outputs."""
        if code == relu:
            return zero if z < zero else z
        if code == identity:
            return z
        if code == tanh_:
            return math.tanh(z)
        if code == logistic:
            return expit(z)
        if code == exp_:
            return math.exp(z)
        if code == leaky:
            return z if z > zero else z * slope
        if code == elu:
            return z if z > zero else math.expm1(z)
        if code == gelu:
            return z * (half * math.erfc(-z * sqrt1_2))
        # silu
        return z * expit(z)

    @jit
    def derivative(code, s, delta):
        """delta times act'(z), from s: the pre-activation z where the
        activation needs it (elu, gelu, silu), else the output act(z)."""
        if code == relu:
            return zero if s == zero else delta
        if code == identity:
            return delta
        if code == tanh_:
            return delta * (one - s * s)
        if code == logistic:
            return delta * s * (one - s)
        if code == leaky:
            return delta if s > zero else delta * slope
        if code == elu:
            return delta * math.exp(min(s, zero))
        if code == gelu:
            pdf = math.exp(-half * s * s) * inv_sqrt_2pi
            return delta * (half * math.erfc(-s * sqrt1_2) + s * pdf)
        # silu
        e = expit(s)
        return delta * (e * (one + s * (one - e)))

    @jit
    def xlogy(x, y):
        return 0.0 if x == 0.0 else x * math.log(y)

    @jit
    def loss_term(code, y, p):
        """One output's term of a row's loss, in float64 (a row's loss is
        their sum; squared error's is later halved and averaged over the
        outputs, as the reference's mean)."""
        if code == squared:
            d = y - numba.float64(p)
            return d * d
        if code == poisson:
            return xlogy(y, y / numba.float64(p)) - y + numba.float64(p)
        q = numba.float64(min(max(p, eps), one_minus_eps))
        if code == log_loss:
            return -xlogy(y, q)
        return -(xlogy(y, q) + xlogy(1.0 - y, 1.0 - q))

    @jit
    def mix64(z):
        z = (z ^ (z >> s30)) * m1
        z = (z ^ (z >> s27)) * m2
        return z ^ (z >> s31)

    @jit
    def layer_key(seed, step, layer):
        """_dropout.layer_key, on uint64 (``step`` and ``layer`` ints)."""
        z = mix64(seed + g64 * (numba.uint64(step) + u1))
        z = mix64(z + g64 * (numba.uint64(layer) + u1))
        return z >> s32

    @jit
    def kept(key, i, threshold):
        """Whether element ``i`` of the block is kept (_dropout.keep_mask)."""
        h = (numba.uint64(i) * g32 + key) & MASK32
        h ^= h >> s16
        h = (h * h1) & MASK32
        h ^= h >> s13
        h = (h * h2) & MASK32
        h ^= h >> s16
        return h >= threshold

    @jit
    def step_rate(code, rate, beta_1, beta_2, t):
        """_optimizers.step_rate, in float64 (t: the step being taken)."""
        if code == KERNEL_ADAM or code == KERNEL_ADAMW:
            tf = numba.float64(t)
            return rate * math.sqrt(1.0 - beta_2 ** tf) / (1.0 - beta_1 ** tf)
        return rate

    @jit
    def optimizer_step(code, p, g, a, b, rate, hyper, decays):
        """One parameter's step: (new p, new state a, new state b), as the
        optimizers' NumPy ``step``; ``rate`` is step_rate's (float64),
        ``decays`` whether AdamW decays this entry (a coefficient)."""
        if code == KERNEL_SGD:
            momentum = T(hyper[0])
            scaled = T(rate) * g
            a = a * momentum - scaled
            if hyper[1] != 0.0:           # Nesterov
                return p + (momentum * a - scaled), a, b
            return p + a, a, b
        if code == KERNEL_RMSPROP:
            rho = T(hyper[0])
            b = b * rho + T(1.0 - hyper[0]) * (g * g)
            return p + (T(-rate) * g) / (math.sqrt(b) + T(hyper[1])), a, b
        # Adam, AdamW (whose decay comes first, from the undecayed p's
        # gradient g)
        if code == KERNEL_ADAMW and decays:
            p = p - T(hyper[3]) * p
        a = a * T(hyper[0]) + T(1.0 - hyper[0]) * g
        b = b * T(hyper[1]) + T(1.0 - hyper[1]) * (g * g)
        return p + (T(-rate) * a) / (math.sqrt(b) + T(hyper[2])), a, b

    return _Namespace(expit=expit, activate=activate, derivative=derivative,
                      loss_term=loss_term, layer_key=layer_key, kept=kept,
                      step_rate=step_rate, optimizer_step=optimizer_step,
                      dtype=dtype, T=T)


class _Namespace:
    def __init__(self, **items):
        self.__dict__.update(items)
