"""Fit time on load_digits: scikit-learn vs every fastmlp engine, side by side.

    pytest bench/ --benchmark-only --benchmark-group-by=param:dtype
"""

import numpy as np
import pytest
from sklearn.datasets import load_digits
from sklearn.neural_network import MLPClassifier as SkClassifier

from fastmlp import MLPClassifier
from fastmlp.engines import _ENGINES

EPOCHS = 20
MODELS = ["sklearn"] + [n for n, c in _ENGINES.items() if c.is_available()]


@pytest.fixture(scope="module")
def digits():
    X, y = load_digits(return_X_y=True)
    return X / 16.0, y


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("model", MODELS)
def test_fit_digits(benchmark, digits, model, dtype):
    X, y = digits
    X = X.astype(dtype)
    params = dict(hidden_layer_sizes=(100,), max_iter=EPOCHS, tol=0.0,
                  n_iter_no_change=EPOCHS + 1, random_state=0)
    if model == "sklearn":
        make = lambda: SkClassifier(**params)  # noqa: E731
    else:
        make = lambda: MLPClassifier(backend=model, **params)  # noqa: E731
    # The warm-up round keeps first-call JIT compilation out of the timings.
    est = benchmark.pedantic(lambda: make().fit(X, y), rounds=3, iterations=1,
                             warmup_rounds=1)
    assert est.n_iter_ == EPOCHS
    assert np.isfinite(est.loss_)
