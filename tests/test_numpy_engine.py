"""The reference engine's gradients agree with finite differences."""

import numpy as np
import pytest
import scipy.sparse as sp
from scipy.optimize import check_grad

from fastmlp._operations import HIDDEN_ACTIVATIONS
from fastmlp.engines import Network
from fastmlp.engines.numpy_engine import loss_and_gradient

from _networks import OUTPUTS, PER_LAYER
from _networks import make_problem as _problem


@pytest.mark.parametrize("activation", [*HIDDEN_ACTIVATIONS, PER_LAYER], ids=str)
@pytest.mark.parametrize("out_activation", sorted(OUTPUTS))
@pytest.mark.parametrize("weighted", [False, True])
def test_gradient_matches_finite_differences(activation, out_activation, weighted):
    network, X, Y, sw, params = _problem(activation, out_activation, weighted)

    def f(p):
        return loss_and_gradient(network, p, X, Y, sw, np.empty_like(p))

    def g(p):
        grad = np.empty_like(p)
        loss_and_gradient(network, p, X, Y, sw, grad)
        return grad

    err = check_grad(f, g, params, epsilon=1e-6)
    assert err < 1e-5 * max(1.0, np.linalg.norm(g(params)))


def test_l2_term_is_divided_by_weight_sum():
    network, X, Y, _, params = _problem("tanh", "identity", False)
    no_l2 = Network(network.layer_units, "tanh", "identity", "squared_error", 0.0,
                    network.dtype)
    sw = np.full(len(X), 2.0)
    grad = np.empty_like(params)
    base = loss_and_gradient(no_l2, params, X, Y, sw, grad)
    full = loss_and_gradient(network, params, X, Y, sw, grad)
    coef_sq = (params[: network.layout.coef_size()] ** 2).sum()
    assert full - base == pytest.approx(0.5 * 0.3 * coef_sq / sw.sum(), rel=1e-12)


def test_sparse_input_gives_dense_result():
    network, X, Y, sw, params = _problem("relu", "softmax", True)
    g_dense, g_sparse = np.empty_like(params), np.empty_like(params)
    l_dense = loss_and_gradient(network, params, X, Y, sw, g_dense)
    l_sparse = loss_and_gradient(network, params, sp.csr_matrix(X), Y, sw, g_sparse)
    assert l_sparse == pytest.approx(l_dense, rel=1e-13)
    np.testing.assert_allclose(g_sparse, g_dense, rtol=1e-12, atol=1e-15)


def test_float32_close_to_float64():
    network, X, Y, sw, params = _problem("tanh", "softmax", True)
    n32 = Network(network.layer_units, "tanh", "softmax", "log_loss", 0.3,
                  np.dtype(np.float32))
    g64, g32 = np.empty_like(params), np.empty(params.size, np.float32)
    l64 = loss_and_gradient(network, params, X, Y, sw, g64)
    l32 = loss_and_gradient(n32, params.astype(np.float32), X.astype(np.float32),
                            Y.astype(np.float32), sw.astype(np.float32), g32)
    assert l32 == pytest.approx(l64, rel=1e-5)
    np.testing.assert_allclose(g32, g64, rtol=1e-3, atol=1e-5)


def test_squared_error_gradient_is_per_output_sum():
    # scikit-learn reports the squared error averaged over the outputs but
    # takes its gradient from delta = P - Y, the gradient of the sum over the
    # outputs; fastmlp keeps both (they drive sklearn's trajectory). With
    # alpha = 0 the gradient is then n_outputs times that of the loss.
    network, X, Y, sw, params = _problem("tanh", "identity", True, alpha=0.0)
    n_outputs = network.layer_units[-1]
    assert n_outputs == 3

    def f(p):
        return loss_and_gradient(network, p, X, Y, sw, np.empty_like(p))

    grad = np.empty_like(params)
    loss_and_gradient(network, params, X, Y, sw, grad)
    from scipy.optimize import approx_fprime

    np.testing.assert_allclose(grad, n_outputs * approx_fprime(params, f, 1e-7),
                               rtol=1e-4, atol=1e-7)
