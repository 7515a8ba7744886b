"""Shared by the benchmarks: quiet short fits, sizes, and extra_info records.

    pytest bench/ --benchmark-only                          # the full sizes
    FASTMLP_BENCH_QUICK=1 pytest bench/ --benchmark-only    # about a minute

The harness behind them is fastmlp._bench (also ``python -m fastmlp bench``,
which prints every suite as one table).
"""

import warnings

import pytest
from sklearn.exceptions import ConvergenceWarning


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
