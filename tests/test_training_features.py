"""The training features scikit-learn's MLP lacks (issue 9): per-layer
activations, the added activations and optimizers, dropout and a validation
set of the user's. Each holds on every engine, the numpy engine being the
oracle, and leaves scikit-learn's results as they are when it is off."""

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.utils._param_validation import InvalidParameterError

from fastmlp import MLPClassifier, MLPRegressor, _dropout
from fastmlp._kernels import _train
from fastmlp._operations import HIDDEN_ACTIVATIONS
from fastmlp._optimizers import OPTIMIZERS, make_optimizer

from _networks import PER_LAYER
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


# --- dropout ----------------------------------------------------------------

@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("shape", [(1, 1), (7, 13), (200, 700)])
def test_dropout_kernel_draws_the_specifications_masks(dtype, shape):
    rs = np.random.RandomState(0)
    x = rs.normal(size=shape).astype(dtype)
    for seed, step, layer, p in ((0, 1, 0, 0.5), (2**62 + 5, 10**9, 3, 0.2),
                                 (123, 7, 1, 0.9)):
        expected = _dropout.apply(x, _dropout.keep_mask(seed, step, layer, shape, p), p)
        out = np.full_like(x, np.nan)
        _train.dropout(x, out, seed, step, layer, p)
        assert_array_equal(out, expected)
        assert out.dtype == dtype
        in_place = x.copy()                  # the backward pass's use
        _train.dropout(in_place, in_place, seed, step, layer, p)
        assert_array_equal(in_place, expected)


def test_dropout_masks_split_over_threads_are_the_serial_masks():
    from threadpoolctl import threadpool_limits

    x = np.random.RandomState(1).normal(size=(700, 1000))    # > one part
    outs = []
    for threads in (1, 2):
        with threadpool_limits(limits=threads, user_api="blas"):
            out = np.empty_like(x)
            _train.dropout(x, out, 9, 4, 0, 0.3)
            outs.append(out)
    assert_array_equal(outs[0], outs[1])


def test_dropout_masks_drop_at_the_rate_independently():
    p, shape = 0.3, (500, 400)
    masks = {(seed, step, layer): _dropout.keep_mask(seed, step, layer, shape, p)
             for seed in (0, 1) for step in (1, 2) for layer in (0, 1)}
    for mask in masks.values():
        assert abs(mask.mean() - (1 - p)) < 0.005     # 200000 draws: 5 sigma
        # rows and columns alike: no stripes
        assert np.abs(mask.mean(axis=0) - (1 - p)).max() < 0.1
        assert np.abs(mask.mean(axis=1) - (1 - p)).max() < 0.1
    values = list(masks.values())
    for i in range(len(values)):
        for j in range(i + 1, len(values)):
            # Two independent masks agree on p^2 + (1 - p)^2 of the elements.
            agree = (values[i] == values[j]).mean()
            assert abs(agree - (p**2 + (1 - p)**2)) < 0.01


def test_dropout_gradient_is_the_gradient_of_the_masked_network():
    # Fixed (seed, step): the masks are fixed, and the loss is a smooth
    # function of the weights whose gradient backprop must give.
    from scipy.optimize import check_grad

    from fastmlp.engines import Network
    from fastmlp.engines.numpy_engine import loss_and_gradient

    from _networks import make_problem

    for activation in ("tanh", "gelu", PER_LAYER):
        network, X, Y, sw, params = make_problem(activation, "softmax", True)
        network = Network(network.layer_units, network.activation, network.out_activation,
                          network.loss, network.alpha, network.dtype, dropout=0.4)

        def f(p):
            return loss_and_gradient(network, p, X, Y, sw, np.empty_like(p), 5, 3)

        def g(p):
            grad = np.empty_like(p)
            loss_and_gradient(network, p, X, Y, sw, grad, 5, 3)
            return grad

        assert check_grad(f, g, params, epsilon=1e-6) < 1e-5 * max(1, np.linalg.norm(g(params)))
        # and the masks matter
        assert f(params) != loss_and_gradient(network, params, X, Y, sw,
                                              np.empty_like(params), 5, 4)


@pytest.mark.parametrize("solver", ["adam", "sgd"])
@pytest.mark.parametrize("activation", ["relu", "gelu"])
def test_dropout_follows_the_reference(digits, solver, activation):
    X, y = digits
    sw = np.random.RandomState(0).uniform(0.5, 2, size=len(y))
    models = [MLPClassifier(backend=b, solver=solver, activation=activation, dropout=0.3,
                            hidden_layer_sizes=(20, 12), max_iter=4, random_state=0)
              .fit(X[:500], y[:500], sample_weight=sw[:500]) for b in ("numpy", "cpu")]
    _assert_follows(*models)


def test_dropout_with_early_stopping_partial_fit_and_regression(digits, regression):
    X, y = digits
    common = dict(dropout=0.2, hidden_layer_sizes=(16,), random_state=0,
                  early_stopping=True, max_iter=5, n_iter_no_change=2)
    numpy_fit, cpu_fit = _fit_both(MLPClassifier, X, y, **common)
    _assert_follows(numpy_fit, cpu_fit)
    assert cpu_fit.validation_scores_ == pytest.approx(numpy_fit.validation_scores_)
    X, y = regression
    models = []
    for backend in ("numpy", "cpu"):
        model = MLPRegressor(dropout=0.5, hidden_layer_sizes=(8, 8), random_state=0,
                             backend=backend, batch_size=64)
        for _ in range(3):
            model.partial_fit(X, y)
        models.append(model)
    assert_allclose(models[1].coefs_[0], models[0].coefs_[0], rtol=1e-6)


def test_dropout_is_reproducible_and_only_in_training(digits, backend):
    X, y = digits
    common = dict(dropout=0.25, hidden_layer_sizes=(24,), max_iter=3, backend=backend)
    one = MLPClassifier(random_state=3, **common).fit(X, y)
    two = MLPClassifier(random_state=3, **common).fit(X, y)
    other = MLPClassifier(random_state=4, **common).fit(X, y)
    plain = MLPClassifier(random_state=3, **{**common, "dropout": 0.0}).fit(X, y)
    assert one.loss_curve_ == two.loss_curve_
    assert_array_equal(one.coefs_[0], two.coefs_[0])
    assert one.loss_curve_ != other.loss_curve_
    assert one.loss_curve_ != plain.loss_curve_
    # Prediction runs the whole network, unscaled and undropped.
    hidden = np.maximum(X @ one.coefs_[0] + one.intercepts_[0], 0)
    logits = hidden @ one.coefs_[1] + one.intercepts_[1]
    expected = np.exp(logits - logits.max(axis=1, keepdims=True))
    expected /= expected.sum(axis=1, keepdims=True)
    assert_allclose(one.predict_proba(X), expected, rtol=1e-10)
    assert_array_equal(one.predict_proba(X), one.predict_proba(X))


def test_dropout_learns(digits):
    X, y = digits
    common = dict(hidden_layer_sizes=(64,), max_iter=40, random_state=0)
    model = MLPClassifier(dropout=0.2, **common).fit(X[:1200], y[:1200])
    plain = MLPClassifier(**common).fit(X[:1200], y[:1200])
    assert model.score(X[1200:], y[1200:]) > plain.score(X[1200:], y[1200:]) - 0.03
    assert model.loss_curve_[-1] < 0.5 * model.loss_curve_[0]


def test_bad_dropout_is_refused():
    X, y = [[0.0], [1.0], [2.0]], [0, 1, 0]
    for bad in (1.0, -0.1, "0.2"):
        with pytest.raises(InvalidParameterError, match="dropout"):
            MLPClassifier(dropout=bad).fit(X, y)
    with pytest.raises(ValueError, match="stochastic solver"):
        MLPClassifier(dropout=0.1, solver="lbfgs").fit(X, y)


# --- a validation set of the user's ------------------------------------------

def _split(data, n=1000):
    X, y = data
    return X[:n], y[:n], X[n:], y[n:]


@pytest.mark.parametrize("weighted", [False, True])
def test_validation_loss_curve_is_log_loss(digits, backend, weighted):
    from sklearn.metrics import log_loss

    X_all, y_all = digits
    sw_val = np.random.RandomState(0).uniform(0.5, 2, len(y_all) - 1000) if weighted else None
    for labels in (y_all, y_all % 2):          # multiclass, binary
        X, y, X_val, y_val = _split((X_all, labels))
        model = MLPClassifier(hidden_layer_sizes=(20,), max_iter=4, random_state=0,
                              backend=backend)
        model.fit(X, y, X_val=X_val, y_val=y_val, sample_weight_val=sw_val)
        assert len(model.validation_loss_curve_) == model.n_iter_ == 4
        assert model.validation_loss_curve_[-1] == pytest.approx(
            log_loss(y_val, model.predict_proba(X_val), sample_weight=sw_val), rel=1e-10)
        assert model.validation_scores_[-1] == model.score(X_val, y_val,
                                                           sample_weight=sw_val)


def test_validation_loss_of_a_regressor_is_half_the_mean_squared_error(regression):
    from sklearn.metrics import mean_squared_error

    X, y, X_val, y_val = _split(regression, 200)
    model = MLPRegressor(hidden_layer_sizes=(10,), max_iter=3, random_state=0)
    model.fit(X, y, X_val=X_val, y_val=y_val)
    assert model.validation_loss_curve_[-1] == pytest.approx(
        0.5 * mean_squared_error(y_val, model.predict(X_val)), rel=1e-10)
    assert model.validation_scores_[-1] == pytest.approx(model.score(X_val, y_val))


def test_scoring_without_early_stopping_leaves_the_training_as_it_is(digits, backend):
    X, y, X_val, y_val = _split(digits)
    common = dict(hidden_layer_sizes=(20,), max_iter=5, random_state=0, backend=backend)
    plain = MLPClassifier(**common).fit(X, y)
    scored = MLPClassifier(**common).fit(X, y, X_val=X_val, y_val=y_val)
    assert scored.loss_curve_ == plain.loss_curve_
    assert_array_equal(scored.coefs_[0], plain.coefs_[0])
    assert plain.validation_scores_ is None and plain.validation_loss_curve_ is None
    assert len(scored.validation_scores_) == 5 and scored.best_validation_score_ is None


@pytest.mark.parametrize("scoring", [None, "loss", "balanced_accuracy", "callable"])
def test_early_stopping_on_the_users_validation_set(digits, scoring):
    from sklearn.metrics import balanced_accuracy_score, log_loss, make_scorer

    X, y, X_val, y_val = _split(digits)
    if scoring == "callable":
        scoring = make_scorer(balanced_accuracy_score)
    common = dict(hidden_layer_sizes=(20,), max_iter=60, random_state=0,
                  n_iter_no_change=3, learning_rate_init=0.01)
    model = MLPClassifier(early_stopping=True, scoring=scoring, **common)
    model.fit(X, y, X_val=X_val, y_val=y_val)
    # All of X trained: the epochs are those of a fit without early stopping.
    plain = MLPClassifier(**{**common, "max_iter": model.n_iter_}).fit(X, y)
    assert model.loss_curve_ == plain.loss_curve_
    assert model.n_iter_ < 60
    # The returned model is the best one, and best_validation_score_ its score.
    if scoring is None:
        expected = model.score(X_val, y_val)
    elif scoring == "loss":
        expected = -log_loss(y_val, model.predict_proba(X_val))
    else:
        expected = balanced_accuracy_score(y_val, model.predict(X_val))
    assert model.best_validation_score_ == pytest.approx(expected, rel=1e-10)
    assert model.best_validation_score_ == max(model.validation_scores_)


def test_validation_curves_follow_the_reference(digits):
    X, y, X_val, y_val = _split(digits)
    sw = np.random.RandomState(1).uniform(0.5, 2, len(y_val))
    numpy_fit, cpu_fit = [
        MLPClassifier(hidden_layer_sizes=(16,), max_iter=8, random_state=0, backend=b,
                      early_stopping=True, scoring="loss", dropout=0.1, solver="adamw")
        .fit(X, y, X_val=X_val, y_val=y_val, sample_weight_val=sw)
        for b in ("numpy", "cpu")]
    _assert_follows(numpy_fit, cpu_fit)
    assert_allclose(cpu_fit.validation_loss_curve_, numpy_fit.validation_loss_curve_,
                    rtol=1e-6)


def test_internal_split_records_the_validation_loss_too(digits):
    X, y = digits
    model = MLPClassifier(hidden_layer_sizes=(16,), max_iter=5, random_state=0,
                          early_stopping=True).fit(X, y)
    assert len(model.validation_loss_curve_) == len(model.validation_scores_) == 5
    assert np.all(np.diff(model.validation_loss_curve_) < 0)


def test_validation_data_is_validated_as_x_is(digits):
    import pandas as pd

    X, y, X_val, y_val = _split(digits)
    model = MLPClassifier(hidden_layer_sizes=(4,), max_iter=1)
    cases = [
        (dict(X_val=X_val), "together"),
        (dict(y_val=y_val), "together"),
        (dict(sample_weight_val=np.ones(len(y_val))), "without X_val"),
        (dict(X_val=X_val[:, :10], y_val=y_val), "features"),
        (dict(X_val=np.where(X_val > 0.5, np.nan, X_val), y_val=y_val), "NaN"),
        (dict(X_val=X_val, y_val=y_val[:-1]), "inconsistent numbers of samples"),
        (dict(X_val=X_val, y_val=y_val + 100), "not in classes_"),
        (dict(X_val=X_val, y_val=y_val, sample_weight_val=np.ones(3)), "sample_weight"),
    ]
    for kwargs, message in cases:
        with pytest.raises(ValueError, match=message):
            model.fit(X, y, **kwargs)
    with pytest.raises(ValueError, match="stochastic solver"):
        MLPClassifier(solver="lbfgs").fit(X, y, X_val=X_val, y_val=y_val)
    with pytest.raises(InvalidParameterError, match="scoring"):
        MLPClassifier(scoring="no_such_metric").fit(X, y)
    # Feature names: X's must be X_val's.
    names = [f"f{i}" for i in range(X.shape[1])]
    frame = pd.DataFrame(X, columns=names)
    with pytest.raises(ValueError, match="feature names"):
        model.fit(frame, y, X_val=pd.DataFrame(X_val, columns=names[::-1]), y_val=y_val)
    model.fit(frame, y, X_val=pd.DataFrame(X_val, columns=names), y_val=y_val)
    assert len(model.validation_scores_) == 1


# --- every feature together ---------------------------------------------------

@pytest.mark.parametrize("solver", list(OPTIMIZERS))
def test_features_combined_follow_the_reference(digits, regression, solver):
    # Per-layer activations (old and new), dropout, class and sample
    # weights, a validation set with a scorer, early stopping: the cpu
    # engine follows the numpy oracle within rtol 1e-6 in float64.
    X, y = digits
    rs = np.random.RandomState(0)
    sw = rs.uniform(0.5, 2, len(y))
    common = dict(solver=solver, hidden_layer_sizes=(14, 10, 8),
                  activation=("gelu", "tanh", "leaky_relu"), dropout=0.15,
                  class_weight="balanced", early_stopping=True, scoring="loss",
                  max_iter=6, n_iter_no_change=50, random_state=0, alpha=1e-3)
    fits = [MLPClassifier(backend=b, **common).fit(
        X[:900], y[:900], sample_weight=sw[:900], X_val=X[900:1300], y_val=y[900:1300])
        for b in ("numpy", "cpu")]
    _assert_follows(*fits)
    assert_allclose(fits[1].validation_loss_curve_, fits[0].validation_loss_curve_,
                    rtol=1e-6)
    X, y = regression
    common = dict(solver=solver, hidden_layer_sizes=(12, 6), loss="poisson",
                  activation=("silu", "elu"), dropout=0.3, max_iter=5, random_state=0,
                  early_stopping=True, validation_fraction=0.2, learning_rate_init=1e-3)
    fits = [MLPRegressor(backend=b, **common).fit(X, np.abs(y), sample_weight=sw[:len(y)])
            for b in ("numpy", "cpu")]
    _assert_follows(*fits)


def test_features_combined_in_float32(digits):
    X, y = digits
    common = dict(solver="adamw", hidden_layer_sizes=(16, 8), activation=("elu", "silu"),
                  dropout=0.2, max_iter=4, random_state=0)
    fits = [MLPClassifier(backend=b, **common).fit(X.astype(np.float32), y)
            for b in ("numpy", "cpu")]
    assert fits[1].coefs_[0].dtype == np.float32
    _assert_follows(*fits, rtol=1e-4)
