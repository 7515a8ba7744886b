"""Threads: GridSearchCV(n_jobs=2) against n_jobs=1 on the same grid.

joblib's workers each get a share of the cores (loky limits the BLAS pools
of its workers), and every hot GEMM of fastmlp goes through one BLAS
(scipy's), so two parallel fits must not oversubscribe the machine: on 2
cores, n_jobs=2 should not be slower than n_jobs=1.
"""

import os

import numpy as np
import pytest
from sklearn.datasets import make_classification
from sklearn.model_selection import GridSearchCV
from threadpoolctl import threadpool_info

from fastmlp import MLPClassifier

QUICK = os.environ.get("FASTMLP_BENCH_QUICK") == "1"


@pytest.fixture(scope="module")
def data():
    X, y = make_classification(
        n_samples=2000 if QUICK else 10000, n_features=64, n_informative=20,
        n_classes=5, random_state=0,
    )
    return X.astype(np.float32), y


@pytest.mark.parametrize("n_jobs", [1, 2])
def test_grid_search(benchmark, data, n_jobs):
    X, y = data
    grid = GridSearchCV(
        MLPClassifier(max_iter=5, random_state=0, tol=0.0, n_iter_no_change=10),
        {"hidden_layer_sizes": [(64,), (128,)], "alpha": [1e-4, 1e-2]},
        cv=3, n_jobs=n_jobs,
    )
    MLPClassifier(max_iter=1).fit(X[:200], y[:200])  # compile outside the timing
    benchmark.group = "grid-search n_jobs"
    benchmark.extra_info["blas"] = [
        (p["internal_api"], p["num_threads"]) for p in threadpool_info()
        if p["user_api"] == "blas"
    ]
    fitted = benchmark.pedantic(lambda: grid.fit(X, y), rounds=2, iterations=1)
    assert len(fitted.cv_results_["params"]) == 4
