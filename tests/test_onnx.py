"""ONNX export (issue 10, point 3): onnxruntime's outputs of the exported
graph equal predict and predict_proba within 1e-5 in float32."""

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal

from fastmlp import MLPClassifier, MLPRegressor
from fastmlp._operations import HIDDEN_ACTIVATIONS

pytest.importorskip("skl2onnx", reason="skl2onnx is in the optional extra fastmlp[onnx]")
rt = pytest.importorskip("onnxruntime", reason="onnxruntime is in fastmlp[onnx]")
import fastmlp.onnx  # noqa: E402,F401  (registers the converters)
from skl2onnx import to_onnx  # noqa: E402


def _run(model, X, **options):
    onx = to_onnx(model, X[:1], options=options or None)
    session = rt.InferenceSession(onx.SerializeToString(),
                                  providers=["CPUExecutionProvider"])
    return session.run(None, {session.get_inputs()[0].name: X})


@pytest.fixture(scope="module")
def data(digits):
    X, y = digits
    return X.astype(np.float32), y


ACTIVATIONS = [*HIDDEN_ACTIVATIONS, ("gelu", "silu", "relu")]


@pytest.mark.parametrize("activation", ACTIVATIONS, ids=str)
def test_multiclass_for_every_activation(data, activation):
    X, y = data
    hidden = (12, 9, 7) if isinstance(activation, tuple) else (12,)
    model = MLPClassifier(hidden_layer_sizes=hidden, activation=activation, max_iter=5,
                          random_state=0).fit(X, y)
    labels, proba = _run(model, X, zipmap=False)
    assert_allclose(proba, model.predict_proba(X), atol=1e-5)
    assert_array_equal(labels, model.predict(X))


def test_binary_with_string_labels_and_zipmap(data):
    X, y = data
    model = MLPClassifier(hidden_layer_sizes=(8,), max_iter=5, random_state=0)
    model.fit(X, np.array(["odd", "even"])[y % 2])
    labels, proba = _run(model, X, zipmap=False)
    assert_allclose(proba, model.predict_proba(X), atol=1e-5)
    assert_array_equal(labels, model.predict(X))
    labels, mapped = _run(model, X)
    assert mapped[0].keys() == {"even", "odd"}


def test_multilabel(data):
    X, y = data
    Y = np.stack([y % 2, y % 3 == 0, y > 4], axis=1).astype(int)
    model = MLPClassifier(hidden_layer_sizes=(8,), max_iter=5, random_state=0).fit(X, Y)
    labels, proba = _run(model, X, zipmap=False)
    assert_allclose(proba, model.predict_proba(X), atol=1e-5)
    assert_array_equal(labels, model.predict(X))


@pytest.mark.parametrize("loss", ["squared_error", "poisson"])
@pytest.mark.parametrize("n_outputs", [1, 2])
def test_regression(data, loss, n_outputs):
    X, y = data
    Y = np.stack([y, 2 * y + 1], axis=1)[:, :n_outputs].astype(float)
    model = MLPRegressor(loss=loss, hidden_layer_sizes=(8,), activation="silu", max_iter=5,
                         random_state=0).fit(X, Y if n_outputs > 1 else Y.ravel())
    predicted, = _run(model, X)
    assert predicted.shape == (len(X), n_outputs)
    expected = model.predict(X).reshape(len(X), n_outputs)
    assert_allclose(predicted, expected, rtol=1e-5, atol=1e-5 * np.abs(expected).max())
