"""The threads suite: GridSearchCV with n_jobs=2 against n_jobs=1.

joblib's workers each get a share of the cores (loky limits the BLAS pools of
its workers), and every hot GEMM of fastmlp goes through one BLAS (scipy's),
so two parallel fits must not oversubscribe the machine: on 2 cores, n_jobs=2
should not be slower than n_jobs=1.
"""

import math
import time

from .cases import (THREADS_EPOCHS, THREADS_FOLDS, THREADS_GRID, THREADS_N_JOBS,
                    THREADS_TRAIN, THREADS_TRAIN_QUICK)
from .data import threads_data
from .models import fit_quietly
from .report import _add_speedups, _format_time, _log

THREADS_CASE = (f"GridSearchCV {math.prod(map(len, THREADS_GRID.values()))} "
                f"candidates x {THREADS_FOLDS} folds")


def make_grid_search(n_jobs):
    """The unfitted GridSearchCV of the suite, over fastmlp's default engine."""
    from sklearn.model_selection import GridSearchCV

    from .. import MLPClassifier

    estimator = MLPClassifier(max_iter=THREADS_EPOCHS, random_state=0, tol=0.0,
                              n_iter_no_change=THREADS_EPOCHS + 1)
    return GridSearchCV(estimator, THREADS_GRID, cv=THREADS_FOLDS, n_jobs=n_jobs)


def warm_up_search(X, y):
    """One short fit in this process, so JIT compilation is not timed."""
    from .. import MLPClassifier

    fit_quietly(MLPClassifier(max_iter=1), X[:200], y[:200])


def time_search(n_jobs, X, y):
    """(wall seconds, fitted search) of one GridSearchCV fit with ``n_jobs``."""
    search = make_grid_search(n_jobs)
    start = time.perf_counter()
    fit_quietly(search, X, y)
    return time.perf_counter() - start, search


def bench_threads(quick=False, rounds=None, n_train=None, log=None, **_):
    """One row per n_jobs: seconds per GridSearchCV fit, best of ``rounds``.

    (``threads`` is applied by ``run``, around every suite; the models other
    suites compare do not apply: every row is fastmlp's default engine.)
    """
    n_train = n_train or (THREADS_TRAIN_QUICK if quick else THREADS_TRAIN)
    rounds = rounds or 2
    X, y = threads_data(n_train)
    warm_up_search(X, y)
    _log(log, f"threads {THREADS_CASE}")
    rows = []
    for n_jobs in THREADS_N_JOBS:
        best = min(time_search(n_jobs, X, y)[0] for _ in range(rounds))
        rows.append({
            "suite": "threads", "case": THREADS_CASE,
            "model": f"fastmlp n_jobs={n_jobs}", "unit": "s/search",
            "seconds": best, "n_samples": n_train,
            "floor_ratio": None, "roofline_ratio": None, "accuracy": None,
            "heap_mb": None, "rss_mb": None,
        })
        _log(log, f"  n_jobs={n_jobs}: {_format_time(rows[-1])}")
    return _add_speedups(rows)
