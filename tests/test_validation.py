"""Bad input gets the exception scikit-learn raises, never a crash or NaN model."""

import re

import numpy as np
import pytest
from sklearn.neural_network import MLPClassifier as SkClassifier
from sklearn.neural_network import MLPRegressor as SkRegressor

from fastmlp import MLPClassifier, MLPRegressor

PAIRS = [(MLPClassifier, SkClassifier), (MLPRegressor, SkRegressor)]


def _data(seed=0):
    rs = np.random.RandomState(seed)
    X = rs.normal(size=(40, 3))
    y = (X[:, 0] > 0).astype(int)
    return X, y


def _raises_like_sklearn(ours, theirs, call):
    """Both raise the same exception type with the same message."""
    with pytest.raises(Exception) as sk_info:
        call(theirs)
    with pytest.raises(type(sk_info.value), match=re.escape(str(sk_info.value)[:60])):
        call(ours)


BAD_X = {
    "nan": lambda X: np.where(X > 1, np.nan, X),
    "inf": lambda X: np.where(X > 1, np.inf, X),
    "1d": lambda X: X[:, 0],
    "empty": lambda X: X[:0],
    "strings": lambda X: np.array([["a", "b", "c"]] * len(X), dtype=object),
    "3d": lambda X: X[:, :, None],
}


@pytest.mark.parametrize("cls,sk", PAIRS)
@pytest.mark.parametrize("bad", sorted(BAD_X))
def test_bad_X_in_fit(cls, sk, bad):
    X, y = _data()
    Xb = BAD_X[bad](X)
    y = y[: len(Xb)]
    _raises_like_sklearn(cls(max_iter=2), sk(max_iter=2), lambda e: e.fit(Xb, y))


@pytest.mark.parametrize("cls,sk", PAIRS)
@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
@pytest.mark.parametrize("where", ["X", "y"])
def test_non_finite_float_input_in_fit(cls, sk, bad, where):
    # Plain float arrays take fit's direct validation: a non-finite entry
    # must still get scikit-learn's error.
    X, y = _data()
    X, y = X.astype(np.float32), y.astype(np.float64)
    if where == "X":
        X[3, 1] = bad
    else:
        y[5] = bad
    _raises_like_sklearn(cls(max_iter=2), sk(max_iter=2), lambda e: e.fit(X, y))


@pytest.mark.parametrize("cls", [MLPClassifier, MLPRegressor])
def test_direct_validation_of_plain_input_fits_as_validate_data(cls, monkeypatch):
    X, y = _data()
    X = X.astype(np.float32)
    pd = pytest.importorskip("pandas")
    frame = pd.DataFrame(X, columns=[f"f{i}" for i in range(X.shape[1])])

    def fits():
        kw = dict(hidden_layer_sizes=(4,), max_iter=3, random_state=0)
        est = cls(**kw).fit(frame, y)            # names, then a fresh fit without
        assert hasattr(est, "feature_names_in_")
        est.fit(X, y)
        warm = cls(warm_start=True, **kw).fit(X, y)
        warm.fit(X, y)
        # A fresh fit on fewer features than the last: n_features_in_ follows.
        fewer = cls(**kw).fit(np.hstack([X, X[:, :1]]), y).fit(X, y)
        return est, warm, fewer

    direct = fits()
    monkeypatch.setattr(cls, "_plain_training_input", lambda self, X, y, reset: None)
    general = fits()
    for ours, theirs in zip(direct, general):
        assert not hasattr(ours, "feature_names_in_")
        assert ours.n_features_in_ == theirs.n_features_in_ == X.shape[1]
        for a, b in zip(ours.coefs_, theirs.coefs_):
            np.testing.assert_array_equal(a, b)


def test_finite_input_whose_sum_overflows_is_finite():
    # scikit-learn's quick check (a finite sum) fails here, then its full
    # check passes X: so must fit's direct validation.
    X, y = _data()
    X = X.astype(np.float32)
    X[0, 0] = X[1, 0] = 3e38
    ours = MLPClassifier(hidden_layer_sizes=(4,), max_iter=2, random_state=0).fit(X, y)
    theirs = SkClassifier(hidden_layer_sizes=(4,), max_iter=2, random_state=0).fit(X, y)
    assert ours.n_features_in_ == theirs.n_features_in_


@pytest.mark.parametrize("cls,sk", PAIRS)
@pytest.mark.parametrize("bad", ["nan", "inf", "1d", "strings"])
def test_bad_X_in_predict(cls, sk, bad):
    X, y = _data()
    ours = cls(max_iter=2, random_state=0).fit(X, y)
    theirs = sk(max_iter=2, random_state=0).fit(X, y)
    Xb = BAD_X[bad](X)
    _raises_like_sklearn(ours, theirs, lambda e: e.predict(Xb))


@pytest.mark.parametrize("cls,sk", PAIRS)
def test_wrong_number_of_features(cls, sk):
    X, y = _data()
    ours = cls(max_iter=2, random_state=0).fit(X, y)
    theirs = sk(max_iter=2, random_state=0).fit(X, y)
    _raises_like_sklearn(ours, theirs, lambda e: e.predict(X[:, :2]))
    # and on a warm start / partial_fit
    _raises_like_sklearn(ours, theirs, lambda e: e.partial_fit(X[:, :2], y))


@pytest.mark.parametrize("cls,sk", PAIRS)
def test_mismatched_sample_weight(cls, sk):
    X, y = _data()
    _raises_like_sklearn(
        cls(max_iter=2), sk(max_iter=2),
        lambda e: e.fit(X, y, sample_weight=np.ones(len(y) - 1)),
    )


@pytest.mark.parametrize("cls,sk", PAIRS)
def test_mismatched_lengths(cls, sk):
    X, y = _data()
    _raises_like_sklearn(cls(max_iter=2), sk(max_iter=2), lambda e: e.fit(X, y[:-1]))


def test_partial_fit_needs_classes_first():
    X, y = _data()
    _raises_like_sklearn(MLPClassifier(), SkClassifier(), lambda e: e.partial_fit(X, y))
    est = MLPClassifier().partial_fit(X, y, classes=[0, 1])
    with pytest.raises(ValueError, match="not the same as on last call"):
        est.partial_fit(X, y, classes=[0, 1, 2])
    with pytest.raises(ValueError, match="classes not in"):
        est.partial_fit(X, y + 5)


def test_partial_fit_single_class_with_classes_is_fine():
    X, y = _data()
    est = MLPClassifier(random_state=0).partial_fit(X, np.zeros(len(X), int), classes=[0, 1])
    assert list(est.classes_) == [0, 1]
    assert est.predict_proba(X).shape == (len(X), 2)


def test_partial_fit_not_available_for_lbfgs():
    for cls in (MLPClassifier, MLPRegressor):
        est = cls(solver="lbfgs")
        assert not hasattr(est, "partial_fit")
        with pytest.raises(AttributeError, match="has no attribute .partial_fit."):
            est.partial_fit


def test_partial_fit_rejects_early_stopping():
    X, y = _data()
    with pytest.raises(ValueError, match="does not support early_stopping"):
        MLPRegressor(early_stopping=True).partial_fit(X, y.astype(float))


INVALID_PARAMS = [
    {"hidden_layer_sizes": -1},
    {"hidden_layer_sizes": [3, 0]},
    {"activation": "softmax"},
    {"solver": "newton"},
    {"alpha": -1.0},
    {"batch_size": 0},
    {"learning_rate": "fast"},
    {"learning_rate_init": 0.0},
    {"max_iter": 0},
    {"momentum": 1.5},
    {"validation_fraction": 1.0},
    {"beta_1": 1.0},
    {"epsilon": 0.0},
    {"n_iter_no_change": 0},
    {"max_fun": 0},
    {"shuffle": "yes"},
]


@pytest.mark.parametrize("cls,sk", PAIRS)
@pytest.mark.parametrize("params", INVALID_PARAMS, ids=str)
def test_invalid_hyperparameters(cls, sk, params):
    X, y = _data()
    _raises_like_sklearn(cls(**params), sk(**params), lambda e: e.fit(X, y))


def test_invalid_backend_and_regressor_loss():
    X, y = _data()
    with pytest.raises(ValueError, match="'backend' parameter"):
        MLPClassifier(backend="tpu").fit(X, y)
    with pytest.raises(ValueError, match="'loss' parameter"):
        MLPRegressor(loss="huber").fit(X, y)


def test_unavailable_backend_is_a_clear_error():
    from fastmlp.engines import _ENGINES

    X, y = _data()
    for name in ("cpu", "cuda"):
        if name in _ENGINES and _ENGINES[name].is_available():
            continue
        with pytest.raises(ValueError, match=f"backend='{name}' is not available"):
            MLPClassifier(backend=name, max_iter=2).fit(X, y)


def test_poisson_rejects_negative_targets():
    X, _ = _data()
    with pytest.raises(ValueError, match="negative"):
        MLPRegressor(loss="poisson").fit(X, X[:, 0])


def test_diverging_training_stops_with_clear_error():
    rs = np.random.RandomState(0)
    X = rs.normal(size=(100, 5)) * 1e3
    y = rs.normal(size=100) * 1e6
    est = MLPRegressor(solver="sgd", learning_rate_init=10.0, max_iter=50, random_state=0)
    with pytest.raises(ValueError, match="non-finite"):
        est.fit(X, y)
    # sklearn gives up the same way (at the end of its fit rather than at once)
    with pytest.raises(ValueError, match="non-finite"):
        SkRegressor(solver="sgd", learning_rate_init=10.0, max_iter=50, random_state=0).fit(X, y)


def test_inputs_are_not_modified():
    rs = np.random.RandomState(0)
    X = rs.normal(size=(60, 4))
    y = rs.randint(3, size=60)
    w = rs.uniform(0.5, 2, size=60)
    X0, y0, w0 = X.copy(), y.copy(), w.copy()
    for solver in ("adam", "sgd", "lbfgs"):
        est = MLPClassifier(solver=solver, max_iter=5, early_stopping=solver != "lbfgs",
                            random_state=0).fit(X, y, sample_weight=w)
        est.predict_proba(X)
        np.testing.assert_array_equal(X, X0)
        np.testing.assert_array_equal(y, y0)
        np.testing.assert_array_equal(w, w0)
    yr = X[:, 0].copy()
    MLPRegressor(max_iter=5).fit(X, yr)
    np.testing.assert_array_equal(yr, X0[:, 0])


@pytest.mark.parametrize("dtype", [np.int8, np.uint8, np.int32, np.int64, np.uint32,
                                   np.uint64, np.intp])
@pytest.mark.parametrize("labels", [[3], [0, 1], [5, -2], [0, 1, 2], [7, 3, 9, 100],
                                    [0, 40000, 70000], [-(2**31), 2**31 - 1]])
def test_integer_labels_binarizer_has_the_attributes_fit_gives(dtype, labels):
    from sklearn.preprocessing import LabelBinarizer

    from fastmlp._multilayer_perceptron import _fitted_label_binarizer

    info = np.iinfo(dtype)
    labels = [v for v in labels if info.min <= v <= info.max]
    if not labels:
        pytest.skip(f"no label of this case fits {np.dtype(dtype).name}")
    y = np.random.RandomState(len(labels)).choice(labels, size=500).astype(dtype)
    y[:len(labels)] = labels                    # every label present
    ours, theirs = _fitted_label_binarizer(y), LabelBinarizer().fit(y)
    assert sorted(vars(ours)) == sorted(vars(theirs))
    for name, value in vars(theirs).items():
        if isinstance(value, np.ndarray):
            assert value.dtype == getattr(ours, name).dtype
            np.testing.assert_array_equal(getattr(ours, name), value)
        else:
            assert getattr(ours, name) == value
    Y = theirs.transform(y)
    np.testing.assert_array_equal(ours.transform(y), Y)
    np.testing.assert_array_equal(ours.inverse_transform(Y), theirs.inverse_transform(Y))


@pytest.mark.parametrize("cls,sk", PAIRS)
@pytest.mark.parametrize("valid,invalid", [
    (dict(alpha=1e-4), dict(alpha=-1.0)),
    (dict(max_iter=5), dict(max_iter=5.0)),           # equal, not an integer
    (dict(shuffle=True), dict(shuffle=1)),            # equal, not a boolean
    (dict(hidden_layer_sizes=(3, 2)), dict(hidden_layer_sizes=(3, -2))),
])
def test_parameters_validated_before_are_no_pass_for_others(cls, sk, valid, invalid):
    # Sets that passed are remembered by value and type: an equal value of
    # another type, or another value, is validated and refused as
    # scikit-learn refuses it.
    X, y = _data()
    for _ in range(2):
        cls(**{"max_iter": 2, **valid}).fit(X, y)
    kw = {"max_iter": 2, **invalid}
    _raises_like_sklearn(cls(**kw), sk(**kw), lambda e: e.fit(X, y))


def test_a_set_of_parameters_is_validated_once(monkeypatch):
    import sklearn.base

    calls = []
    original = sklearn.base.validate_parameter_constraints
    monkeypatch.setattr(sklearn.base, "validate_parameter_constraints",
                        lambda *a, **k: calls.append(1) or original(*a, **k))
    X, y = _data()
    for _ in range(3):
        MLPClassifier(alpha=0.012345, max_iter=2).fit(X, y)
    MLPClassifier(alpha=[0.012345], max_iter=2)      # (unfitted: not validated)
    assert len(calls) == 1
    # An unhashable value is validated every time (and refused here).
    for _ in range(2):
        with pytest.raises(ValueError):
            MLPClassifier(hidden_layer_sizes=(3,), alpha=[0.1], max_iter=2).fit(X, y)
    assert len(calls) == 3
    # So is an object, which a kept set would keep alive: a user's RandomState.
    rs = np.random.RandomState(0)
    for _ in range(2):
        MLPClassifier(alpha=0.012345, max_iter=2, random_state=rs).fit(X, y)
    assert len(calls) == 5
