"""The inference suite: predict_proba on a batch, and one-row latency."""

import time

import numpy as np

from .cases import MNIST_TEST, MNIST_TRAIN, MNIST_TRAIN_QUICK, PEAK_SIZE, TORCH
from .data import mnist_data
from .floors import forward_work, gemm_floor, gemm_peak, use_best_peaks
from .memory import RssRise, heap_peak_mb
from .models import available_models, classifier_layer_units, fit_quietly, make_model
from .report import _add_speedups, _format_time, _log


def _call_times(function, calls):
    times = np.empty(calls)
    for i in range(calls):
        start = time.perf_counter()
        function()
        times[i] = time.perf_counter() - start
    return times


def _best_time(function, calls):
    return float(np.min(_call_times(function, calls)))


def _median_time(function, calls):
    return float(np.median(_call_times(function, calls)))


def bench_inference(quick=False, models=None, n_train=None, n_test=MNIST_TEST,
                    hidden_layer_sizes=(100,), dtype="float32", batch_size=200,
                    peak_size=PEAK_SIZE, log=None, **_):
    """Suite 3: predict_proba on ``n_test`` rows, predict_proba and predict
    on one row (latency).

    Each model is trained one epoch on the MNIST-shaped data, then times its
    predict_proba: on all held-out rows (best of a few calls, as for
    training, next to the forward GEMMs timed alone and the roofline), and on
    a single row (the latency: median of many calls).
    """
    models = available_models() if models is None else list(models)
    n_train = n_train or (MNIST_TRAIN_QUICK if quick else MNIST_TRAIN)
    X, y, X_test, y_test = mnist_data(dtype, n_train, n_test)
    layer_units = classifier_layer_units(X, y, hidden_layer_sizes)
    n = X_test.shape[0]
    peak = gemm_peak(dtype, peak_size)
    roofline = forward_work(n, layer_units) / peak
    batch_case = f"predict_proba {n} rows {np.dtype(dtype).name}"
    row_case = f"predict_proba 1 row {np.dtype(dtype).name}"
    predict_case = f"predict 1 row {np.dtype(dtype).name}"
    one_row = X_test[:1]
    _log(log, f"inference h{tuple(hidden_layer_sizes)} {np.dtype(dtype).name}")
    rows = []
    for model in models:
        estimator = fit_quietly(
            make_model(model, hidden_layer_sizes, batch_size, 1), X, y)
        estimator.predict_proba(X_test)  # first call: imports, caches
        floor = gemm_floor(n, layer_units, n, dtype, repeats=5, forward_only=True)
        seconds = _best_time(lambda: estimator.predict_proba(X_test), 5 if quick else 10)
        accuracy = float(np.mean(
            estimator.classes_[estimator.predict_proba(X_test).argmax(axis=1)] == y_test))
        heap = None if model == TORCH else heap_peak_mb(
            lambda: estimator.predict_proba(X_test))
        with RssRise() as rise:
            estimator.predict_proba(X_test)
        rows.append({
            "suite": "inference", "case": batch_case, "model": model,
            "unit": "ms/call", "seconds": seconds,
            "floor_ratio": seconds / floor, "roofline_ratio": seconds / roofline,
            "floor_seconds": floor, "roofline_seconds": roofline,
            "peak_flops": peak, "peak_size": peak_size, "dtype": np.dtype(dtype).name,
            "accuracy": accuracy,
            "heap_mb": heap, "rss_mb": rise.mb,
        })
        for case, method in ((row_case, estimator.predict_proba),
                             (predict_case, estimator.predict)):
            latency = _median_time(lambda: method(one_row), 200 if quick else 1000)
            rows.append({
                "suite": "inference", "case": case, "model": model,
                "unit": "us/call", "seconds": latency,
                "floor_ratio": None, "roofline_ratio": None, "accuracy": None,
                "heap_mb": None, "rss_mb": None,
            })
        _log(log, f"  {model}: {_format_time(rows[-3])} on {n} rows, "
                  f"{_format_time(rows[-2])} on one, predict {_format_time(rows[-1])}")
    return use_best_peaks(_add_speedups(rows))
