"""fastmlp where scikit-learn users put it, and the classic examples."""

import pickle

import joblib
import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.base import clone
from sklearn.model_selection import GridSearchCV, cross_val_score, train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from fastmlp import MLPClassifier, MLPRegressor


def test_pipeline_with_scaler(digits, backend):
    X, y = digits
    X_train, X_test, y_train, y_test = train_test_split(X, y, random_state=0)
    pipe = make_pipeline(
        StandardScaler(),
        MLPClassifier(hidden_layer_sizes=(50,), max_iter=50, random_state=0,
                      backend=backend),
    )
    pipe.fit(X_train, y_train)
    assert pipe.score(X_test, y_test) > 0.9


def test_grid_search_parallel(digits, backend):
    X, y = digits
    grid = GridSearchCV(
        MLPClassifier(max_iter=20, learning_rate_init=0.01, random_state=0,
                      backend=backend),
        {"hidden_layer_sizes": [(10,), (30,)], "alpha": [1e-4, 1e-1]},
        cv=3,
        n_jobs=2,
    )
    grid.fit(X, y)
    assert len(grid.cv_results_["params"]) == 4
    assert np.all(np.isfinite(grid.cv_results_["mean_test_score"]))
    assert grid.best_score_ > 0.85
    # The refit best model is a real fitted fastmlp model.
    assert isinstance(grid.best_estimator_, MLPClassifier)
    assert grid.best_estimator_.hidden_layer_sizes in [(10,), (30,)]


def test_cross_val_score_regressor(regression, backend):
    X, y = regression
    scores = cross_val_score(
        MLPRegressor(hidden_layer_sizes=(30,), solver="lbfgs", max_iter=200,
                     random_state=0, backend=backend),
        X, y, cv=3,
    )
    assert scores.shape == (3,)
    assert scores.min() > 0.9


def test_clone_keeps_params_and_drops_fit(digits):
    X, y = digits
    est = MLPClassifier(hidden_layer_sizes=(7, 3), alpha=0.5, backend="numpy",
                        max_iter=3).fit(X, y)
    copy = clone(est)
    assert copy.get_params() == est.get_params()
    assert not hasattr(copy, "coefs_")


@pytest.mark.parametrize("dump", ["pickle", "joblib"])
def test_round_trip_predicts_identically(digits, tmp_path, dump, backend):
    X, y = digits
    est = MLPClassifier(hidden_layer_sizes=(20,), max_iter=10, random_state=0,
                        backend=backend).fit(X, y)
    path = tmp_path / "model"
    if dump == "pickle":
        path.write_bytes(pickle.dumps(est))
        loaded = pickle.loads(path.read_bytes())
    else:
        joblib.dump(est, path)
        loaded = joblib.load(path)
    assert_array_equal(loaded.predict_proba(X), est.predict_proba(X))
    assert_array_equal(loaded.predict(X), est.predict(X))
    # Pickling leaves the pickled model as it was (it once lost its
    # parameter buffer: on Python 3.11+ the base state is the live __dict__).
    assert "_params" in est.__dict__
    # A loaded model keeps training where the original left off.
    est.partial_fit(X, y)
    loaded.partial_fit(X, y)
    assert_array_equal(loaded.predict_proba(X), est.predict_proba(X))


def test_partial_fit_over_chunks_learns(digits, backend):
    X, y = digits
    X_train, X_test, y_train, y_test = train_test_split(X, y, random_state=1)
    est = MLPClassifier(hidden_layer_sizes=(50,), learning_rate_init=0.01,
                        random_state=0, backend=backend)
    classes = np.unique(y)
    for _ in range(10):
        for chunk in np.array_split(np.arange(len(y_train)), 5):
            est.partial_fit(X_train[chunk], y_train[chunk], classes=classes)
    # As in scikit-learn, n_iter_ counts the epochs of the last call only.
    assert est.n_iter_ == 1
    assert est.t_ == 10 * len(y_train)
    assert est.score(X_test, y_test) > 0.9


def test_xor_with_small_tanh_network(backend):
    X = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=float)
    y = np.array([0, 1, 1, 0])
    est = MLPClassifier(hidden_layer_sizes=(4,), activation="tanh",
                        solver="lbfgs", random_state=1, max_iter=1000,
                        backend=backend).fit(X, y)
    assert_array_equal(est.predict(X), y)


def test_digits_reaches_97_percent(digits, backend):
    X, y = digits
    X_train, X_test, y_train, y_test = train_test_split(
        X, y, test_size=0.25, random_state=0, stratify=y)
    est = MLPClassifier(hidden_layer_sizes=(100,), max_iter=300, random_state=0,
                        backend=backend).fit(X_train, y_train)
    assert est.score(X_test, y_test) >= 0.97
