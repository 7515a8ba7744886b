"""Paths where fastmlp must end as scikit-learn 1.9 ends: divergence, warm
starts under early stopping, mixed dtypes, degenerate sample weights, label
decoding. Each test runs the reproducer on scikit-learn and on every engine.
"""

import warnings

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.datasets import make_regression
from sklearn.neural_network import MLPClassifier as SkClassifier
from sklearn.neural_network import MLPRegressor as SkRegressor

from fastmlp import MLPClassifier, MLPRegressor


def _fit_quietly(est, *args, **kwargs):
    with warnings.catch_warnings():
        # The diverging fits overflow on purpose.
        warnings.simplefilter("ignore", RuntimeWarning)
        return est.fit(*args, **kwargs)


def test_early_stopping_survives_a_diverging_loss(backend):
    # scikit-learn >= 1.6 (#29504) keeps training through a non-finite loss
    # under early stopping and restores the best weights at the end.
    X, y = make_regression(150, 4, noise=1, random_state=0)
    params = dict(hidden_layer_sizes=(10,), solver="sgd", learning_rate_init=1.0,
                  early_stopping=True, max_iter=50, random_state=0)
    theirs = _fit_quietly(SkRegressor(**params), X, y)
    ours = _fit_quietly(MLPRegressor(backend=backend, **params), X, y)
    assert not np.isfinite(theirs.loss_curve_[-1])
    assert ours.n_iter_ == theirs.n_iter_ == 50
    assert np.isfinite(ours.predict(X)).all()
    assert_allclose(ours.predict(X), theirs.predict(X), rtol=1e-7)
    assert ours.best_validation_score_ == pytest.approx(theirs.best_validation_score_)
    assert len(ours.loss_curve_) == len(theirs.loss_curve_)


def test_infinite_loss_with_finite_weights_goes_on(backend):
    # The loss overflows float32 while the weights stay finite: scikit-learn
    # trains on and returns the model, so fastmlp must too.
    rs = np.random.RandomState(0)
    X = rs.normal(size=(64, 3)).astype(np.float32)
    y = (rs.normal(size=64) * 1e20).astype(np.float32)
    params = dict(hidden_layer_sizes=(4,), solver="sgd", learning_rate_init=1e-45,
                  momentum=0.0, max_iter=3, random_state=0, shuffle=False)
    theirs = _fit_quietly(SkRegressor(**params), X, y)
    ours = _fit_quietly(MLPRegressor(backend=backend, **params), X, y)
    assert np.isinf(theirs.loss_curve_).all()
    # Both engines take a float32 model's loss in double, where it is finite
    # (scikit-learn keeps float32 targets' loss in float32).
    assert all(np.isfinite(loss) and loss > 1e39 for loss in ours.loss_curve_)
    assert ours.n_iter_ == theirs.n_iter_ == 3
    assert np.isfinite(ours.predict(X)).all()


def test_diverging_weights_without_early_stopping_raise_like_sklearn(backend):
    # Non-finite weights never become finite again, so scikit-learn ends such
    # a fit with this ValueError after max_iter epochs; fastmlp raises it at
    # the epoch where the weights stopped being finite.
    X, y = make_regression(150, 4, noise=1, random_state=0)
    params = dict(hidden_layer_sizes=(10,), solver="sgd", learning_rate_init=1.0,
                  max_iter=50, random_state=0)
    with pytest.raises(ValueError, match="non-finite parameter weights"):
        _fit_quietly(SkRegressor(**params), X, y)
    est = MLPRegressor(backend=backend, **params)
    with pytest.raises(ValueError, match="non-finite parameter weights"):
        _fit_quietly(est, X, y)
    assert est.n_iter_ < 50


@pytest.mark.parametrize("second_max_iter", [1, 3])
def test_warm_start_with_early_stopping_keeps_sklearns_weights(backend, second_max_iter):
    # scikit-learn's restored best weights alias its live ones, so a warm fit
    # that finds no better validation score ends on its last epoch's weights.
    X = 5 + 1e-3 * np.random.RandomState(0).randn(128, 1)
    y = np.arange(128) % 4
    params = dict(hidden_layer_sizes=(1,), early_stopping=True, max_iter=1,
                  warm_start=True, random_state=2, n_iter_no_change=4)
    theirs = SkClassifier(**params).fit(X, y)
    ours = MLPClassifier(backend=backend, **params).fit(X, y)
    theirs.set_params(max_iter=second_max_iter).fit(X, y)
    ours.set_params(max_iter=second_max_iter).fit(X, y)
    for a, b in zip(ours.coefs_ + ours.intercepts_, theirs.coefs_ + theirs.intercepts_):
        assert_allclose(a, b, rtol=1e-7, atol=1e-12)
    assert ours.best_validation_score_ == theirs.best_validation_score_


def test_warm_start_with_early_stopping_after_pickling(backend):
    import pickle

    X = 5 + 1e-3 * np.random.RandomState(0).randn(128, 1)
    y = np.arange(128) % 4
    params = dict(hidden_layer_sizes=(1,), early_stopping=True, max_iter=1,
                  warm_start=True, random_state=2, n_iter_no_change=4)
    theirs = pickle.loads(pickle.dumps(SkClassifier(**params).fit(X, y))).fit(X, y)
    ours = pickle.loads(pickle.dumps(MLPClassifier(backend=backend, **params).fit(X, y)))
    ours.fit(X, y)
    for a, b in zip(ours.coefs_, theirs.coefs_):
        assert_allclose(a, b, rtol=1e-7, atol=1e-12)


@pytest.mark.parametrize("incremental", [True, False])
@pytest.mark.parametrize("first,second", [(np.float64, np.float32),
                                          (np.float32, np.float64)])
def test_mixed_dtype_refits_keep_the_models_dtype(backend, incremental, first, second):
    rs = np.random.RandomState(0)
    X = rs.normal(size=(80, 5))
    y = rs.randint(3, size=80)
    params = dict(hidden_layer_sizes=(6,), random_state=0, max_iter=3,
                  warm_start=not incremental)
    ours = MLPClassifier(backend=backend, **params)
    theirs = SkClassifier(**params)
    for dtype in (first, second):
        for est in (ours, theirs):
            if incremental:
                est.partial_fit(X.astype(dtype), y, classes=[0, 1, 2])
            else:
                est.fit(X.astype(dtype), y)
    assert [c.dtype for c in ours.coefs_] == [c.dtype for c in theirs.coefs_]
    assert ours.predict_proba(X).dtype == theirs.predict_proba(X).dtype
    if first == np.float64:
        # Training a float64 model on float32 data is exact float64 arithmetic
        # on both sides.
        assert_allclose(ours.loss_curve_, theirs.loss_curve_, rtol=1e-7)


@pytest.mark.parametrize("alpha", [1e-4, 0.0])
@pytest.mark.parametrize("solver", ["sgd", "adam", "lbfgs"])
def test_minibatch_with_zero_weight_sum_raises_zero_division(backend, solver, alpha):
    X = np.random.RandomState(0).normal(size=(40, 3))
    y = np.arange(40) % 2
    w = np.ones(40)
    w[:10] = 0.0  # the first minibatch of 10 rows, unshuffled
    if solver == "lbfgs":
        w = np.tile([1.0, -1.0], 20)  # the full batch's weights sum to zero
    params = dict(hidden_layer_sizes=(3,), solver=solver, batch_size=10,
                  shuffle=False, max_iter=2, random_state=0, alpha=alpha)
    with pytest.raises(ZeroDivisionError):
        SkClassifier(**params).fit(X, y, sample_weight=w)
    with pytest.raises(ZeroDivisionError):
        MLPClassifier(backend=backend, **params).fit(X, y, sample_weight=w)


@pytest.mark.parametrize("labels", [
    np.array(["b", "a", "c"] * 20),           # multiclass strings
    np.array([3, 7] * 30),                    # binary ints
    np.array([True, False, False] * 20),      # binary bools
    np.array([1.0, 2.0, 3.0, 4.0] * 15),      # multiclass floats
])
def test_predict_decodes_labels_as_label_binarizer(labels):
    rs = np.random.RandomState(0)
    X = rs.normal(size=(len(labels), 4))
    clf = MLPClassifier(hidden_layer_sizes=(5,), max_iter=5, random_state=0).fit(X, labels)
    expected = clf._label_binarizer.inverse_transform(
        clf.predict_proba(X) if len(clf.classes_) > 2 else clf.predict_proba(X)[:, 1]
    )
    for rows in (X, X[:1], X[3:4].copy(), X[:5]):
        got = clf.predict(rows)
        assert got.dtype == expected.dtype
        assert_array_equal(got, clf._label_binarizer.inverse_transform(
            clf.predict_proba(rows) if len(clf.classes_) > 2
            else clf.predict_proba(rows)[:, 1]))
    assert_array_equal(clf.predict(X), expected)
    sk = SkClassifier(hidden_layer_sizes=(5,), max_iter=5, random_state=0).fit(X, labels)
    assert_array_equal(clf.predict(X), sk.predict(X))
