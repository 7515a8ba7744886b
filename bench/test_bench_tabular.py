"""Suite 2: small tabular data (10000x20, 3 classes), hidden (32,), batch 32.

Time per minibatch step (epoch time / minibatches per epoch): where Python
overhead per step, not arithmetic, is the cost.

    pytest bench/test_bench_tabular.py --benchmark-only
"""

import pytest

from fastmlp import _bench

QUICK = _bench.quick_from_env()
EPOCHS = 2 if QUICK else 5
MODELS = _bench.available_models()


@pytest.fixture(scope="module")
def data():
    return _bench.tabular_data(_bench.TABULAR_CASE[2])


@pytest.mark.parametrize("model", MODELS)
def test_tabular_step(benchmark, record, data, model):
    hidden, batch_size, dtype = _bench.TABULAR_CASE
    X, y, X_test, y_test = data
    _bench.warm_up(model, X, y, hidden, batch_size)  # JIT compilation untimed
    references = _bench.epoch_references(
        X.shape[0], _bench.classifier_layer_units(X, y, hidden), batch_size, dtype)
    fits = []
    benchmark.pedantic(
        lambda: fits.append(_bench.timed_fit(model, X, y, hidden, batch_size, EPOCHS)),
        rounds=1 if QUICK else 3, iterations=1,
    )
    seconds, estimator = min(fits, key=lambda fit: fit[0])
    steps = EPOCHS * -(-X.shape[0] // batch_size)
    epoch = seconds / EPOCHS
    record(
        _bench._case_name(hidden, batch_size, dtype), model, seconds / steps,
        unit="s/step",
        floor_ratio=epoch / references["floor_seconds"],
        roofline_ratio=epoch / references["roofline_seconds"],
        accuracy=float(estimator.score(X_test, y_test)),
        **references,
    )
