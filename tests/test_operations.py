"""The operation tables (fastmlp/_operations.py): the single source of names,
kernel codes and NumPy references, checked against the kernels and against
scikit-learn's own tables."""

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.neural_network._base import ACTIVATIONS as SK_ACTIVATIONS
from sklearn.neural_network._base import DERIVATIVES as SK_DERIVATIVES
from sklearn.neural_network._base import LOSS_FUNCTIONS as SK_LOSSES
from sklearn.utils._param_validation import InvalidParameterError

from fastmlp import MLPClassifier, MLPRegressor
from fastmlp import _operations as ops
from fastmlp._kernels import _forward, _train

HIDDEN = list(ops.HIDDEN_ACTIVATIONS.values())
PAIRS = list(ops.OUTPUT_LOSSES.values())


def test_the_kernels_codes_are_the_tables():
    ops.check_kernel_codes(_forward.ACTIVATION_CODES, _train.LOSS_CODES,
                           _train.HIDDEN_DERIVATIVE_CODES)
    assert ops.ACTIVATION_CODES == _forward.ACTIVATION_CODES
    assert ops.LOSS_CODES == _train.LOSS_CODES


@pytest.mark.parametrize(("activations", "losses", "derivatives", "named"), [
    # An activation the kernels do not know.
    ({**_forward.ACTIVATION_CODES, "gelu": 6}, _train.LOSS_CODES,
     _train.HIDDEN_DERIVATIVE_CODES, "'gelu'"),
    # A code that moved.
    ({**_forward.ACTIVATION_CODES, "relu": 9}, _train.LOSS_CODES,
     _train.HIDDEN_DERIVATIVE_CODES, "'relu'"),
    # A loss missing from the kernels.
    (_forward.ACTIVATION_CODES, {k: v for k, v in _train.LOSS_CODES.items()
                                 if k != "poisson"},
     _train.HIDDEN_DERIVATIVE_CODES, "'poisson'"),
    # A hidden activation whose derivative the kernels lack (the silent
    # failure of a code added after softmax).
    (_forward.ACTIVATION_CODES, _train.LOSS_CODES, frozenset({0, 1, 2}), "'relu'"),
])
def test_a_mismatch_with_the_kernels_fails_loudly(activations, losses, derivatives, named):
    with pytest.raises(ImportError, match=named):
        ops.check_kernel_codes(activations, losses, derivatives)


@pytest.mark.parametrize("activation", HIDDEN, ids=lambda a: a.name)
def test_hidden_references_are_sklearns_where_it_has_them(activation):
    if activation.name not in SK_ACTIVATIONS:
        pytest.skip(f"scikit-learn has no {activation.name!r}")
    rs = np.random.RandomState(0)
    Z = rs.normal(0, 3, size=(7, 5))
    ours, theirs = Z.copy(), Z.copy()
    activation.apply(ours)
    SK_ACTIVATIONS[activation.name](theirs)
    assert_array_equal(ours, theirs)
    delta = rs.normal(size=Z.shape)
    d_ours, d_theirs = delta.copy(), delta.copy()
    activation.derivative(ours, d_ours)
    SK_DERIVATIVES[activation.name](theirs, d_theirs)
    assert_array_equal(d_ours, d_theirs)


@pytest.mark.parametrize("activation", HIDDEN, ids=lambda a: a.name)
def test_hidden_derivatives_match_finite_differences(activation):
    rs = np.random.RandomState(1)
    z = rs.normal(0, 2, size=50)
    z = z[np.abs(z) > 1e-3]       # off relu's kink
    h = 1e-6
    up, down, out = z + h, z - h, z.copy()
    for a in (up, down, out):
        activation.apply(a)
    delta = np.ones_like(z)
    activation.derivative(z if activation.needs_preactivation else out, delta)
    assert_allclose(delta, (up - down) / (2 * h), rtol=1e-6, atol=1e-9)


@pytest.mark.parametrize("pair", PAIRS, ids=lambda p: p.name)
def test_output_pairs_are_sklearns(pair):
    rs = np.random.RandomState(2)
    Z = rs.normal(size=(9, 3))
    ours, theirs = Z.copy(), Z.copy()
    pair.apply(ours)
    SK_ACTIVATIONS[pair.activation](theirs)
    assert_array_equal(ours, theirs)
    Y = (rs.uniform(size=Z.shape) < 0.4).astype(float)
    sw = rs.uniform(0.5, 2, 9)
    for weights in (None, sw):
        assert ops.OUTPUT_LOSSES[pair.name].loss(Y, ours, weights) == \
            SK_LOSSES[pair.name](Y, theirs, weights)


def test_the_parameter_constraints_are_the_table():
    for cls in (MLPClassifier, MLPRegressor):
        options = cls._parameter_constraints["activation"][0].options
        assert options == set(ops.HIDDEN_ACTIVATIONS)
    with pytest.raises(InvalidParameterError, match="activation"):
        MLPClassifier(activation="swish").fit([[0.0], [1.0]], [0, 1])


def test_glorot_factors_give_sklearns_initial_weights():
    # One epoch at a vanishing rate leaves the initial weights as they were
    # drawn: scikit-learn's bound sqrt(factor / (fan_in + fan_out)).
    from sklearn.neural_network import MLPClassifier as SkClassifier

    X = np.random.RandomState(3).normal(size=(20, 4))
    y = np.arange(20) % 2
    for activation in HIDDEN:
        if activation.name not in SK_ACTIVATIONS:
            continue
        params = dict(activation=activation.name, hidden_layer_sizes=(6,), solver="sgd",
                      learning_rate_init=1e-300, momentum=0.0, max_iter=1, random_state=0)
        ours = MLPClassifier(**params).fit(X, y)
        theirs = SkClassifier(**params).fit(X, y)
        for a, b in zip(ours.coefs_, theirs.coefs_):
            assert_array_equal(a, b)


def test_output_loss_pairs_log_loss_by_the_output():
    assert ops.output_loss("log_loss", "logistic").name == "binary_log_loss"
    assert ops.output_loss("log_loss", "softmax").name == "log_loss"
    assert ops.output_loss("poisson", "exp").activation == "exp"
    with pytest.raises(ValueError, match="does not pair"):
        ops.output_loss("squared_error", "softmax")
