"""The training features scikit-learn's MLP lacks (issue 9): per-layer
activations, the added activations and optimizers, dropout and a validation
set of the user's. Each holds on every engine, the numpy engine being the
oracle, and leaves scikit-learn's results as they are when it is off."""

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.utils._param_validation import InvalidParameterError

from fastmlp import MLPClassifier, MLPRegressor
from fastmlp._operations import HIDDEN_ACTIVATIONS
from fastmlp._optimizers import OPTIMIZERS, make_optimizer

from conftest import run_python

HIDDEN = list(HIDDEN_ACTIVATIONS)


def _fit_both(cls, X, y, **params):
    """The same fit on the numpy and the cpu engine."""
    return [cls(backend=b, **params).fit(X, y) for b in ("numpy", "cpu")]


def _assert_follows(reference, model, rtol=1e-6):
    assert_allclose(model.loss_curve_, reference.loss_curve_, rtol=rtol)
    for a, b in zip(model.coefs_ + model.intercepts_,
                    reference.coefs_ + reference.intercepts_):
        assert_allclose(a, b, rtol=rtol, atol=rtol * 1e-3)


# --- per-layer activations ------------------------------------------------

def test_a_tuple_of_one_name_is_that_name(digits, backend):
    X, y = digits
    common = dict(hidden_layer_sizes=(12, 9), max_iter=3, random_state=0, backend=backend)
    for name in HIDDEN:
        one = MLPClassifier(activation=name, **common).fit(X, y)
        each = MLPClassifier(activation=(name, name), **common).fit(X, y)
        assert one.loss_curve_ == each.loss_curve_
        for a, b in zip(one.coefs_, each.coefs_):
            assert_array_equal(a, b)


@pytest.mark.parametrize("solver", ["adam", "lbfgs"])
def test_mixed_activations_follow_the_reference(digits, solver):
    X, y = digits
    names = tuple(reversed(HIDDEN))[:3]
    numpy_fit, cpu_fit = _fit_both(
        MLPClassifier, X[:400], y[:400], hidden_layer_sizes=(11, 8, 6),
        activation=names, solver=solver, max_iter=8, random_state=1)
    if solver == "lbfgs":
        assert cpu_fit.loss_ == pytest.approx(numpy_fit.loss_, rel=1e-6)
    else:
        _assert_follows(numpy_fit, cpu_fit)
    assert_allclose(cpu_fit.predict_proba(X), numpy_fit.predict_proba(X), rtol=1e-6,
                    atol=1e-9)


def test_each_layer_gets_its_activations_glorot_bound():
    # logistic's factor is 2, the others' 6; the output layer takes the last
    # hidden layer's, as scikit-learn's one activation sets every layer's.
    X = np.random.RandomState(0).normal(size=(30, 40))
    y = np.arange(30) % 3
    model = MLPClassifier(hidden_layer_sizes=(50, 60), activation=("logistic", "tanh"),
                          max_iter=1, learning_rate_init=1e-300, solver="sgd",
                          momentum=0, random_state=0).fit(X, y)
    for W, factor in zip(model.coefs_, (2, 6, 6)):
        bound = np.sqrt(factor / sum(W.shape))
        assert np.abs(W).max() <= bound
        assert np.abs(W).max() > 0.9 * bound


def test_bad_per_layer_activations_are_refused():
    X, y = [[0.0], [1.0], [2.0]], [0, 1, 0]
    with pytest.raises(InvalidParameterError, match="activation"):
        MLPClassifier(activation=("relu", "swish"), hidden_layer_sizes=(2, 2)).fit(X, y)
    with pytest.raises(InvalidParameterError, match="activation"):
        MLPClassifier(activation=(), hidden_layer_sizes=(2,)).fit(X, y)
    with pytest.raises(ValueError, match="3 names for 2 hidden"):
        MLPRegressor(activation=("relu",) * 3, hidden_layer_sizes=(2, 2)).fit(X, y)


def test_per_layer_model_pickles_and_predicts_without_numba(digits, tmp_path):
    import pickle

    X, y = digits
    model = MLPClassifier(hidden_layer_sizes=(10, 10), activation=tuple(HIDDEN[-2:]),
                          max_iter=3, random_state=0).fit(X, y)
    path = tmp_path / "model.pkl"
    path.write_bytes(pickle.dumps(model))
    np.save(tmp_path / "X.npy", X[:50])
    expected = model.predict_proba(X[:50])
    code = f"""
import sys, pickle, numpy as np
sys.modules['numba'] = None
model = pickle.loads(open({str(path)!r}, 'rb').read())
np.save({str(tmp_path / 'out.npy')!r}, model.predict_proba(np.load({str(tmp_path / 'X.npy')!r})))
"""
    assert run_python(code, capture_output=True).returncode == 0
    assert_array_equal(np.load(tmp_path / "out.npy"), expected)


# --- optimizers -------------------------------------------------------------

NEW_SOLVERS = [name for name in OPTIMIZERS if name not in ("sgd", "adam")]


def _rmsprop_steps(p, grads, lr, rho, eps):
    # The formula, written out: v = rho v + (1 - rho) g^2,
    # p -= lr g / (sqrt(v) + eps).
    v = np.zeros_like(p)
    for g in grads:
        v = rho * v + (1 - rho) * g ** 2
        p = p - lr * g / (np.sqrt(v) + eps)
    return p


def _adamw_steps(p, grads, lr, beta_1, beta_2, eps, weight_decay, n_coef):
    # The coefficients decay first, p -= lr wd p; then Adam's step,
    # scikit-learn's (bias corrections folded into the rate).
    m, v = np.zeros_like(p), np.zeros_like(p)
    for t, g in enumerate(grads, 1):
        p = p.copy()
        p[:n_coef] = p[:n_coef] - lr * weight_decay * p[:n_coef]
        m = beta_1 * m + (1 - beta_1) * g
        v = beta_2 * v + (1 - beta_2) * g ** 2
        rate = lr * np.sqrt(1 - beta_2 ** t) / (1 - beta_1 ** t)
        p = p - rate * m / (np.sqrt(v) + eps)
    return p


FORMULAS = {
    "rmsprop": lambda p, grads, est, n_coef: _rmsprop_steps(
        p, grads, est.learning_rate_init, est.rho, est.epsilon),
    "adamw": lambda p, grads, est, n_coef: _adamw_steps(
        p, grads, est.learning_rate_init, est.beta_1, est.beta_2, est.epsilon,
        est.weight_decay, n_coef),
}


@pytest.mark.parametrize("name", NEW_SOLVERS)
def test_optimizer_is_the_formula(name):
    rs = np.random.RandomState(0)
    est = MLPClassifier(solver=name, learning_rate_init=0.01)
    p0 = rs.normal(size=20)
    grads = [rs.normal(size=20) for _ in range(5)]
    optimizer = make_optimizer(est, 20, 12, np.float64)
    p = p0.copy()
    for g in grads:
        optimizer.step(p, g)
    assert_allclose(p, FORMULAS[name](p0, grads, est, 12), rtol=1e-13, atol=1e-15)


@pytest.mark.parametrize("name", NEW_SOLVERS)
@pytest.mark.parametrize("early_stopping", [False, True])
def test_new_solvers_follow_the_reference(digits, regression, name, early_stopping):
    X, y = digits
    common = dict(solver=name, hidden_layer_sizes=(16, 8), max_iter=6, random_state=0,
                  early_stopping=early_stopping, n_iter_no_change=2, tol=0)
    reference, fast = _fit_both(MLPClassifier, X[:600], y[:600], **common)
    _assert_follows(reference, fast)
    if early_stopping:
        assert fast.validation_scores_ == pytest.approx(reference.validation_scores_)
    X, y = regression
    reference, fast = _fit_both(MLPRegressor, X, y, **common)
    _assert_follows(reference, fast)


@pytest.mark.parametrize("name", NEW_SOLVERS)
def test_new_solvers_partial_fit_and_warm_start(digits, backend, name):
    X, y = digits
    common = dict(solver=name, hidden_layer_sizes=(12,), random_state=0, backend=backend,
                  shuffle=False)
    # Three partial fits are three epochs of one fit: the state carries
    # over between the calls.
    stepped = MLPClassifier(**common)
    for _ in range(3):
        stepped.partial_fit(X, y, classes=np.unique(y))
    whole = MLPClassifier(max_iter=3, **common).fit(X, y)
    assert_allclose(stepped.coefs_[0], whole.coefs_[0], rtol=1e-12)
    # A warm start goes on from the weights, with a fresh optimizer state,
    # as scikit-learn's warm starts do.
    warm = MLPClassifier(max_iter=2, warm_start=True, **common).fit(X, y)
    before = warm.coefs_[0].copy()
    warm.fit(X, y)
    assert warm.n_iter_ == 2 and not np.array_equal(before, warm.coefs_[0])


@pytest.mark.parametrize("name", NEW_SOLVERS)
def test_new_solvers_in_float32(digits, name):
    X, y = digits
    common = dict(solver=name, hidden_layer_sizes=(16,), max_iter=5, random_state=0)
    reference, fast = _fit_both(MLPClassifier, X.astype(np.float32), y, **common)
    assert fast.coefs_[0].dtype == np.float32
    _assert_follows(reference, fast, rtol=1e-4)
    f64 = MLPClassifier(backend="cpu", **common).fit(X, y)
    assert fast.loss_ == pytest.approx(f64.loss_, rel=1e-3)


@pytest.mark.parametrize("name", NEW_SOLVERS)
def test_new_solvers_learn(digits, name):
    X, y = digits
    common = dict(hidden_layer_sizes=(32,), max_iter=30, random_state=0)
    model = MLPClassifier(solver=name, **common).fit(X[:1200], y[:1200])
    adam = MLPClassifier(solver="adam", **common).fit(X[:1200], y[:1200])
    assert model.score(X[1200:], y[1200:]) > adam.score(X[1200:], y[1200:]) - 0.03
    assert model.loss_curve_[-1] < 0.5 * model.loss_curve_[0]
