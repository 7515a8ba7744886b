"""Scale-out on Dask (issue 10, point 5): scikit-learn's searches under
joblib's Dask backend give exactly the serial results, and dask-ml's
Incremental trains exactly as the partial_fit loop it stands for.

The cluster's workers are separate processes (spawned, with one BLAS thread
each, Dask's nanny default): estimators, data and fitted models travel to
and from them as pickles, and an Incremental model moves between them, its
optimizer state with it, from one block to the next.
"""

import logging
import os

import joblib
import numpy as np
import pytest
from numpy.testing import assert_array_equal
from sklearn.base import clone
from sklearn.model_selection import GridSearchCV, KFold, cross_validate

from fastmlp import MLPClassifier, MLPRegressor

da = pytest.importorskip("dask.array", reason="dask is in the optional extra fastmlp[dask]")
distributed = pytest.importorskip("distributed", reason="distributed is in fastmlp[dask]")
wrappers = pytest.importorskip("dask_ml.wrappers", reason="dask-ml is in fastmlp[dask]")

TIMING_KEYS = {"mean_fit_time", "std_fit_time", "mean_score_time", "std_score_time"}


@pytest.fixture(scope="module")
def client():
    """Two worker processes of one thread each, as a small real cluster."""
    # The nannies run in this process and set their workers' variables
    # (OPENBLAS_NUM_THREADS=1, PYTHONHASHSEED, ...) in its environment before
    # spawning them; later tests' subprocesses must not inherit those.
    environ = dict(os.environ)
    try:
        with distributed.LocalCluster(
            n_workers=2, threads_per_worker=1, processes=True,
            dashboard_address=None, silence_logs=logging.ERROR,
        ) as cluster, distributed.Client(cluster) as client:
            yield client
    finally:
        os.environ.clear()
        os.environ.update(environ)


def assert_same_coefs(a, b):
    for name in ("coefs_", "intercepts_"):
        for left, right in zip(getattr(a, name), getattr(b, name), strict=True):
            assert_array_equal(left, right)


def _worker_fastmlp_and_blas_threads():
    import fastmlp
    from threadpoolctl import threadpool_info

    return fastmlp.__file__, sorted({pool["num_threads"] for pool in threadpool_info()
                                     if pool["user_api"] == "blas"})


def test_workers_run_this_fastmlp_on_one_blas_thread(client):
    # Spawned workers get this process's sys.path, so this very fastmlp; and
    # Dask's nanny sets OPENBLAS_NUM_THREADS=1 (its pre-spawn-environ) in them.
    import fastmlp

    seen = client.run(_worker_fastmlp_and_blas_threads)
    assert len(seen) == 2
    assert list(seen.values()) == [(fastmlp.__file__, [1])] * 2


def test_grid_search_on_dask_equals_serial(client, digits):
    X, y = digits
    search = GridSearchCV(
        MLPClassifier(hidden_layer_sizes=(16,), tol=1e-3, random_state=0),
        {"solver": ["adam", "sgd"], "alpha": [1e-4, 1e-2]},
        cv=KFold(3, shuffle=True, random_state=0),
    )
    serial = search.fit(X, y)
    serial_results, serial_best = serial.cv_results_, serial.best_estimator_
    with joblib.parallel_config(backend="dask"), distributed.get_task_stream(client) as tasks:
        dask = clone(search).set_params(n_jobs=-1).fit(X, y)
    assert any("_fit_and_score" in str(task["key"]) for task in tasks.data)
    assert dask.cv_results_.keys() == serial_results.keys()
    for key in serial_results.keys() - TIMING_KEYS:
        assert_array_equal(dask.cv_results_[key], serial_results[key], err_msg=key)
    assert dask.best_params_ == serial.best_params_
    assert_same_coefs(dask.best_estimator_, serial_best)


def test_cross_validate_on_dask_equals_serial(client):
    rng = np.random.RandomState(0)
    X = rng.normal(size=(240, 8))
    y = np.tanh(X[:, :3]).sum(axis=1) + 0.1 * rng.normal(size=240)
    model = MLPRegressor(hidden_layer_sizes=(16,), tol=1e-3, random_state=0)
    kwargs = dict(cv=4, return_estimator=True, return_train_score=True)
    serial = cross_validate(model, X, y, **kwargs)
    with joblib.parallel_config(backend="dask"), distributed.get_task_stream(client) as tasks:
        dask = cross_validate(model, X, y, n_jobs=-1, **kwargs)
    assert any("_fit_and_score" in str(task["key"]) for task in tasks.data)
    for key in ("test_score", "train_score"):
        assert_array_equal(dask[key], serial[key])
    for left, right in zip(dask["estimator"], serial["estimator"], strict=True):
        assert_same_coefs(left, right)


def chunked(X, y, rows):
    return da.from_array(X, chunks=(rows, X.shape[1])), da.from_array(y, chunks=rows)


def test_incremental_classifier_equals_partial_fit_loop(client, digits):
    X, y = digits
    X, y = X[:600], y[:600]
    classes = np.unique(y)
    model = MLPClassifier(hidden_layer_sizes=(16,), batch_size=50, random_state=0)
    dX, dy = chunked(X, y, 150)
    # Incremental calls partial_fit once per block, in order without
    # shuffle_blocks, handing each call the same keyword arguments.
    incremental = wrappers.Incremental(model, shuffle_blocks=False)
    with distributed.get_task_stream(client) as tasks:
        incremental.fit(dX, dy, classes=classes)
    steps = {task["key"][1] for task in tasks.data if str(task["key"]).startswith("('fit-")}
    assert steps >= {0, 1, 2, 3}  # one partial_fit per block, on the cluster

    by_hand = clone(model)
    for start in range(0, len(X), 150):
        by_hand.partial_fit(X[start:start + 150], y[start:start + 150], classes=classes)
    assert incremental.estimator_.loss_curve_ == by_hand.loss_curve_
    assert_same_coefs(incremental.estimator_, by_hand)
    assert_array_equal(incremental.predict(dX).compute(), by_hand.predict(X))


def test_incremental_regressor_passes_equal_partial_fit_loops(client):
    rng = np.random.RandomState(0)
    X = rng.normal(size=(400, 6))
    y = X[:, 0] * X[:, 1] + np.sin(X[:, 2])
    model = MLPRegressor(hidden_layer_sizes=(12,), solver="sgd", batch_size=32,
                         random_state=0)
    dX, dy = chunked(X, y, 100)
    # fit is one pass over the blocks; partial_fit goes on from estimator_.
    incremental = wrappers.Incremental(model, shuffle_blocks=False)
    incremental.fit(dX, dy).partial_fit(dX, dy)

    by_hand = clone(model)
    for _ in range(2):
        for start in range(0, len(X), 100):
            by_hand.partial_fit(X[start:start + 100], y[start:start + 100])
    assert incremental.estimator_.loss_curve_ == by_hand.loss_curve_
    assert_same_coefs(incremental.estimator_, by_hand)
