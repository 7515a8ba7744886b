"""Threads: GridSearchCV(n_jobs=2) against n_jobs=1 on the same grid.

joblib's workers each get a share of the cores (loky limits the BLAS pools
of its workers), and every hot GEMM of fastmlp goes through one BLAS
(scipy's), so two parallel fits must not oversubscribe the machine: on 2
cores, n_jobs=2 should not be slower than n_jobs=1. Time per search (one
GridSearchCV fit), best of 2.

    pytest bench/test_bench_threads.py --benchmark-only
"""

import pytest
from threadpoolctl import threadpool_info

from fastmlp import _bench

QUICK = _bench.quick_from_env()


@pytest.fixture(scope="module")
def data():
    X, y = _bench.threads_data(_bench.THREADS_TRAIN_QUICK if QUICK
                               else _bench.THREADS_TRAIN)
    _bench.warm_up_search(X, y)
    return X, y


@pytest.mark.parametrize("n_jobs", _bench.THREADS_N_JOBS)
def test_grid_search(record, time_rounds, data, n_jobs):
    X, y = data
    searches = []

    def search():
        seconds, fitted = _bench.time_search(n_jobs, X, y)
        searches.append(fitted)
        return seconds

    time_rounds(search, rounds=2)
    record("threads", _bench.THREADS_CASE, f"fastmlp n_jobs={n_jobs}", "search",
           blas=[(p["internal_api"], p["num_threads"]) for p in threadpool_info()
                 if p["user_api"] == "blas"])
    assert all(len(s.cv_results_["params"]) == 4 for s in searches)
