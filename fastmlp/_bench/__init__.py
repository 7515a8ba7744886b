"""The benchmark harness: fastmlp's engines, scikit-learn and PyTorch side by side.

    python -m fastmlp bench [--quick] [--suite NAME ...] [--epochs N] [--json PATH]

Library code with no pytest dependency: ``python -m fastmlp bench`` and the
pytest-benchmark files in bench/ both call it. Every measurement comes back as
a plain dict (one per table row); ``format_table`` prints them.

Design: ratios, not seconds. Every suite runs all its models one after the
other in the same process, and the GEMM floor and the GEMM peak are measured
in the same run, so a row's ratios compare like with like on whatever machine
runs it. Absolute seconds vary between machines (and between minutes on a
shared one): the harness takes the best of its rounds.

The modules, one job each (their docstrings say how each figure is measured):

- ``cases``: the suites, their cases and sizes.
- ``data``: the data sets, built once per process.
- ``models``: the models a row names (scikit-learn, fastmlp per engine,
  PyTorch) and how they are built and fitted.
- ``floors``: GEMM work, floor and peak, what an epoch is measured against.
- ``memory``: RSS high-water rise and tracemalloc heap peak.
- ``training``, ``inference``, ``startup``, ``threads``: the suites.
- ``gpu``: the cuda suite (fastmlp's CUDA engine against PyTorch on the same
  GPU), with its own table, JSON file and targets.
- ``report``: speed-ups, progress lines, the tables, the environment line,
  the JSON file.

This module runs the suites (``run``, ``run_bench``) and re-exports the names
that ``python -m fastmlp bench``, bench/ and the tests use.
"""

import os
import sys
import time

from .cases import (CUDA_CASES, CUDA_EPOCHS, CUDA_JSON, CUDA_MODELS,
                    CUDA_QUICK_CASES, CUDA_WARMUP_EPOCHS, DIGITS_CASES,
                    DIGITS_EPOCHS, MNIST_CASES, MNIST_CLASSES, MNIST_FEATURES,
                    MNIST_TEST, MNIST_TRAIN, MNIST_TRAIN_QUICK, OPTIONS,
                    OPTIONS_CASES, PEAK_SIZE, SMALL_DATASETS,
                    SMALL_SOLVERS, STARTUP_EPOCHS, SUITES, TABULAR_CASES,
                    TABULAR_CLASSES, TABULAR_FEATURES, TABULAR_TEST,
                    TABULAR_TRAIN, THREADS_N_JOBS, THREADS_TRAIN,
                    THREADS_TRAIN_QUICK, TORCH, TRAINING_SUITES, _case_name,
                    quick_from_env)
from .data import (cuda_quick_data, digits_data, mnist_data, small_data,
                   tabular_data, threads_data)
from .floors import (_training_gemms, epoch_references, forward_work,
                     gemm_floor, gemm_peak, gemm_work, matmul_call_overhead,
                     use_best_peaks)
from .gpu import (bench_cuda, bench_cuda_case, cuda_skip_reason, cuda_targets,
                  describe_gpu, initial_weights, torch_skip_reason)
from .inference import bench_inference
from .memory import RssRise, heap_peak_mb
from .models import (TorchMLPClassifier, available_models, bf16_models,
                     classifier_layer_units, cpu_description, engine_names,
                     fit_quietly, make_default_model, make_model, torch_available)
from .report import (BASELINES, COLUMNS, CUDA_COLUMNS, _log, describe_environment,
                     format_cuda_table, format_table, speedups, write_json)
from .startup import bench_startup, first_fit_script, time_first_fit, time_import
from .threads import (THREADS_CASE, bench_threads, make_grid_search, time_search,
                      warm_up_search)
from .training import (bench_digits, bench_mnist, bench_options, bench_small,
                       bench_tabular, bench_training_case, time_training,
                       timed_fit, warm_up)

# Also here for bench/ and the tests: _case_name, _training_gemms.
__all__ = [
    "SUITES", "TRAINING_SUITES", "OPTIONS", "OPTIONS_CASES", "MNIST_CASES", "MNIST_TRAIN", "MNIST_TRAIN_QUICK",
    "MNIST_TEST", "MNIST_FEATURES", "MNIST_CLASSES", "TABULAR_CASES",
    "TABULAR_TRAIN", "TABULAR_TEST", "TABULAR_FEATURES", "TABULAR_CLASSES",
    "PEAK_SIZE", "STARTUP_EPOCHS", "TORCH", "SMALL_DATASETS", "SMALL_SOLVERS",
    "DIGITS_CASES", "DIGITS_EPOCHS", "THREADS_N_JOBS", "THREADS_TRAIN",
    "THREADS_TRAIN_QUICK", "THREADS_CASE", "CUDA_CASES", "CUDA_QUICK_CASES",
    "CUDA_MODELS", "CUDA_EPOCHS", "CUDA_WARMUP_EPOCHS", "CUDA_JSON",
    "quick_from_env", "mnist_data", "tabular_data", "small_data", "digits_data",
    "threads_data", "cuda_quick_data",
    "engine_names", "torch_available", "available_models", "bf16_models",
    "cpu_description", "TorchMLPClassifier",
    "make_model", "make_default_model", "classifier_layer_units", "fit_quietly",
    "gemm_work", "forward_work", "matmul_call_overhead", "gemm_floor",
    "gemm_peak", "use_best_peaks", "epoch_references",
    "RssRise", "heap_peak_mb",
    "warm_up", "timed_fit", "time_training", "bench_training_case",
    "bench_mnist", "bench_options", "bench_tabular", "bench_small", "bench_inference",
    "bench_digits", "make_grid_search", "time_search",
    "warm_up_search", "bench_threads",
    "time_import", "first_fit_script", "time_first_fit", "bench_startup",
    "bench_cuda", "bench_cuda_case", "cuda_skip_reason", "torch_skip_reason",
    "cuda_targets", "describe_gpu", "initial_weights",
    "BASELINES", "speedups", "COLUMNS", "format_table", "describe_environment",
    "CUDA_COLUMNS", "format_cuda_table", "write_json",
    "run", "run_bench",
]


_SUITE_FUNCTIONS = {
    "mnist": bench_mnist,
    "options": bench_options,
    "tabular": bench_tabular,
    "inference": bench_inference,
    "startup": bench_startup,
    "small": bench_small,
    "digits": bench_digits,
    "threads": bench_threads,
    "cuda": bench_cuda,
}


def run(suites=SUITES, quick=False, epochs=None, torch=True, threads=None,
        log=None, rounds=None):
    """Run the named suites; a list of row dicts, in suite order.

    ``rounds``: timed fits per training row, the best reported (None: each
    suite's default).

    ``threads`` limits the BLAS and OpenMP thread pools (threadpoolctl), and
    so PyTorch's threads and those of the start-up suite's children; None
    leaves the defaults.
    """
    from contextlib import nullcontext

    from threadpoolctl import threadpool_limits

    for name in suites:
        if name not in _SUITE_FUNCTIONS:
            raise ValueError(f"unknown suite {name!r}; suites: {list(SUITES)}")
    models = available_models(torch=torch)
    rows = []
    with threadpool_limits(limits=threads) if threads else nullcontext():
        for name in suites:
            _log(log, f"suite {name}")
            options = {} if rounds is None or name not in TRAINING_SUITES \
                else {"rounds": rounds}
            rows += _SUITE_FUNCTIONS[name](quick=quick, epochs=epochs,
                                           models=models, threads=threads, log=log,
                                           **options)
    return use_best_peaks(rows)


def run_bench(suites=SUITES, quick=False, epochs=None, torch=True, threads=None,
              out=None, err=None, rounds=None, json_path=None):
    """``python -m fastmlp bench``: run, log progress to ``err``, print the
    table (the cuda suite's own table last).

    ``json_path``: write every row there as JSON; by default the cuda suite,
    when it runs on a GPU (or in the simulator), writes ``CUDA_JSON`` in the
    working directory. ``out`` and ``err``: default ``sys.stdout`` and
    ``sys.stderr`` as they are at the call.
    """
    out = sys.stdout if out is None else out
    err = sys.stderr if err is None else err

    def log(message):
        print(message, file=err, flush=True)

    environment = describe_environment(torch, threads)
    log(environment)
    if hasattr(os, "getloadavg") and os.getloadavg()[0] > 0.5 * (os.cpu_count() or 1):
        log("warning: the machine is busy; BLAS threads competing for cores make "
            "every timing below slower and noisier (--threads 1 steadies them).")
    if torch and not torch_available():
        log("note: PyTorch is not installed; its rows are skipped.")
    start = time.perf_counter()
    rows = run(suites, quick=quick, epochs=epochs, torch=torch, threads=threads,
               log=log, rounds=rounds)
    seconds = time.perf_counter() - start
    log(f"ran in {seconds:.1f} s")
    cuda_rows = [row for row in rows if row["suite"] == "cuda"]
    checks = cuda_targets(cuda_rows, quick)
    if json_path is None and "cuda" in suites and cuda_skip_reason(quick) is None:
        json_path = CUDA_JSON
    if json_path is not None:
        write_json(json_path, rows, suites=list(suites), quick=quick,
                   environment=environment,
                   gpu=describe_gpu() if "cuda" in suites else None,
                   cuda_skipped=cuda_skip_reason(quick) if "cuda" in suites else None,
                   run_seconds=seconds, targets=checks)
        log(f"wrote {json_path}")
    other = [row for row in rows if row["suite"] != "cuda"]
    if other or not cuda_rows:
        print(format_table(other), file=out, flush=True)
    if cuda_rows:
        if other:
            print(file=out)
        print(format_cuda_table(cuda_rows, checks), file=out, flush=True)
    return rows
