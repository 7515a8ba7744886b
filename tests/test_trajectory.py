"""fastmlp follows scikit-learn's training exactly (float64, same seed)."""

import numpy as np
import pytest
from numpy.testing import assert_allclose
from sklearn.neural_network import MLPClassifier as SkClassifier
from sklearn.neural_network import MLPRegressor as SkRegressor
from sklearn.neural_network._base import ACTIVATIONS as SK_ACTIVATIONS

from fastmlp import MLPClassifier, MLPRegressor
from fastmlp._operations import HIDDEN_ACTIVATIONS

# The hidden activations scikit-learn has: its trajectory is the reference.
SKLEARN_HIDDEN = [name for name in HIDDEN_ACTIVATIONS if name in SK_ACTIVATIONS]

SOLVERS = [
    dict(solver="adam"),
    dict(solver="sgd", learning_rate="constant", learning_rate_init=0.05),
    dict(solver="sgd", learning_rate="constant", learning_rate_init=0.05,
         nesterovs_momentum=False),
    dict(solver="sgd", learning_rate="invscaling", learning_rate_init=0.5),
    dict(solver="sgd", learning_rate="invscaling", learning_rate_init=0.5,
         nesterovs_momentum=False),
    # tol large enough that the adaptive schedule divides the rate in 20 epochs
    dict(solver="sgd", learning_rate="adaptive", learning_rate_init=0.05,
         tol=0.05, n_iter_no_change=2),
    dict(solver="sgd", learning_rate="adaptive", learning_rate_init=0.05,
         nesterovs_momentum=False, tol=0.05, n_iter_no_change=2),
    dict(solver="lbfgs"),
]


def _ids(params):
    return "-".join(f"{k}={v}" for k, v in params.items())


# early_stopping applies to the stochastic solvers only.
CASES = [
    (params, early_stopping)
    for params in SOLVERS
    for early_stopping in (False, True)
    if not (early_stopping and params["solver"] == "lbfgs")
]
CASE_IDS = [_ids(p) + f"-es={es}" for p, es in CASES]


def assert_schedule_exercised(theirs, params):
    # The adaptive cases are tuned so that the rate really is divided.
    if params.get("learning_rate") == "adaptive":
        assert theirs._optimizer.learning_rate < params["learning_rate_init"]


def assert_same_fit(ours, theirs):
    assert ours.n_iter_ == theirs.n_iter_
    assert ours.t_ == theirs.t_
    if hasattr(theirs, "loss_curve_"):
        assert len(ours.loss_curve_) == len(theirs.loss_curve_)
        assert_allclose(ours.loss_curve_, theirs.loss_curve_, rtol=1e-7)
    else:
        assert not hasattr(ours, "loss_curve_")
    assert_allclose(ours.loss_, theirs.loss_, rtol=1e-7)
    for name in ("validation_scores_", "best_validation_score_", "best_loss_"):
        if getattr(theirs, name, None) is None:
            assert getattr(ours, name, None) is None
        else:
            assert_allclose(getattr(ours, name), getattr(theirs, name), rtol=1e-7)
    for a, b in zip(ours.coefs_ + ours.intercepts_,
                    theirs.coefs_ + theirs.intercepts_):
        assert a.dtype == b.dtype and a.shape == b.shape
        assert_allclose(a, b, rtol=1e-6, atol=1e-12)


@pytest.mark.parametrize(("params", "early_stopping"), CASES, ids=CASE_IDS)
@pytest.mark.parametrize("weighted", [False, True])
def test_classifier_matches_sklearn_on_digits(
    digits, params, early_stopping, weighted, backend
):
    X, y = digits
    sample_weight = np.random.RandomState(3).uniform(0.2, 2, len(y)) if weighted else None
    common = dict(hidden_layer_sizes=(40,), max_iter=20, random_state=7,
                  early_stopping=early_stopping, **params)
    theirs = SkClassifier(**common).fit(X, y, sample_weight=sample_weight)
    ours = MLPClassifier(backend=backend, **common).fit(
        X, y, sample_weight=sample_weight)
    assert_schedule_exercised(theirs, params)
    assert_same_fit(ours, theirs)
    assert_allclose(ours.predict_proba(X), theirs.predict_proba(X), rtol=1e-6, atol=1e-12)


@pytest.mark.parametrize(("params", "early_stopping"), CASES, ids=CASE_IDS)
@pytest.mark.parametrize("weighted", [False, True])
def test_regressor_matches_sklearn(
    regression, params, early_stopping, weighted, backend
):
    X, y = regression
    params = dict(params)
    if params["solver"] == "sgd":
        params["learning_rate_init"] = 1e-3   # squared error on raw targets
    sample_weight = np.random.RandomState(4).uniform(0.2, 2, len(y)) if weighted else None
    common = dict(hidden_layer_sizes=(20, 10), activation="tanh", max_iter=20,
                  random_state=5, early_stopping=early_stopping, **params)
    theirs = SkRegressor(**common).fit(X, y, sample_weight=sample_weight)
    ours = MLPRegressor(backend=backend, **common).fit(
        X, y, sample_weight=sample_weight)
    assert_same_fit(ours, theirs)
    assert_allclose(ours.predict(X), theirs.predict(X), rtol=1e-6, atol=1e-9)


@pytest.mark.parametrize("activation", SKLEARN_HIDDEN)
@pytest.mark.parametrize(
    "task", ["binary", "multilabel", "poisson", "multioutput"])
def test_every_activation_and_output_matches_sklearn(activation, task, backend):
    rs = np.random.RandomState(0)
    X = rs.normal(size=(150, 6))
    if task == "binary":
        y = (X[:, 0] + X[:, 1] > 0).astype(int)
        cls, sk, extra = MLPClassifier, SkClassifier, {}
    elif task == "multilabel":
        y = (X[:, :3] > 0).astype(int)
        cls, sk, extra = MLPClassifier, SkClassifier, {}
    elif task == "poisson":
        y = rs.poisson(np.exp(0.3 * X[:, 0]))
        cls, sk, extra = MLPRegressor, SkRegressor, {"loss": "poisson"}
    else:
        y = X[:, :2] @ rs.normal(size=(2, 2))
        cls, sk, extra = MLPRegressor, SkRegressor, {}
    common = dict(hidden_layer_sizes=(8, 5), activation=activation,
                  solver="sgd", learning_rate_init=0.01, max_iter=20,
                  random_state=2, **extra)
    theirs = sk(**common).fit(X, y)
    ours = cls(backend=backend, **common).fit(X, y)
    assert ours.out_activation_ == theirs.out_activation_
    assert_same_fit(ours, theirs)


def test_warm_start_and_partial_fit_follow_sklearn(digits, backend):
    X, y = digits
    common = dict(hidden_layer_sizes=(20,), max_iter=5, random_state=0)
    theirs = SkClassifier(warm_start=True, **common)
    ours = MLPClassifier(warm_start=True, backend=backend, **common)
    for _ in range(3):
        theirs.fit(X, y)
        ours.fit(X, y)
    assert_same_fit(ours, theirs)

    theirs = SkClassifier(**common)
    ours = MLPClassifier(backend=backend, **common)
    classes = np.unique(y)
    for chunk in np.array_split(np.arange(len(y)), 4):
        theirs.partial_fit(X[chunk], y[chunk], classes=classes)
        ours.partial_fit(X[chunk], y[chunk], classes=classes)
    assert_same_fit(ours, theirs)


def test_sparse_input_follows_sklearn(digits, backend):
    import scipy.sparse as sp

    X, y = digits
    common = dict(hidden_layer_sizes=(20,), max_iter=10, random_state=0)
    for fmt in (sp.csr_matrix, sp.csc_matrix):
        theirs = SkClassifier(**common).fit(fmt(X), y)
        ours = MLPClassifier(backend=backend, **common).fit(fmt(X), y)
        assert_same_fit(ours, theirs)
        assert_allclose(ours.predict_proba(fmt(X)), theirs.predict_proba(fmt(X)),
                        rtol=1e-6, atol=1e-12)


def _random_case(rs):
    """A random small problem and hyperparameter draw (seeded by the caller)."""
    kind = rs.choice(["multiclass", "binary", "multilabel", "reg", "multireg"])
    X = rs.normal(size=(rs.randint(60, 300), rs.randint(2, 12)))
    if kind == "multiclass":
        y, pair = rs.randint(rs.randint(3, 6), size=len(X)), (MLPClassifier, SkClassifier)
    elif kind == "binary":
        y, pair = np.where(rs.rand(len(X)) > 0.5, "a", "b"), (MLPClassifier, SkClassifier)
    elif kind == "multilabel":
        y, pair = (rs.rand(len(X), 3) > 0.5).astype(int), (MLPClassifier, SkClassifier)
    elif kind == "reg":
        y, pair = X[:, 0] * 2 + rs.normal(size=len(X)), (MLPRegressor, SkRegressor)
    else:
        y, pair = X[:, :2] + rs.normal(size=(len(X), 2)), (MLPRegressor, SkRegressor)
    batch_size = rs.choice(["auto", "7", "50"])
    params = dict(
        hidden_layer_sizes=tuple(int(h) for h in rs.randint(2, 20, size=rs.randint(1, 3))),
        activation=str(rs.choice(SKLEARN_HIDDEN)),
        solver=str(rs.choice(["adam", "sgd", "lbfgs"])),
        alpha=float(rs.choice([0.0, 1e-4, 0.1])),
        batch_size="auto" if batch_size == "auto" else int(batch_size),
        learning_rate=str(rs.choice(["constant", "invscaling", "adaptive"])),
        learning_rate_init=float(rs.choice([1e-3, 1e-2])),
        shuffle=bool(rs.rand() > 0.3),
        early_stopping=bool(rs.rand() > 0.6),
        max_iter=15,
        random_state=int(rs.randint(100)),
        nesterovs_momentum=bool(rs.rand() > 0.5),
        momentum=float(rs.choice([0.0, 0.5, 0.9])),
    )
    sample_weight = rs.uniform(0.2, 2, len(X)) if rs.rand() > 0.5 else None
    return pair, X, y, sample_weight, params


@pytest.mark.parametrize("seed", range(12))
def test_random_configurations_match_sklearn(seed, backend):
    # Random draws over task, network, solver, schedule, batch size, shuffle,
    # early stopping and sample weights: each seed draws 3 configurations.
    rs = np.random.RandomState(1000 + seed)
    for _ in range(3):
        (ours_cls, sk_cls), X, y, sample_weight, params = _random_case(rs)
        theirs = sk_cls(**params).fit(X, y, sample_weight=sample_weight)
        ours = ours_cls(backend=backend, **params).fit(X, y, sample_weight=sample_weight)
        assert_same_fit(ours, theirs)
