"""Default-settings fits on scikit-learn's bundled data sets, every solver:
fastmlp must never be slower than scikit-learn, whatever the size.

Time per whole fit (each to its own convergence), one group per data set and
solver.

    pytest bench/test_bench_small.py --benchmark-only
"""

import numpy as np
import pytest

from fastmlp import _bench

CASES = [f"{name} {solver}" for name in _bench.SMALL_DATASETS
         for solver in _bench.SMALL_SOLVERS]
MODELS = _bench.available_models(torch=False)


@pytest.mark.parametrize("model", MODELS)
@pytest.mark.parametrize("case", CASES)
def test_fit_small(benchmark, record, case, model):
    name, solver = case.split()
    X, y, X_test, y_test = _bench.small_data(name)
    regression = name == "diabetes"
    make = lambda: _bench.make_default_model(model, regression, solver)  # noqa: E731
    # The warm-up round keeps first-call JIT loading out of the timings.
    est = benchmark.pedantic(lambda: _bench.fit_quietly(make(), X, y), rounds=3,
                             iterations=1, warmup_rounds=1)
    score = est.score(X_test, y_test)
    record("small", case, model, "fit", accuracy=float(score))
    assert np.isfinite(score)
