"""Shared by the benchmarks: quiet short fits, sizes, and extra_info records.

    pytest bench/ --benchmark-only                          # the full sizes
    FASTMLP_BENCH_QUICK=1 pytest bench/ --benchmark-only    # about a minute

The harness behind them is fastmlp._bench (also ``python -m fastmlp bench``,
which prints every suite as one table).
"""

import warnings

import pytest
from sklearn.exceptions import ConvergenceWarning

from fastmlp import _bench


@pytest.fixture(autouse=True)
def _quiet():
    # Benchmarks run a fixed number of epochs on purpose.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        yield


@pytest.fixture(scope="session")
def _sklearn_seconds():
    return {}


@pytest.fixture
def record(benchmark, _sklearn_seconds):
    """Put a row's figures into ``benchmark.extra_info``.

    ``record(case, model, seconds, **figures)``: the model's time for the
    case, plus ``vs_sklearn`` (scikit-learn's time over this one) when
    scikit-learn's row of the same case ran earlier in the session; the
    parametrizations put it first. Figures that are None are left out.
    """

    def record(case, model, seconds, **figures):
        if model == "sklearn":
            _sklearn_seconds[case] = seconds
        baseline = _sklearn_seconds.get(case)
        figures["vs_sklearn"] = baseline / seconds if baseline else None
        benchmark.extra_info.update(
            {"case": case, "model": model, "seconds": seconds,
             **{k: v for k, v in figures.items() if v is not None}}
        )

    return record


@pytest.fixture
def time_training(benchmark, record):
    """Time one model's training on one case and record it.

    ``time_training(case, model, data, hidden, batch_size, dtype, epochs,
    rounds, per_step)``: a warm-up fit (JIT compilation untimed), the GEMM
    floor and peak measured just before the timing (same machine load), the
    best of ``rounds`` timed fits, then one record in seconds per epoch, or
    per minibatch step when ``per_step``.
    """

    def time_training(case, model, data, hidden, batch_size, dtype, epochs,
                      rounds, per_step=False):
        X, y, X_test, y_test = data
        _bench.warm_up(model, X, y, hidden, batch_size)
        references = _bench.epoch_references(
            X.shape[0], _bench.classifier_layer_units(X, y, hidden), batch_size,
            dtype)
        fits = []
        benchmark.pedantic(
            lambda: fits.append(
                _bench.timed_fit(model, X, y, hidden, batch_size, epochs)),
            rounds=rounds, iterations=1,
        )
        seconds, estimator = min(fits, key=lambda fit: fit[0])
        epoch = seconds / epochs
        steps = -(-X.shape[0] // batch_size)
        record(
            case, model, epoch / steps if per_step else epoch,
            unit="s/step" if per_step else "s/epoch",
            floor_ratio=epoch / references["floor_seconds"],
            roofline_ratio=epoch / references["roofline_seconds"],
            accuracy=float(estimator.score(X_test, y_test)),
            n_samples=X.shape[0], epochs=epochs, **references,
        )

    return time_training
