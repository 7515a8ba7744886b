"""class_weight on MLPClassifier: the fit is the fit with
sample_weight * compute_sample_weight(class_weight, y), on every engine."""

import numpy as np
import pytest
from numpy.testing import assert_array_equal
from sklearn.metrics import recall_score
from sklearn.utils._param_validation import InvalidParameterError
from sklearn.utils.class_weight import compute_class_weight, compute_sample_weight

from fastmlp import MLPClassifier, MLPRegressor


def _imbalanced(n=240, seed=0):
    rs = np.random.RandomState(seed)
    y = rs.choice(["a", "b", "c"], p=[0.75, 0.18, 0.07], size=n)
    X = rs.normal(size=(n, 6)) + (y[:, None] == "c") * 0.8
    return X, y


def _same_model(a, b):
    assert a.n_iter_ == b.n_iter_
    for p, q in zip(a.coefs_ + a.intercepts_, b.coefs_ + b.intercepts_):
        assert_array_equal(p, q)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("class_weight", ["balanced", {"a": 0.5, "b": 2.0, "c": 7.0}])
@pytest.mark.parametrize("params", [
    dict(solver="adam"), dict(solver="sgd"), dict(solver="lbfgs"),
    dict(solver="adam", early_stopping=True, validation_fraction=0.2),
])
def test_fit_equals_the_fit_with_multiplied_sample_weights(
        backend, params, class_weight, weighted, dtype):
    X, y = _imbalanced()
    X = X.astype(dtype)
    sw = np.random.RandomState(1).uniform(0.5, 2.0, len(y)) if weighted else None
    given = None if sw is None else sw.copy()
    common = dict(hidden_layer_sizes=(7,), max_iter=15, random_state=0,
                  backend=backend, **params)
    ours = MLPClassifier(class_weight=class_weight, **common).fit(X, y, sample_weight=sw)
    product = compute_sample_weight(class_weight, y)
    if sw is not None:
        product = product * sw
        assert_array_equal(sw, given)        # the caller's weights untouched
    _same_model(ours, MLPClassifier(**common).fit(X, y, sample_weight=product))
    if params.get("early_stopping"):
        # The weights reach the held-out score too.
        reference = MLPClassifier(**common).fit(X, y, sample_weight=product)
        assert ours.validation_scores_ == reference.validation_scores_


def test_weights_change_the_model_towards_the_rare_class(backend):
    X, y = _imbalanced(n=600)
    common = dict(hidden_layer_sizes=(10,), max_iter=200, random_state=0, backend=backend)
    plain = MLPClassifier(**common).fit(X, y)
    balanced = MLPClassifier(class_weight="balanced", **common).fit(X, y)
    rare = recall_score(y, balanced.predict(X), labels=["c"], average="macro")
    assert rare > recall_score(y, plain.predict(X), labels=["c"], average="macro") + 0.2


def test_multilabel_takes_one_dict_per_output(backend):
    rs = np.random.RandomState(2)
    X = rs.normal(size=(120, 4))
    Y = (rs.uniform(size=(120, 3)) < [0.5, 0.2, 0.1]).astype(int)
    common = dict(hidden_layer_sizes=(5,), max_iter=10, random_state=0, backend=backend)
    for class_weight in ("balanced", [{0: 1, 1: 2}, {0: 1, 1: 4}, {0: 1, 1: 9}]):
        ours = MLPClassifier(class_weight=class_weight, **common).fit(X, Y)
        _same_model(ours, MLPClassifier(**common).fit(
            X, Y, sample_weight=compute_sample_weight(class_weight, Y)))


def test_partial_fit_takes_a_dict_and_refuses_balanced(backend):
    X, y = _imbalanced()
    classes = np.array(["a", "b", "c"])
    weights = dict(zip(classes, compute_class_weight("balanced", classes=classes, y=y)))
    common = dict(hidden_layer_sizes=(7,), random_state=0, backend=backend)
    ours = MLPClassifier(class_weight=weights, **common)
    reference = MLPClassifier(**common)
    for rows in (slice(0, 120), slice(120, None)):
        ours.partial_fit(X[rows], y[rows], classes=classes)
        reference.partial_fit(X[rows], y[rows], classes=classes,
                              sample_weight=compute_sample_weight(weights, y[rows]))
    _same_model(ours, reference)
    with pytest.raises(ValueError, match="'balanced' is not supported for partial_fit"):
        MLPClassifier(class_weight="balanced", **common).partial_fit(X, y, classes=classes)


def test_bad_class_weights_raise_sklearns_errors():
    X, y = _imbalanced(n=60)
    with pytest.raises(InvalidParameterError, match="class_weight"):
        MLPClassifier(class_weight="auto").fit(X, y)
    with pytest.raises(InvalidParameterError, match="class_weight"):
        MLPClassifier(class_weight=2.0).fit(X, y)
    with pytest.raises(ValueError, match="not in class_weight|classes"):
        MLPClassifier(class_weight={"a": 1.0, "z": 3.0}, max_iter=2).fit(X, y)
    # The regressor has none: scikit-learn's constructor does not either.
    with pytest.raises(TypeError):
        MLPRegressor(class_weight="balanced")


def test_sklearns_class_weight_checks(backend):
    # scikit-learn's own checks for estimators with class_weight (its
    # parametrize_with_checks does not yield them for this estimator).
    from sklearn.datasets import make_blobs
    from sklearn.model_selection import train_test_split
    from sklearn.utils.estimator_checks import (
        check_class_weight_balanced_classifiers,
        check_class_weight_classifiers,
    )

    check_class_weight_classifiers("MLPClassifier", MLPClassifier(backend=backend))
    X, y = make_blobs(centers=2, random_state=0, n_samples=200, cluster_std=20)
    X_train, X_test, y_train, y_test = train_test_split(X, y, random_state=0)
    check_class_weight_balanced_classifiers(
        "MLPClassifier", MLPClassifier(backend=backend, random_state=0),
        X_train, y_train, X_test, y_test, weights={0: 1, 1: 2})
