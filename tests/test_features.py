"""The estimator surface: attributes, labels, outputs, dtypes, messages."""

import numpy as np
import pytest
import scipy.sparse as sp
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.exceptions import ConvergenceWarning
from sklearn.neural_network import MLPClassifier as SkClassifier
from sklearn.neural_network import MLPRegressor as SkRegressor

from fastmlp import MLPClassifier, MLPRegressor

FITTED_ATTRIBUTES = [
    "classes_", "loss_", "best_loss_", "loss_curve_", "validation_scores_",
    "best_validation_score_", "t_", "coefs_", "intercepts_", "n_features_in_",
    "n_iter_", "n_layers_", "n_outputs_", "out_activation_",
]


def _describe(value):
    """Type, dtype and shape of an attribute, recursively for lists."""
    if isinstance(value, list):
        return ["list", [_describe(v) for v in value[:3]], len(value)]
    if isinstance(value, np.ndarray):
        return ["ndarray", str(value.dtype), value.shape]
    return [type(value).__name__]


# fastmlp's own parameters, and their defaults (which leave scikit-learn's
# behaviour as it is).
ADDED = {MLPClassifier: {"backend": "auto", "class_weight": None, "rho": 0.9,
                         "weight_decay": 0.01, "dropout": 0.0, "scoring": None,
                         "matmul_precision": None},
         MLPRegressor: {"backend": "auto", "rho": 0.9,
                         "weight_decay": 0.01, "dropout": 0.0, "scoring": None,
                         "matmul_precision": None}}


def test_constructor_mirrors_sklearn():
    for ours, theirs in ((MLPClassifier, SkClassifier), (MLPRegressor, SkRegressor)):
        ours_params = ours().get_params()
        for name, default in ADDED[ours].items():
            assert ours_params.pop(name) == default
        assert ours_params == theirs().get_params()


@pytest.mark.parametrize("solver", ["adam", "lbfgs"])
@pytest.mark.parametrize("early_stopping", [False, True])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_fitted_attributes_like_sklearn(digits, solver, early_stopping, dtype):
    X, y = digits
    X = X.astype(dtype)
    common = dict(hidden_layer_sizes=(15, 7), max_iter=5, random_state=0,
                  solver=solver, early_stopping=early_stopping)
    ours = MLPClassifier(**common).fit(X, y)
    theirs = SkClassifier(**common).fit(X, y)
    # One deliberate difference: scikit-learn's lbfgs hands float32 weights
    # to scipy and keeps the float64 vectors it gets back; fastmlp keeps a
    # float32 model float32.
    sk_dtype = np.float64 if solver == "lbfgs" else dtype
    for name in FITTED_ATTRIBUTES:
        assert hasattr(ours, name) == hasattr(theirs, name), name
        if hasattr(theirs, name):
            expected = _describe(getattr(theirs, name))
            if name in ("coefs_", "intercepts_"):
                expected = _describe([a.astype(dtype) for a in getattr(theirs, name)])
            assert _describe(getattr(ours, name)) == expected, name
    assert ours.predict_proba(X).dtype == dtype
    assert theirs.predict_proba(X).dtype == sk_dtype


def test_float32_trains_and_predicts_in_float32(digits):
    X, y = digits
    X32 = X.astype(np.float32)
    est = MLPClassifier(hidden_layer_sizes=(30,), max_iter=20, random_state=0).fit(X32, y)
    assert all(c.dtype == np.float32 for c in est.coefs_ + est.intercepts_)
    assert est.predict_proba(X32).dtype == np.float32
    # float64 input on a float32 model predicts in float64, as NumPy promotes
    assert est.predict_proba(X).dtype == np.float64
    ref = MLPClassifier(hidden_layer_sizes=(30,), max_iter=20, random_state=0).fit(X, y)
    assert abs(est.loss_ - ref.loss_) / ref.loss_ < 1e-3
    assert est.score(X, y) == pytest.approx(ref.score(X, y), abs=0.01)


@pytest.mark.parametrize(
    "labels",
    [
        np.array(["cat", "dog", "emu"]),
        np.array([-7, 3, 100]),
        np.array([1.0, 2.0, -5.0]),
        np.array(["no", "yes"]),
        np.array([-1, 1]),
    ],
    ids=["strings", "noncontiguous-ints", "floats", "binary-strings", "binary-pm1"],
)
def test_labels_of_any_type(labels):
    rs = np.random.RandomState(0)
    X = rs.normal(size=(90, 4))
    idx = np.argmax(X[:, : len(labels)], axis=1)
    y = labels[idx]
    ours = MLPClassifier(hidden_layer_sizes=(10,), max_iter=30, random_state=0).fit(X, y)
    theirs = SkClassifier(hidden_layer_sizes=(10,), max_iter=30, random_state=0).fit(X, y)
    assert_array_equal(ours.classes_, np.sort(labels))
    pred = ours.predict(X)
    assert pred.dtype == y.dtype
    assert_array_equal(pred, theirs.predict(X))
    assert set(pred) <= set(labels)
    assert ours.predict_proba(X).shape == (90, len(labels))
    assert_allclose(ours.predict_proba(X).sum(axis=1), 1)
    assert_allclose(ours.predict_log_proba(X), np.log(ours.predict_proba(X)))


INDICATOR_TARGETS = {
    "multiclass-strings": (np.array(["emu", "cat", "dog", "cat"]), None),
    "multiclass-object": (np.array(["b", 3, "a"], dtype=object)[[0, 2, 0, 2]], None),
    "multiclass-floats": (np.array([2.0, -1.0, 7.0, 2.0, 7.0]), None),
    "multiclass-many": (np.arange(70)[::-1].repeat(2), None),   # > 64 classes
    "binary-ints": (np.array([4, 9, 9, 4, 9]), None),
    "binary-strings": (np.array(["yes", "no", "no"]), None),
    "partial-subset": (np.array([2, 2, 0]), np.array([0, 1, 2, 3])),
    "partial-binary-one-label": (np.array([1, 1, 1]), np.array([0, 1])),
    "partial-one-class": (np.array([5, 5]), np.array([5])),
    "multilabel": (np.array([[1, 0, 1], [0, 0, 1], [1, 1, 0]]), None),
}


@pytest.mark.parametrize("name", list(INDICATOR_TARGETS))
def test_target_indicator_is_label_binarizers(name):
    # The classifier one-hot encodes y itself where it can; it must give
    # exactly what scikit-learn's LabelBinarizer gives, for the classes seen
    # in fit or those given to partial_fit.
    from sklearn.preprocessing import LabelBinarizer

    y, classes = INDICATOR_TARGETS[name]
    est = MLPClassifier()
    est._label_binarizer = LabelBinarizer().fit(y if classes is None else classes)
    expected = est._label_binarizer.transform(y).astype(bool)
    got = est._indicator(y)
    assert got.dtype == np.bool_
    assert_array_equal(got, expected)
    assert got.shape == expected.shape


def test_multilabel_indicator():
    rs = np.random.RandomState(1)
    X = rs.normal(size=(120, 5))
    Y = (X[:, :3] + 0.3 * rs.normal(size=(120, 3)) > 0).astype(int)
    est = MLPClassifier(hidden_layer_sizes=(20,), solver="lbfgs", max_iter=300,
                        random_state=0).fit(X, Y)
    assert est.out_activation_ == "logistic"
    assert est.n_outputs_ == 3
    assert est.predict(X).shape == Y.shape
    proba = est.predict_proba(X)
    assert proba.shape == (120, 3) and np.all((proba >= 0) & (proba <= 1))
    assert (est.predict(X) == Y).mean() > 0.9


def test_multi_output_regression(regression):
    X, y = regression
    Y = np.column_stack([y, -2 * y, X[:, 0]])
    est = MLPRegressor(hidden_layer_sizes=(30,), solver="lbfgs", max_iter=300,
                       random_state=0).fit(X, Y)
    assert est.n_outputs_ == 3
    assert est.predict(X).shape == (len(X), 3)
    assert est.score(X, Y) > 0.9


def test_poisson_regression_learns_rates():
    rs = np.random.RandomState(0)
    X = rs.uniform(-1, 1, size=(2000, 2))
    rate = np.exp(1.0 + X[:, 0] - 0.5 * X[:, 1])
    y = rs.poisson(rate)
    est = MLPRegressor(loss="poisson", hidden_layer_sizes=(10,), solver="lbfgs",
                       max_iter=300, random_state=0).fit(X, y)
    assert est.out_activation_ == "exp"
    assert np.all(est.predict(X) > 0)
    assert np.corrcoef(est.predict(X), rate)[0, 1] > 0.95


def test_sparse_predictions_match_dense(digits):
    X, y = digits
    est = MLPClassifier(hidden_layer_sizes=(20,), max_iter=10, random_state=0).fit(X, y)
    for fmt in (sp.csr_matrix, sp.csc_matrix):
        assert_allclose(est.predict_proba(fmt(X)), est.predict_proba(X), rtol=1e-12)


def test_verbose_prints_like_sklearn(digits, capsys):
    X, y = digits
    common = dict(hidden_layer_sizes=(10,), max_iter=30, random_state=0,
                  verbose=True, early_stopping=True, n_iter_no_change=2, tol=0.5)
    SkClassifier(**common).fit(X, y)
    theirs = capsys.readouterr().out
    MLPClassifier(**common).fit(X, y)
    ours = capsys.readouterr().out
    assert "Iteration 1, loss = " in ours and "Validation score:" in ours
    assert ours == theirs


def test_lbfgs_verbose_prints_one_line_per_iteration(digits, capsys):
    X, y = digits
    est = MLPClassifier(solver="lbfgs", max_iter=7, verbose=True, random_state=0).fit(X, y)
    lines = capsys.readouterr().out.splitlines()
    assert [line.split(",")[0] for line in lines] == [
        f"Iteration {i}" for i in range(1, est.n_iter_ + 1)]
    assert float(lines[-1].split("= ")[1]) == pytest.approx(est.loss_, rel=1e-7)


def test_convergence_warnings_where_sklearn_warns(digits):
    X, y = digits
    with pytest.warns(ConvergenceWarning, match="Maximum iterations \\(3\\)"):
        MLPClassifier(max_iter=3, random_state=0).fit(X, y)
    with pytest.warns(ConvergenceWarning, match="lbfgs failed to converge"):
        MLPClassifier(solver="lbfgs", max_iter=3, random_state=0).fit(X, y)


def test_batch_size_larger_than_data_warns():
    X = np.random.RandomState(0).normal(size=(20, 2))
    with pytest.warns(UserWarning, match="It is going to be clipped"):
        MLPRegressor(batch_size=50, max_iter=2).fit(X, X[:, 0])


def test_lbfgs_honours_max_fun(digits):
    X, y = digits
    with pytest.warns(ConvergenceWarning, match="lbfgs failed"):
        est = MLPClassifier(solver="lbfgs", max_fun=10, max_iter=1000,
                            random_state=0).fit(X, y)
    assert est.n_iter_ <= 10


def test_warm_start_with_changed_network_is_a_clear_error(digits):
    X, y = digits
    est = MLPClassifier(hidden_layer_sizes=(5,), max_iter=2, warm_start=True).fit(X, y)
    est.set_params(hidden_layer_sizes=(6,))
    with pytest.raises(ValueError, match="must not change between warm-started"):
        est.fit(X, y)


def test_warm_start_needs_same_classes(digits):
    X, y = digits
    est = MLPClassifier(max_iter=2, warm_start=True).fit(X, y)
    with pytest.raises(ValueError, match="warm_start can only be used"):
        est.fit(X[y < 5], y[y < 5])


def test_early_stopping_restores_best_weights(digits):
    X, y = digits
    est = MLPClassifier(hidden_layer_sizes=(20,), early_stopping=True, max_iter=60,
                        learning_rate_init=0.05, random_state=0).fit(X, y)
    best = int(np.argmax(est.validation_scores_))
    assert est.best_validation_score_ == est.validation_scores_[best]
    assert best < len(est.validation_scores_) - 1, "stopped at its best epoch"
    # Re-running only up to the best epoch gives the restored weights.
    again = MLPClassifier(hidden_layer_sizes=(20,), early_stopping=True,
                          max_iter=best + 1, learning_rate_init=0.05,
                          random_state=0).fit(X, y)
    for a, b in zip(est.coefs_, again.coefs_):
        assert_array_equal(a, b)


def test_feature_names_in(digits):
    pd = pytest.importorskip("pandas", reason="pandas is an optional test extra")
    X, y = digits
    df = pd.DataFrame(X, columns=[f"px{i}" for i in range(X.shape[1])])
    est = MLPClassifier(max_iter=3, random_state=0).fit(df, y)
    assert list(est.feature_names_in_) == list(df.columns)
    with pytest.warns(UserWarning, match="feature names"):
        est.predict(X)
