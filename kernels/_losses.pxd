# cython: language_level=3
"""Per-element data losses of the output layer, one inline formula each.

Design: like the activations, each loss is one small inline function of one
element over ``floating``, dispatched on an integer code, and the array loop
(``output_loss_delta`` in ``_train``) is built from it. The formulas are
those of ``numpy_engine.LOSSES`` (scikit-learn's), including the clip of p
to [eps, 1 - eps] before the logs of the log losses; where the output
activation is the loss's canonical link the term is computed from the
pre-activation z instead of from p, which loses nothing to the rounding of p
(logistic: log p = -log1pexp(-z), log(1 - p) = -log1pexp(z), clamped to the
logs of the clip bounds, which is exactly the clip since log is monotone;
exp: log p = z). For softmax the plain log(clip(p)) is already as accurate as
a log-softmax: the clip puts a floor at log(eps), above which p has a
relative error of a few ulps, i.e. log p an absolute error of a few ulps.

The codes are shared with Python through ``LOSS_CODES`` in ``_train``.
"""

from cython cimport floating
from libc.float cimport DBL_EPSILON, FLT_EPSILON

from _activations cimport ACT_EXP, ACT_LOGISTIC, _log, log1pexp


cdef enum:
    LOSS_SQUARED_ERROR = 0
    LOSS_POISSON = 1
    LOSS_LOG = 2
    LOSS_BINARY_LOG = 3


cdef inline floating _eps(floating x) noexcept nogil:
    """Machine epsilon of x's type (np.finfo(dtype).eps)."""
    if floating is float:
        return FLT_EPSILON
    else:
        return DBL_EPSILON


cdef inline floating _clip(floating p, floating lo, floating hi) noexcept nogil:
    # nan passes through, as with np.clip.
    if p < lo:
        return lo
    if p > hi:
        return hi
    return p


cdef inline floating loss_term(
    floating y,             # IN: target
    floating p,             # IN: output activation
    floating z,             # IN: output pre-activation (unused for softmax)
    int out_code,           # IN: ACT_* code of the output activation
    int loss_code,          # IN: LOSS_* code
) noexcept nogil:
    """The loss of one element, before the (weighted) average over rows.

    squared_error: (y - p)^2 (the caller applies 0.5 and the mean over
    outputs); poisson: xlogy(y, y / p) - y + p; log_loss: -xlogy(y, pc);
    binary_log_loss: -(xlogy(y, pc) + xlogy(1 - y, 1 - pc)), with
    pc = clip(p, eps, 1 - eps) and xlogy(0, .) = 0.
    """
    # A typed 1: Cython writes a bare literal 1 as the C double 1.0, which
    # would carry float32 arithmetic out to double.
    cdef floating one = 1
    cdef floating eps = _eps(y)
    cdef floating d, xl, lp, l1mp, pc
    if loss_code == LOSS_SQUARED_ERROR:
        d = y - p
        return d * d
    if loss_code == LOSS_POISSON:
        xl = 0
        if y != 0:
            if out_code == ACT_EXP:
                xl = y * (_log(y) - z)      # log(y / p) with p = exp(z)
            else:
                xl = y * _log(y / p)
        return xl - y + p
    if loss_code == LOSS_LOG:
        if y == 0:
            return 0
        return -(y * _log(_clip(p, eps, one - eps)))
    # LOSS_BINARY_LOG
    if out_code == ACT_LOGISTIC:
        lp = _clip(-log1pexp(-z), _log(eps), _log(one - eps))
        l1mp = _clip(-log1pexp(z), _log(eps), _log(one - eps))
    else:
        pc = _clip(p, eps, one - eps)
        lp = _log(pc)
        l1mp = _log(one - pc)
    xl = 0
    if y != 0:
        xl = y * lp
    if one - y != 0:
        xl = xl + (one - y) * l1mp
    return -xl
