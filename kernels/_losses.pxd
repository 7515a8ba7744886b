# cython: language_level=3, cdivision=True
"""Per-element data losses of the output layer, one inline formula each.

Design: like the activations, each loss is one small inline function of one
element over ``floating``, dispatched on an integer code, and the array loop
(``output_loss_delta`` in ``_train``) is built from it. The formulas are
scikit-learn's (``sklearn/neural_network/_base.py``, and
``numpy_engine.LOSSES``), operation by operation and from the output
activation p alone, so that float64 gives its bits: the clip of p to
[eps, 1 - eps] before the logs of the log losses, then log(1 - p) from the
clipped p, and the Poisson log(y / p) as a log of the quotient. (Computing
the log losses from the pre-activation, as log1p(exp(.)), would be more
accurate for saturated outputs, and far from scikit-learn's numbers
there.) scipy's ``xlogy(x, y)`` is 0 where x is
0, unless y is NaN.

The codes are shared with Python through ``LOSS_CODES`` in ``_train``.
"""

from cython cimport floating
from libc.float cimport DBL_EPSILON, FLT_EPSILON

from _activations cimport _log


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


cdef inline double xlogy(double x, double y) noexcept nogil:
    """scipy.special.xlogy: x * log(y), and 0 where x == 0 and y is no NaN."""
    if x == 0 and y == y:
        return 0
    return x * _log(y)


cdef inline double loss_term(
    double y,               # IN: target
    floating p,             # IN: output activation, in the model's dtype
    int loss_code,          # IN: LOSS_* code
) noexcept nogil:
    """The loss of one element, as scikit-learn forms it before the
    (weighted) average over rows.

    squared_error: (y - p)^2 (the caller applies 0.5 and the mean over
    outputs); poisson: xlogy(y, y / p) - y + p; log_loss: xlogy(y, pc);
    binary_log_loss: xlogy(y, pc) + xlogy(1 - y, 1 - pc), with
    pc = clip(p, eps, 1 - eps). The log losses are the negated sums of
    their terms: the caller negates.

    The arithmetic is double's whatever p's type, as with scikit-learn's
    float64 targets (and numpy_engine, which takes the loss against float64
    targets): a float32 model's loss must not overflow where the float64
    one is finite. What scikit-learn does in p's own type stays in it: the
    clip, with that type's epsilon, and 1 - pc.
    """
    # A typed 1: Cython writes a bare literal 1 as the C double 1.0, which
    # would carry the float32 1 - pc out to double.
    cdef floating one = 1
    cdef floating eps = _eps(p)
    cdef floating pc
    cdef double d
    if loss_code == LOSS_SQUARED_ERROR:
        d = y - p
        return d * d
    if loss_code == LOSS_POISSON:
        return xlogy(y, y / p) - y + p
    pc = _clip(p, eps, one - eps)
    if loss_code == LOSS_LOG:
        return xlogy(y, pc)
    # LOSS_BINARY_LOG
    return xlogy(y, pc) + xlogy(1.0 - y, <floating>(one - pc))
