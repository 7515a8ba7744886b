"""Suite 3: predict_proba on 10000 rows, and single-row latency.

Each model is trained one epoch on the synthetic MNIST-shaped data (hidden
(100,), float32) and then only predicts. Times per call: the batch rows'
speed-ups compare their fastest calls, the single-row ones their medians.

    pytest bench/test_bench_inference.py --benchmark-only
"""

import numpy as np
import pytest

from fastmlp import _bench

QUICK = _bench.quick_from_env()
N_TRAIN = _bench.MNIST_TRAIN_QUICK if QUICK else _bench.MNIST_TRAIN
HIDDEN, BATCH, DTYPE = (100,), 200, "float32"
MODELS = _bench.available_models()


@pytest.fixture(scope="module")
def data():
    return _bench.mnist_data(DTYPE, N_TRAIN)


@pytest.fixture(scope="module")
def fitted(data):
    """One-epoch models, fitted on first use and kept for the module."""
    X, y, _, _ = data
    models = {}

    def get(model):
        if model not in models:
            models[model] = _bench.fit_quietly(
                _bench.make_model(model, HIDDEN, BATCH, 1), X, y)
        return models[model]

    return get


def _median(benchmark):
    """The median of the benchmark's rounds (NaN when it kept none, as under
    --benchmark-disable)."""
    return float(benchmark.stats.stats.median) if benchmark.stats else np.nan


@pytest.mark.parametrize("model", MODELS)
def test_predict_proba_batch(benchmark, record, data, fitted, model):
    X, y, X_test, y_test = data
    estimator = fitted(model)
    layer_units = _bench.classifier_layer_units(X, y, HIDDEN)
    n = X_test.shape[0]
    floor = _bench.gemm_floor(n, layer_units, n, DTYPE, repeats=5, forward_only=True)
    roofline = _bench.forward_work(n, layer_units) / _bench.gemm_peak(DTYPE)
    proba = benchmark.pedantic(estimator.predict_proba, args=(X_test,),
                               rounds=5 if QUICK else 10, iterations=1,
                               warmup_rounds=1)
    seconds = record("inference", f"predict_proba {n} rows {DTYPE}", model, "call")
    benchmark.extra_info.update(
        floor_ratio=seconds / floor, roofline_ratio=seconds / roofline,
        accuracy=float(np.mean(estimator.classes_[proba.argmax(axis=1)] == y_test)),
    )


@pytest.mark.parametrize("model", MODELS)
def test_predict_proba_row(benchmark, record, data, fitted, model):
    _, _, X_test, _ = data
    estimator = fitted(model)
    row = X_test[:1]
    benchmark.pedantic(estimator.predict_proba, args=(row,),
                       rounds=200 if QUICK else 1000, iterations=1,
                       warmup_rounds=10)
    record("inference", f"predict_proba 1 row {DTYPE}", model, "call",
           _median(benchmark))
