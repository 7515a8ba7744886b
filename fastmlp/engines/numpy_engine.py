"""The pure-NumPy reference engine.

Short and plain on purpose: it is the oracle that every fast engine is tested
against and the baseline of every benchmark. Its arithmetic follows
scikit-learn's MLP operation by operation, so that in float64 both produce
the same training trajectory.
"""

import numpy as np
from sklearn.utils.extmath import safe_sparse_dot

from .. import _dropout
from .._bfloat16 import round_bf16, round_operand
from .._operations import HIDDEN_ACTIVATIONS, OUTPUT_LOSSES
from ._base import Engine, Trainer

# By name, from fastmlp/_operations.py: apply(Z) in place; derivative(S,
# delta) multiplies delta by d act / dz, from S the output (or, where the
# entry needs it, the pre-activation); loss(Y, P, sw).
ACTIVATIONS = {
    **{a.name: a.apply for a in HIDDEN_ACTIVATIONS.values()},
    **{o.activation: o.apply for o in OUTPUT_LOSSES.values()},
}
DERIVATIVES = {a.name: a.derivative for a in HIDDEN_ACTIVATIONS.values()}
LOSSES = {o.name: o.loss for o in OUTPUT_LOSSES.values()}


def _dot(a, b, network):
    """a @ b, sparse a included; for matmul_precision="bfloat16", of a and
    b rounded to bfloat16 (float32 products of them are exact: only the
    order of the float32 sums can differ from a bfloat16 kernel's)."""
    if network.matmul_precision == "bfloat16":
        a, b = round_operand(a), round_bf16(b)
    return safe_sparse_dot(a, b)


def forward(network, coefs, intercepts, X, masks=None):
    """All layer outputs ``[X, A_1, ..., A_out]`` of the network on X, and
    what each hidden layer's derivative is taken from (its pre-activation
    where its activation needs that, else its output). With ``masks`` (one
    per hidden layer), the hidden outputs are dropped out (the derivative's
    source is not)."""
    activations, sources = [X], []
    names = network.hidden_activations + (network.out_activation,)
    for i, (W, b, name) in enumerate(zip(coefs, intercepts, names)):
        Z = _dot(activations[-1], W, network)
        Z += b
        hidden = i < len(coefs) - 1
        pre = Z.copy() if hidden and HIDDEN_ACTIVATIONS[name].needs_preactivation else None
        ACTIVATIONS[name](Z)
        sources.append(Z if pre is None else pre)
        if hidden and masks is not None:
            Z = _dropout.apply(Z, masks[i], network.dropout)
        activations.append(Z)
    return activations, sources


def loss_and_gradient(network, params, X, Y, sample_weight, grad, dropout_seed=0,
                      step=0):
    """Loss (L2 term included) on (X, Y); its gradient is written to ``grad``.

    ``params`` and ``grad`` are flat buffers laid out by ``network.layout``.
    With ``network.dropout``, the masks are those of ``step`` (the
    optimizer's step this batch makes, 1-based) under ``dropout_seed``.
    """
    layout = network.layout
    coefs = layout.coef_views(params)
    intercepts = layout.intercept_views(params)
    coef_grads = layout.coef_views(grad)
    intercept_grads = layout.intercept_views(grad)
    alpha = network.alpha

    masks = None
    if network.dropout > 0:
        masks = [_dropout.keep_mask(dropout_seed, step, i, (X.shape[0], units),
                                    network.dropout)
                 for i, units in enumerate(network.layer_units[1:-1])]
    activations, sources = forward(network, coefs, intercepts, X, masks)
    # The loss in float64 whatever the network's dtype, as scikit-learn's
    # float64 (or integer) targets make it: a float32 model's loss can
    # overflow float32 where scikit-learn reports a finite one. The
    # predictions keep their dtype, so log-loss clips them as it does.
    # The L2 term too: squares of weights past 1.8e19 overflow float32, and
    # with alpha=0 scikit-learn's float32 0 * inf makes the loss NaN while
    # the weights are finite. (The cpu engine computes both the same way.)
    loss = LOSSES[network.loss](Y.astype(np.float64, copy=False), activations[-1],
                                sample_weight)
    l2 = 0
    for W in coefs:
        w = W.ravel().astype(np.float64, copy=False)
        l2 += np.dot(w, w)
    sw_sum = X.shape[0] if sample_weight is None else sample_weight.sum()
    loss += (0.5 * alpha) * l2 / sw_sum

    # For each canonical output/loss pair the gradient of the loss with
    # respect to the output layer's pre-activation is simply P - Y.
    delta = activations[-1] - Y
    if sample_weight is not None:
        delta *= sample_weight.reshape(-1, 1)
    hidden = network.hidden_activations
    for i in range(len(coefs) - 1, -1, -1):
        coef_grads[i][...] = _dot(activations[i].T, delta, network)
        coef_grads[i] += alpha * coefs[i]
        coef_grads[i] /= sw_sum
        intercept_grads[i][...] = np.sum(delta, axis=0) / sw_sum
        if i > 0:
            delta = _dot(delta, coefs[i].T, network)
            if masks is not None:
                delta = _dropout.apply(delta, masks[i - 1], network.dropout)
            DERIVATIVES[hidden[i - 1]](sources[i - 1], delta)
    return loss


class NumpyTrainer(Trainer):
    matmul_precisions = (None, "bfloat16")

    def __init__(self, network, X, Y, sample_weight):
        super().__init__(network, X, Y, sample_weight)
        self._grad = np.empty(network.layout.size, dtype=network.dtype)

    def run_epoch(self, order, batch_size):
        params, optimizer = self.params, self.optimizer
        n_samples = self.X.shape[0] if order is None else len(order)
        sw = self.sample_weight
        total = 0.0
        for start in range(0, n_samples, batch_size):
            stop = min(start + batch_size, n_samples)
            rows = slice(start, stop) if order is None else order[start:stop]
            batch_loss = loss_and_gradient(
                self.network, params, self.X[rows], self.Y[rows],
                None if sw is None else sw[rows], self._grad,
                self.dropout_seed, optimizer.t + 1,
            )
            total += float(batch_loss) * (stop - start)
            optimizer.step(params, self._grad)
        return total

    def loss_grad(self, params, grad):
        return loss_and_gradient(
            self.network, params, self.X, self.Y, self.sample_weight, grad
        )


class NumpyEngine(Engine):
    name = "numpy"

    def trainer(self, network, X, Y, sample_weight):
        return NumpyTrainer(network, X, Y, sample_weight)
