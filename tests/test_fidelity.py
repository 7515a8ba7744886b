"""Float64 fidelity: on awkward data too, every engine's fit is scikit-learn's,
bit for bit.

test_trajectory.py pins well-scaled problems to rtol 1e-7. The cases here
were found by fuzzing; each drove the cpu engine through a place where its
arithmetic once departed from scikit-learn's order of operations (see
kernels/_blas.pxd, _layers.pxd, _losses.pxd, _pairwise.h, _npy_loops.h), and
each now asserts equal bits: the loss curve, the weights and the
predictions.
"""

import numpy as np
import pytest
from numpy.testing import assert_array_equal
from sklearn.datasets import load_diabetes
from sklearn.neural_network import MLPClassifier as SkClassifier
from sklearn.neural_network import MLPRegressor as SkRegressor
from sklearn.preprocessing import StandardScaler

from fastmlp import MLPClassifier, MLPRegressor, _blas


def _skip_unless_exact(backend):
    # The cpu engine gives NumPy's bits when it calls NumPy's own BLAS and
    # NumPy's own exp and tanh loops, as it does with NumPy's wheels.
    if backend != "cpu":
        return
    from fastmlp._kernels import _train

    if _blas.numpy_cblas() is None or not all(_train.npy_loops().values()):
        pytest.skip("the kernels cannot call NumPy's own BLAS and loops here")


def assert_same_bits(ours, theirs, X):
    assert ours.n_iter_ == theirs.n_iter_
    if hasattr(theirs, "loss_curve_"):
        assert_array_equal(ours.loss_curve_, theirs.loss_curve_)
    assert ours.loss_ == theirs.loss_
    for a, b in zip(ours.coefs_ + ours.intercepts_,
                    theirs.coefs_ + theirs.intercepts_):
        assert_array_equal(a, b)
    predict = "predict_proba" if hasattr(theirs, "predict_proba") else "predict"
    for rows in (X, X[:1]):
        assert_array_equal(getattr(ours, predict)(rows), getattr(theirs, predict)(rows))


def _fit_both(backend, sk_cls, ours_cls, X, y, sample_weight=None, **params):
    _skip_unless_exact(backend)
    theirs = sk_cls(**params).fit(X, y, sample_weight=sample_weight)
    ours = ours_cls(backend=backend, **params).fit(X, y, sample_weight=sample_weight)
    assert_same_bits(ours, theirs, X)


def test_saturated_logistic_output(backend):
    # Inputs of scale 100 saturate the logistic outputs: the binary log loss
    # must come from the clipped probabilities (not from log1p(exp(z))), and
    # the one-unit layer multiplies by GEMV and NumPy's outer-product loop.
    rs = np.random.RandomState(0)
    X = 100 * rs.randn(200, 2) - 100
    y = rs.rand(200, 3) > 0.5
    _fit_both(backend, SkClassifier, MLPClassifier, X, y,
              hidden_layer_sizes=(1,), solver="sgd", activation="identity",
              momentum=0.0, max_iter=3, shuffle=False, random_state=1)


def test_batches_of_one_row_with_weights(backend):
    # One row per batch: NumPy multiplies by DOT and GEMV only; tanh is
    # NumPy's own; the Adam rate's powers are float powers.
    rs = np.random.RandomState(1)
    X = rs.randn(40, 9) * 3
    y = rs.randint(2, size=40)
    sw = rs.uniform(0.2, 2, 40)
    _fit_both(backend, SkClassifier, MLPClassifier, X, y, sample_weight=sw,
              hidden_layer_sizes=(13, 19), activation="tanh", solver="adam",
              batch_size=1, max_iter=4, random_state=0)


def test_power_of_two_batches(backend):
    # Batches of 2^k rows: the optimizer multiplies by 1 / 2^k instead of
    # dividing (the same bits), the last batch (6 rows) divides.
    rs = np.random.RandomState(7)
    X = rs.randn(134, 11)
    y = rs.randint(4, size=134)
    _fit_both(backend, SkClassifier, MLPClassifier, X, y,
              hidden_layer_sizes=(16, 8), solver="adam", batch_size=32,
              alpha=0.01, max_iter=6, random_state=2)


def test_one_unit_and_one_output_weighted(backend):
    # A single output column: NumPy sums its loss, its intercept gradient
    # and the weights pairwise; one hidden unit: GEMV and the outer product.
    rs = np.random.RandomState(2)
    X = rs.randn(203, 5) * 1e-3 + 5e-3
    y = rs.randn(203) * 50
    sw = rs.uniform(0.2, 2, 203) * 30
    _fit_both(backend, SkRegressor, MLPRegressor, X, y, sample_weight=sw,
              hidden_layer_sizes=(1,), activation="logistic", solver="sgd",
              batch_size=150, learning_rate_init=0.01, alpha=0.1, max_iter=10,
              random_state=3)


def test_many_classes_softmax(backend):
    # Softmax over 12 classes: NumPy's exp and its pairwise row sums (eight
    # running sums from 8 terms on); L2 added layer by layer.
    rs = np.random.RandomState(3)
    X = rs.randn(180, 30) * 1e4
    y = rs.randint(12, size=180)
    _fit_both(backend, SkClassifier, MLPClassifier, X, y,
              hidden_layer_sizes=(17, 9), activation="relu", solver="adam",
              batch_size=50, alpha=0.1, learning_rate_init=0.01, max_iter=8,
              random_state=4)


def test_poisson_exp_output(backend):
    rs = np.random.RandomState(4)
    X = rs.randn(120, 6)
    y = rs.poisson(3, size=(120, 2)).astype(float)
    _fit_both(backend, SkRegressor, MLPRegressor, X, y, loss="poisson",
              hidden_layer_sizes=(8,), activation="tanh", solver="sgd",
              learning_rate_init=0.01, max_iter=8, random_state=5)


def test_lbfgs_on_diabetes(backend):
    # 200 L-BFGS iterations amplify any difference in the last bit: before
    # the cpu engine added in NumPy's orders it ended at a loss of 79.35,
    # against scikit-learn's 78.64.
    X, y = load_diabetes(return_X_y=True)
    X = StandardScaler().fit_transform(X)
    _fit_both(backend, SkRegressor, MLPRegressor, X, y, solver="lbfgs",
              random_state=0)


@pytest.mark.parametrize("params", [
    dict(solver="lbfgs"),
    dict(solver="adam", shuffle=False, max_iter=40),
    dict(solver="sgd", shuffle=False, early_stopping=True, max_iter=40),
    dict(solver="sgd", max_iter=40),
])
def test_fortran_ordered_data_as_sklearn_multiplies_it(backend, params):
    # np.asarray of a DataFrame is F-ordered, and scikit-learn multiplies it
    # as it is where it multiplies X itself (lbfgs, unshuffled minibatches,
    # predictions): BLAS then adds in another order than for a C copy, and
    # 200 L-BFGS iterations turn that into a loss of 82.58 on diabetes
    # against 78.64 for C-ordered X. Both engines must follow the F-ordered
    # fit. (Shuffled minibatches and the early-stopping split are C copies.)
    X, y = load_diabetes(return_X_y=True)
    X = np.asfortranarray(StandardScaler().fit_transform(X))
    _fit_both(backend, SkRegressor, MLPRegressor, X, y, random_state=0, **params)


def test_fortran_ordered_predictions_beyond_one_block(backend):
    # Predictions on F-ordered X run another path than C-ordered ones (the
    # first layer NumPy's product of the whole X, then the kernels on all
    # rows at once): scikit-learn's bits there too.
    rs = np.random.RandomState(4)
    X = np.asfortranarray(rs.normal(size=(1500, 30)))
    y = rs.randint(3, size=1500)
    _fit_both(backend, SkClassifier, MLPClassifier, X, y, hidden_layer_sizes=(40,),
              max_iter=3, shuffle=False, random_state=0)


@pytest.mark.parametrize("n_features, hidden, n_rows", [
    (20, 32, 20000),      # the whole product regular, blocks of it small-matrix
    (100, 50, 2049),      # a one-row last block
])
def test_predictions_beyond_one_block_keep_sklearns_bits(n_features, hidden, n_rows):
    # C-ordered float64 input past INFERENCE_BLOCK_ROWS: OpenBLAS chooses its
    # kernel and thread count by a product's size, so blocks of rows could
    # add in another order than scikit-learn's one product: they must not.
    _skip_unless_exact("cpu")
    from fastmlp import _inference

    assert n_rows > _inference.BLOCK_ROWS
    rs = np.random.RandomState(n_features)
    X = rs.normal(size=(300, n_features))
    y = rs.randint(10, size=300)
    params = dict(hidden_layer_sizes=(hidden,), max_iter=3, random_state=0)
    theirs = SkClassifier(**params).fit(X, y)
    ours = MLPClassifier(**params).fit(X, y)
    X_big = rs.normal(size=(n_rows, n_features))
    assert_array_equal(ours.predict_proba(X_big), theirs.predict_proba(X_big))
    assert_array_equal(ours.predict(X_big), theirs.predict(X_big))
