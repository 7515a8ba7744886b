"""The operations of a network, one table per kind: hidden activations and
output/loss pairs.

Design: each operation is one entry, the single source of its name (what the
parameter constraints accept), its integer code in the compiled kernels, its
NumPy reference (scikit-learn's formula, operation by operation: the numpy
engine runs it, and the tests hold every other engine to it), whether its
derivative needs the pre-activation, and its Glorot factor. Tests
parametrize over these tables. The codes are the kernels' own (the enums of
kernels/_activations.pxd and kernels/_losses.pxd); ``check_kernel_codes``
compares them with the tables when the kernels load and refuses to run on
any mismatch, so an operation added on one side only fails loudly.

Modelled on scikit-learn's string-keyed tables (sklearn/neural_network/
_base.py) and on sklearn/_loss, where a loss and its link are one object:
only the canonical output/loss pairs exist here, for each of which the
gradient of the loss with respect to the output pre-activation is P - Y.
"""

from dataclasses import dataclass
from typing import Callable

import numpy as np
from scipy.special import erfc, expit, xlogy


@dataclass(frozen=True)
class HiddenActivation:
    """An activation of the hidden layers."""

    name: str
    code: int                  # the kernels' ACT_* code
    apply: Callable            # apply(Z): Z = act(Z), in place
    derivative: Callable       # derivative(A, delta): delta *= act'(z), from A = act(z)
    glorot_factor: float = 6.0   # uniform init bound sqrt(factor / (fan_in + fan_out))
    needs_preactivation: bool = False   # derivative needs z, not only act(z)


@dataclass(frozen=True)
class OutputLoss:
    """An output activation with its canonical loss."""

    name: str                  # the loss's name in the kernels and engines
    activation: str            # the output activation (out_activation_)
    activation_code: int       # the kernels' ACT_* code of the activation
    loss_code: int             # the kernels' LOSS_* code
    apply: Callable            # apply(Z): Z = out(Z), in place
    loss: Callable             # loss(Y, P, sample_weight): the weighted data loss


# --------------------------------------------------------- NumPy references

LEAKY_RELU_SLOPE = 0.01   # the kernels' LEAKY_RELU_SLOPE (_activations.pxd)
SQRT1_2 = 0.7071067811865476        # 1 / sqrt(2)
INV_SQRT_2PI = 0.3989422804014327   # 1 / sqrt(2 pi)


def _identity(Z):
    pass


def _logistic(Z):
    expit(Z, out=Z)


def _tanh(Z):
    np.tanh(Z, out=Z)


def _relu(Z):
    np.maximum(Z, 0, out=Z)


def _exp(Z):
    np.exp(Z, out=Z)


def _softmax(Z):
    Z -= Z.max(axis=1)[:, np.newaxis]
    np.exp(Z, out=Z)
    Z /= Z.sum(axis=1)[:, np.newaxis]


def _leaky_relu(Z):
    # z where z > 0, else 0.01 z (a NaN stays NaN).
    np.multiply(Z, LEAKY_RELU_SLOPE, out=Z, where=~(Z > 0))


def _elu(Z):
    # z where z > 0, else exp(z) - 1 (expm1: exact near 0).
    np.expm1(Z, out=Z, where=~(Z > 0))


def _gelu(Z):
    # Exact: z Phi(z), the normal CDF as erfc(-z / sqrt 2) / 2, which keeps
    # its relative accuracy in the left tail (1 + erf(.) would cancel).
    Z *= 0.5 * erfc(-Z * SQRT1_2)


def _silu(Z):
    # z sigmoid(z), with expit's 1 / (1 + exp(-z)): no overflow.
    Z *= expit(Z)


def _identity_derivative(A, delta):
    pass


def _logistic_derivative(A, delta):
    delta *= A
    delta *= 1 - A


def _tanh_derivative(A, delta):
    delta *= 1 - A**2


def _relu_derivative(A, delta):
    delta[A == 0] = 0


def _leaky_relu_derivative(A, delta):
    # The slope wherever the output is not positive (z = 0 included, as
    # PyTorch's), from the output: its sign is z's.
    np.multiply(delta, LEAKY_RELU_SLOPE, out=delta, where=~(A > 0))


def _elu_derivative(Z, delta):
    # From the pre-activation: exp(z) where z <= 0, exp(0) = 1 above (and
    # no overflow); the output's exp(z) - 1 + 1 would lose exp(z)'s bits.
    delta *= np.exp(np.minimum(Z, 0))


def _gelu_derivative(Z, delta):
    # Phi(z) + z phi(z), from the pre-activation.
    with np.errstate(over="ignore"):      # z * z of |z| > 1e154: phi is 0
        pdf = np.exp(-0.5 * Z * Z) * INV_SQRT_2PI
    delta *= 0.5 * erfc(-Z * SQRT1_2) + Z * pdf


def _silu_derivative(Z, delta):
    # s (1 + z (1 - s)), s = sigmoid(z), from the pre-activation.
    s = expit(Z)
    delta *= s * (1 + Z * (1 - s))


def _squared_error(Y, P, sample_weight):
    return 0.5 * np.average((Y - P) ** 2, weights=sample_weight, axis=0).mean()


def _poisson(Y, P, sample_weight):
    # Half the Poisson deviance.
    return np.average(
        xlogy(Y, Y / P) - Y + P, weights=sample_weight, axis=0
    ).sum()


def _log_loss(Y, P, sample_weight):
    eps = np.finfo(P.dtype).eps
    P = np.clip(P, eps, 1 - eps)
    return -np.average(xlogy(Y, P), weights=sample_weight, axis=0).sum()


def _binary_log_loss(Y, P, sample_weight):
    eps = np.finfo(P.dtype).eps
    P = np.clip(P, eps, 1 - eps)
    return -np.average(
        xlogy(Y, P) + xlogy(1 - Y, 1 - P), weights=sample_weight, axis=0
    ).sum()


# ------------------------------------------------------------------ tables

HIDDEN_ACTIVATIONS = {a.name: a for a in (
    HiddenActivation("identity", 0, _identity, _identity_derivative),
    HiddenActivation("logistic", 1, _logistic, _logistic_derivative, glorot_factor=2.0),
    HiddenActivation("tanh", 2, _tanh, _tanh_derivative),
    HiddenActivation("relu", 3, _relu, _relu_derivative),
    HiddenActivation("leaky_relu", 6, _leaky_relu, _leaky_relu_derivative),
    HiddenActivation("elu", 7, _elu, _elu_derivative, needs_preactivation=True),
    HiddenActivation("gelu", 8, _gelu, _gelu_derivative, needs_preactivation=True),
    HiddenActivation("silu", 9, _silu, _silu_derivative, needs_preactivation=True),
)}

OUTPUT_LOSSES = {o.name: o for o in (
    OutputLoss("squared_error", "identity", 0, 0, _identity, _squared_error),
    OutputLoss("poisson", "exp", 4, 1, _exp, _poisson),
    OutputLoss("log_loss", "softmax", 5, 2, _softmax, _log_loss),
    OutputLoss("binary_log_loss", "logistic", 1, 3, _logistic, _binary_log_loss),
)}

# Every activation by name, hidden or output: the codes the kernels take.
ACTIVATION_CODES = {
    **{a.name: a.code for a in HIDDEN_ACTIVATIONS.values()},
    **{o.activation: o.activation_code for o in OUTPUT_LOSSES.values()},
}
LOSS_CODES = {o.name: o.loss_code for o in OUTPUT_LOSSES.values()}


def hidden_activation_names(activation, n_hidden):
    """The activation of each of ``n_hidden`` hidden layers, by name:
    ``activation`` is one name for all of them, or one name per layer (a
    ValueError when their number is not ``n_hidden``)."""
    if isinstance(activation, str):
        return (activation,) * n_hidden
    if len(activation) != n_hidden:
        raise ValueError(
            f"activation has {len(activation)} names for {n_hidden} hidden "
            f"layer(s); give one per entry of hidden_layer_sizes, or one str.")
    return tuple(activation)


def output_loss(loss, out_activation):
    """The OutputLoss of an estimator's ``loss`` parameter and its
    ``out_activation_`` (log_loss on one logistic output is binary)."""
    if loss == "log_loss" and out_activation == "logistic":
        return OUTPUT_LOSSES["binary_log_loss"]
    entry = OUTPUT_LOSSES[loss]
    if entry.activation != out_activation:
        raise ValueError(f"loss {loss!r} does not pair with output {out_activation!r}")
    return entry


def check_kernel_codes(activation_codes, loss_codes, hidden_derivative_codes):
    """Refuse kernels whose codes are not the tables': the arguments are
    the kernels' own name -> code maps and the codes their hidden-layer
    derivative handles. Raises ImportError naming every mismatch."""
    problems = []
    for kind, ours, theirs in (("activation", ACTIVATION_CODES, activation_codes),
                               ("loss", LOSS_CODES, loss_codes)):
        for name in sorted(set(ours) | set(theirs)):
            if ours.get(name) != theirs.get(name):
                problems.append(f"{kind} {name!r}: table code {ours.get(name)}, "
                                f"kernel code {theirs.get(name)}")
    for activation in HIDDEN_ACTIVATIONS.values():
        if activation.code not in hidden_derivative_codes:
            problems.append(f"hidden activation {activation.name!r}: the kernels have "
                            f"no derivative for code {activation.code}")
    if problems:
        raise ImportError("fastmlp's compiled kernels do not match fastmlp/_operations.py "
                          "(rebuild them): " + "; ".join(problems))
