"""The benchmark harness: fastmlp's engines, scikit-learn and PyTorch side by side.

    python -m fastmlp bench [--quick] [--suite NAME ...] [--epochs N]

Library code with no pytest dependency: ``python -m fastmlp bench`` and the
pytest-benchmark files in bench/ both call it. Every measurement comes back as
a plain dict (one per table row); ``format_table`` prints them.

Design:

- Ratios, not seconds. Every suite runs all its models one after the other in
  the same process, and the GEMM floor and the GEMM peak are measured in the
  same run, so a row's ratios compare like with like on whatever machine runs
  it. Absolute seconds vary between machines (and between minutes on a shared
  one): the harness takes the best of its rounds.
- Epoch time. Before each model is timed it is fitted once, untimed, on a
  small slice of the same data (same dtype, layers and batch size, with a
  partial last minibatch), so first-call JIT compilation is never counted.
  Then a fit with ``max_iter=k, tol=0, n_iter_no_change=k + 1`` is timed and
  its wall time divided by ``k``: the fit's own set-up (input validation,
  initialisation) is part of the figure, spread over ``k`` epochs, as a user
  pays it. Time per step is the epoch time over the minibatches of an epoch.
- GEMM work of an epoch: the sum over layers of ``2 n fan_in fan_out``, twice
  for the first layer (forward, weight gradient) and three times for the
  others (plus the input gradient). The roofline time is that work over the
  sgemm (float32) or dgemm (float64) peak measured on 2048^3 in this run
  (measured again for each case; the best one counts).
- GEMM floor: exactly those GEMMs, at the real minibatch shapes of one epoch
  (the last, partial minibatch included), timed alone with ``np.matmul`` into
  preallocated outputs. NumPy's per-call overhead (measured on a 1x1 product)
  is subtracted, since a compiled engine does not pay it; it matters only for
  tiny shapes (the tabular suite). It is measured just before each model's
  timing, so both see the same load on a shared machine. Training cannot beat
  the floor without a faster GEMM; "/floor" is how far above it a model runs.
- Memory, two figures per fit, each above what the process held before it:
  "heap MB" is the tracemalloc peak of a separate one-epoch fit (NumPy's
  allocations report to tracemalloc; Numba's NRT and PyTorch's allocators do
  not, so PyTorch shows none); "RSS MB" is the rise of the process's resident
  high-water mark during the timed fit (VmHWM, reset through
  /proc/self/clear_refs; Linux only). RSS counts every allocator but misses
  memory that the allocator hands back from earlier frees.
- Data: make_classification with fixed seeds, built once per process.
"""

import gc
import math
import os
import subprocess
import sys
import tempfile
import time
import tracemalloc
import warnings
from functools import lru_cache

import numpy as np

SUITES = ("mnist", "tabular", "inference", "startup", "small")
TRAINING_SUITES = ("mnist", "tabular", "small")  # those that take ``rounds``

# (hidden_layer_sizes, batch_size, dtype) of the MNIST-shaped suite.
MNIST_CASES = (
    ((100,), 200, "float32"),
    ((512,), 128, "float32"),
    ((100,), 200, "float64"),
)
MNIST_TRAIN = 60000
MNIST_TRAIN_QUICK = 6000
MNIST_TEST = 10000
MNIST_FEATURES = 784
MNIST_CLASSES = 10

TABULAR_CASE = ((32,), 32, "float64")
TABULAR_TRAIN = 10000
TABULAR_TEST = 2000
TABULAR_FEATURES = 20
TABULAR_CLASSES = 3

PEAK_SIZE = 2048
STARTUP_EPOCHS = 20
TORCH = "pytorch"

# The small suite: scikit-learn's bundled data sets, every solver, default
# settings. Classification but for diabetes.
SMALL_DATASETS = ("iris", "wine", "breast_cancer", "digits", "diabetes")
SMALL_SOLVERS = ("adam", "sgd", "lbfgs")


# --------------------------------------------------------------------------
# Models


def engine_names():
    """fastmlp engines available here, in the order of ``engines._ENGINES``."""
    from .engines import _ENGINES

    return [name for name, cls in _ENGINES.items() if cls.is_available()]


def torch_available():
    try:
        import torch  # noqa: F401
    except ImportError:
        return False
    return True


def available_models(torch=True):
    """Row names: 'sklearn', 'fastmlp[<engine>]' per engine, then 'pytorch'."""
    models = ["sklearn"] + [f"fastmlp[{name}]" for name in engine_names()]
    if torch and torch_available():
        models.append(TORCH)
    return models


def _blas_threads():
    """Threads of the BLAS that NumPy uses (what the other models are given)."""
    from threadpoolctl import threadpool_info

    for pool in threadpool_info():
        if pool["user_api"] == "blas":
            return pool["num_threads"]
    return os.cpu_count() or 1


class TorchMLPClassifier:
    """The PyTorch eager CPU baseline, trained with scikit-learn's recipe.

    ``nn.Sequential`` of Linear/ReLU, softmax cross-entropy, Adam with
    scikit-learn's defaults (lr 1e-3, L2 ``alpha`` on the weights only, as
    ``alpha / batch_size`` of weight decay), Glorot-uniform initialisation,
    reshuffled minibatches, in the input's dtype, with as many threads as
    NumPy's BLAS. Only ``fit``, ``predict_proba``, ``predict`` and ``score``.
    """

    def __init__(self, hidden_layer_sizes=(100,), batch_size=200, max_iter=200,
                 learning_rate_init=1e-3, alpha=1e-4, random_state=0):
        self.hidden_layer_sizes = hidden_layer_sizes
        self.batch_size = batch_size
        self.max_iter = max_iter
        self.learning_rate_init = learning_rate_init
        self.alpha = alpha
        self.random_state = random_state

    def fit(self, X, y):
        import torch

        torch.set_num_threads(_blas_threads())
        generator = torch.Generator().manual_seed(self.random_state)
        self.classes_, y_index = np.unique(y, return_inverse=True)
        X = self._tensor(X)
        Y = torch.from_numpy(y_index.astype(np.int64))
        units = (X.shape[1], *self.hidden_layer_sizes, len(self.classes_))
        layers = []
        for fan_in, fan_out in zip(units[:-1], units[1:]):
            linear = torch.nn.Linear(fan_in, fan_out, dtype=X.dtype)
            bound = math.sqrt(6.0 / (fan_in + fan_out))
            with torch.no_grad():
                linear.weight.uniform_(-bound, bound, generator=generator)
                linear.bias.uniform_(-bound, bound, generator=generator)
            layers += [linear, torch.nn.ReLU()]
        self.model_ = model = torch.nn.Sequential(*layers[:-1])
        linears = [m for m in model if isinstance(m, torch.nn.Linear)]
        optimizer = torch.optim.Adam(
            [
                {"params": [m.weight for m in linears],
                 "weight_decay": self.alpha / self.batch_size},
                {"params": [m.bias for m in linears], "weight_decay": 0.0},
            ],
            lr=self.learning_rate_init, betas=(0.9, 0.999), eps=1e-8,
        )
        loss_fn = torch.nn.CrossEntropyLoss()
        n_samples = X.shape[0]
        for _ in range(self.max_iter):
            order = torch.randperm(n_samples, generator=generator)
            for start in range(0, n_samples, self.batch_size):
                rows = order[start:start + self.batch_size]
                optimizer.zero_grad(set_to_none=True)
                loss = loss_fn(model(X[rows]), Y[rows])
                loss.backward()
                optimizer.step()
        return self

    def _tensor(self, X):
        import torch

        X = np.asarray(X)
        if X.dtype != np.float32:
            X = X.astype(np.float64, copy=False)
        return torch.from_numpy(np.ascontiguousarray(X))

    def predict_proba(self, X):
        import torch

        with torch.no_grad():
            return torch.softmax(self.model_(self._tensor(X)), dim=1).numpy()

    def predict(self, X):
        return self.classes_[np.argmax(self.predict_proba(X), axis=1)]

    def score(self, X, y):
        return float(np.mean(self.predict(X) == y))


def make_model(model, hidden_layer_sizes, batch_size, epochs, random_state=0):
    """An unfitted classifier for a row name, set to run exactly ``epochs``."""
    if model == TORCH:
        return TorchMLPClassifier(hidden_layer_sizes, batch_size, epochs,
                                  random_state=random_state)
    cls, engine = _estimator_class(model)
    return cls(
        hidden_layer_sizes=hidden_layer_sizes, batch_size=batch_size,
        max_iter=epochs, tol=0.0, n_iter_no_change=epochs + 1,
        random_state=random_state, **engine,
    )


def _estimator_class(model, regression=False):
    """scikit-learn's or fastmlp's estimator class for a row name, and the
    parameters that pick fastmlp's engine."""
    if model == "sklearn":
        from sklearn import neural_network as module

        engine = {}
    elif model.startswith("fastmlp[") and model.endswith("]"):
        import fastmlp as module

        engine = {"backend": model[len("fastmlp["):-1]}
    else:
        raise ValueError(f"unknown model {model!r}; models here: {available_models()}")
    return (module.MLPRegressor if regression else module.MLPClassifier), engine


def fit_quietly(estimator, X, y):
    """``estimator.fit(X, y)`` without the ConvergenceWarning of a short fit."""
    from sklearn.exceptions import ConvergenceWarning

    with warnings.catch_warnings():
        # A fixed number of epochs, on purpose.
        warnings.simplefilter("ignore", ConvergenceWarning)
        return estimator.fit(X, y)


def timed_fit(model, X, y, hidden_layer_sizes, batch_size, epochs):
    """(wall seconds, fitted estimator) of one fit of exactly ``epochs`` epochs."""
    estimator = make_model(model, hidden_layer_sizes, batch_size, epochs)
    start = time.perf_counter()
    fit_quietly(estimator, X, y)
    return time.perf_counter() - start, estimator


def quick_from_env():
    """Whether FASTMLP_BENCH_QUICK asks for the small sizes (bench/ reads it)."""
    return os.environ.get("FASTMLP_BENCH_QUICK", "").strip() not in ("", "0")


def warm_up(model, X, y, hidden_layer_sizes, batch_size):
    """One untimed epoch on a small slice, so JIT compilation is not timed.

    Same dtype, layers and batch size as the timed fit, with a partial last
    minibatch, so the same compiled variants are built.
    """
    n = min(len(X), max(2 * batch_size + batch_size // 2, 300))
    fit_quietly(make_model(model, hidden_layer_sizes, batch_size, 1), X[:n], y[:n])


# --------------------------------------------------------------------------
# Data


@lru_cache(maxsize=4)
def _classification(n_train, n_test, n_features, n_classes, n_informative,
                    class_sep, seed):
    from sklearn.datasets import make_classification

    X, y = make_classification(
        n_samples=n_train + n_test, n_features=n_features,
        n_informative=n_informative, n_redundant=0, n_classes=n_classes,
        class_sep=class_sep, random_state=seed,
    )
    return X[:n_train], y[:n_train], X[n_train:], y[n_train:]


@lru_cache(maxsize=8)
def _as_dtype(n_train, n_test, n_features, n_classes, n_informative, class_sep,
              seed, dtype):
    X, y, X_test, y_test = _classification(
        n_train, n_test, n_features, n_classes, n_informative, class_sep, seed)
    return (np.ascontiguousarray(X, dtype=dtype), y,
            np.ascontiguousarray(X_test, dtype=dtype), y_test)


def mnist_data(dtype="float32", n_train=MNIST_TRAIN, n_test=MNIST_TEST):
    """Synthetic MNIST-shaped data: (X, y, X_test, y_test), 784 features, 10 classes.

    Built once per process (per size) and cached; float32 is a cast of the
    same float64 draw.
    """
    return _as_dtype(n_train, n_test, MNIST_FEATURES, MNIST_CLASSES, 40, 2.0, 0,
                     np.dtype(dtype).name)


def tabular_data(dtype="float64", n_train=TABULAR_TRAIN, n_test=TABULAR_TEST):
    """Small tabular data: (X, y, X_test, y_test), 20 features, 3 classes."""
    return _as_dtype(n_train, n_test, TABULAR_FEATURES, TABULAR_CLASSES, 8, 1.0, 1,
                     np.dtype(dtype).name)


# --------------------------------------------------------------------------
# GEMM work, floor and peak


def gemm_work(n_samples, layer_units):
    """Floating-point operations of the training GEMMs of one epoch.

    ``2 n fan_in fan_out`` per layer, twice for the first layer (forward and
    weight gradient) and three times for the others (plus the input gradient).
    """
    work = 0
    for i, (fan_in, fan_out) in enumerate(zip(layer_units[:-1], layer_units[1:])):
        work += (2 if i == 0 else 3) * 2 * n_samples * fan_in * fan_out
    return work


def forward_work(n_samples, layer_units):
    """Floating-point operations of the GEMMs of one forward pass."""
    return sum(2 * n_samples * a * b for a, b in zip(layer_units[:-1], layer_units[1:]))


def _batch_sizes(n_samples, batch_size):
    sizes = [batch_size] * (n_samples // batch_size)
    if n_samples % batch_size:
        sizes.append(n_samples % batch_size)
    return sizes


def _training_gemms(n_samples, layer_units, batch_size, dtype, forward_only=False):
    """(a, b, out) triples of the GEMMs of one epoch, on preallocated buffers.

    Per minibatch: ``A_i @ W_i`` for every layer, then from the last layer
    back ``A_i.T @ delta_i`` (weight gradient) and, after the first layer,
    ``delta_i @ W_i.T`` (input gradient).
    """
    rng = np.random.default_rng(0)

    def normal(*shape):
        return (0.1 * rng.standard_normal(shape)).astype(dtype)

    n_layers = len(layer_units) - 1
    W = [normal(layer_units[i], layer_units[i + 1]) for i in range(n_layers)]
    G = [np.empty_like(w) for w in W]
    buffers = {}
    calls = []
    for b in _batch_sizes(n_samples, batch_size):
        if b not in buffers:
            # A[i] is layer i's input (A[0] the minibatch); D[i] is the
            # delta at layer i's output.
            A = [normal(b, units) for units in layer_units]
            D = [normal(b, units) for units in layer_units[1:]]
            buffers[b] = A, D
        A, D = buffers[b]
        for i in range(n_layers):
            calls.append((A[i], W[i], A[i + 1]))
        if forward_only:
            continue
        for i in range(n_layers - 1, -1, -1):
            calls.append((A[i].T, D[i], G[i]))
            if i > 0:
                calls.append((D[i], W[i].T, D[i - 1]))
    return calls


def _time_calls(calls, repeats):
    matmul = np.matmul
    best = math.inf
    for _ in range(repeats):
        start = time.perf_counter()
        for a, b, out in calls:
            matmul(a, b, out=out)
        best = min(best, time.perf_counter() - start)
    return best


@lru_cache(maxsize=None)
def matmul_call_overhead(dtype="float32"):
    """Seconds of one ``np.matmul(a, b, out=o)`` call on 1x1 arrays."""
    one = np.ones((1, 1), dtype=dtype)
    out = np.empty_like(one)
    calls = [(one, one, out)] * 2000
    _time_calls(calls, 1)
    return _time_calls(calls, 5) / len(calls)


def gemm_floor(n_samples, layer_units, batch_size, dtype, repeats=3,
               forward_only=False):
    """Seconds of one epoch's training GEMMs alone, at their real shapes.

    ``np.matmul`` into preallocated outputs, best of ``repeats`` passes, less
    NumPy's per-call overhead. ``forward_only`` times only the forward GEMMs
    (inference). Measured anew on each call: the harness measures it next to
    the timing it is compared with, so both see the same machine load.
    """
    calls = _training_gemms(n_samples, tuple(layer_units), batch_size,
                            np.dtype(dtype), forward_only)
    seconds = _time_calls(calls, repeats)
    overhead = len(calls) * matmul_call_overhead(np.dtype(dtype).name)
    # The subtraction must not erase the floor on a noisy machine.
    return max(seconds - overhead, 0.1 * seconds)


_PEAKS = {}


def gemm_peak(dtype="float32", size=PEAK_SIZE, repeats=5):
    """The best FLOP/s of ``np.matmul`` on size^3 seen in this process.

    Each call measures again (best of ``repeats``) and keeps the maximum: the
    peak is a property of the machine, which a busy moment only hides.
    """
    key = (np.dtype(dtype).name, size)
    rng = np.random.default_rng(0)
    a = rng.standard_normal((size, size)).astype(dtype)
    b = rng.standard_normal((size, size)).astype(dtype)
    out = np.empty_like(a)
    seconds = _time_calls([(a, b, out)], repeats)
    _PEAKS[key] = max(_PEAKS.get(key, 0.0), 2.0 * size**3 / seconds)
    return _PEAKS[key]


def use_best_peaks(rows):
    """Rescale the rows' roofline figures to the best GEMM peak of the run."""
    for row in rows:
        if row.get("peak_flops"):
            best = _PEAKS.get((row["dtype"], row["peak_size"]), row["peak_flops"])
            scale = best / row["peak_flops"]
            row["roofline_seconds"] /= scale
            row["roofline_ratio"] *= scale
            row["peak_flops"] = best
    return rows


def epoch_references(n_samples, layer_units, batch_size, dtype,
                     peak_size=PEAK_SIZE):
    """What one epoch is measured against, measured now.

    A dict: ``gemm_work`` (FLOP), ``peak_flops`` (best GEMM peak so far in the
    data's dtype), ``peak_size``, ``roofline_seconds`` (work / peak) and
    ``floor_seconds`` (``gemm_floor``).
    """
    layer_units = tuple(int(u) for u in layer_units)
    dtype = np.dtype(dtype).name
    work = gemm_work(n_samples, layer_units)
    peak = gemm_peak(dtype, peak_size)
    return {
        "gemm_work": work, "peak_flops": peak, "peak_size": peak_size,
        "roofline_seconds": work / peak,
        "floor_seconds": gemm_floor(n_samples, layer_units, batch_size, dtype),
    }


# --------------------------------------------------------------------------
# Memory


def _proc_status_kb(field):
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    raise KeyError(field)


class RssRise:
    """Rise of the resident-set high-water mark over a ``with`` block, in MB.

    Linux only (``mb`` stays None elsewhere): writing 5 to
    /proc/self/clear_refs resets VmHWM to the current RSS.
    """

    def __enter__(self):
        self.mb = None
        gc.collect()
        try:
            with open("/proc/self/clear_refs", "w") as clear_refs:
                clear_refs.write("5")
            self._start = _proc_status_kb("VmRSS")
        except OSError:
            self._start = None
        return self

    def __exit__(self, *exc):
        if self._start is not None:
            self.mb = max(_proc_status_kb("VmHWM") - self._start, 0) / 1024
        return False


def heap_peak_mb(function):
    """tracemalloc peak of what ``function()`` allocates, in MB."""
    gc.collect()
    tracemalloc.start()
    try:
        function()
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    return peak / 2**20


# --------------------------------------------------------------------------
# Suites


def classifier_layer_units(X, y, hidden_layer_sizes):
    """``(n_features, *hidden, n_outputs)`` of a classifier, as sklearn sizes it."""
    n_classes = len(np.unique(y))
    return (X.shape[1], *hidden_layer_sizes, 1 if n_classes == 2 else n_classes)


def _case_name(hidden_layer_sizes, batch_size, dtype):
    return f"h{tuple(hidden_layer_sizes)} b{batch_size} {np.dtype(dtype).name}"


def _add_speedups(rows):
    """``vs_sklearn``: sklearn's time over each row's, within each case."""
    baseline = {(r["suite"], r["case"]): r["seconds"]
                for r in rows if r["model"] == "sklearn"}
    for row in rows:
        base = baseline.get((row["suite"], row["case"]))
        row["vs_sklearn"] = base / row["seconds"] if base else None
    return rows


def _log(log, message):
    if log is not None:
        log(message)


def time_training(model, X, y, X_test, y_test, hidden_layer_sizes, batch_size,
                  epochs=2, rounds=1, memory=True, warm=True):
    """Train one model for ``epochs`` epochs; time, accuracy and memory.

    Returns a dict: ``seconds_per_epoch`` (best of ``rounds`` fits, after an
    untimed warm-up fit on a slice), ``accuracy`` (held out, after
    ``epochs`` epochs), ``rss_mb`` (rise of the resident high-water mark
    during the timed fit) and ``heap_mb`` (tracemalloc peak of a one-epoch
    fit; None for PyTorch, whose allocator tracemalloc does not see, and
    when ``memory`` is false).
    """
    if warm:
        warm_up(model, X, y, hidden_layer_sizes, batch_size)
    best = math.inf
    rss = None
    for _ in range(rounds):
        estimator = None  # the last round's model is freed before the next
        with RssRise() as rise:
            seconds, estimator = timed_fit(model, X, y, hidden_layer_sizes,
                                           batch_size, epochs)
        best = min(best, seconds)
        if rise.mb is not None:
            rss = rise.mb if rss is None else max(rss, rise.mb)
    accuracy = float(estimator.score(X_test, y_test))
    del estimator
    heap = None
    if memory and model != TORCH:
        heap = heap_peak_mb(lambda: fit_quietly(
            make_model(model, hidden_layer_sizes, batch_size, 1), X, y))
    return {"seconds_per_epoch": best / epochs, "accuracy": accuracy,
            "rss_mb": rss, "heap_mb": heap}


def bench_training_case(suite, X, y, X_test, y_test, hidden_layer_sizes,
                        batch_size, epochs=2, models=None, rounds=1,
                        memory=True, per="epoch", peak_size=PEAK_SIZE, log=None):
    """One training case, every model side by side; one row dict per model.

    ``per`` is 'epoch' (rows report seconds per epoch) or 'step' (seconds per
    minibatch step).
    """
    models = available_models() if models is None else list(models)
    dtype = np.dtype(X.dtype).name
    n_samples = X.shape[0]
    layer_units = classifier_layer_units(X, y, hidden_layer_sizes)
    case = _case_name(hidden_layer_sizes, batch_size, dtype)
    steps = len(_batch_sizes(n_samples, batch_size))
    work = gemm_work(n_samples, layer_units)
    peak = gemm_peak(dtype, peak_size)
    roofline = work / peak
    _log(log, f"{suite} {case}")
    rows = []
    for model in models:
        warm_up(model, X, y, hidden_layer_sizes, batch_size)
        # The floor just before the model's own timing: same machine load.
        floor = gemm_floor(n_samples, layer_units, batch_size, dtype)
        result = time_training(model, X, y, X_test, y_test, hidden_layer_sizes,
                               batch_size, epochs, rounds, memory, warm=False)
        epoch = result["seconds_per_epoch"]
        seconds = epoch if per == "epoch" else epoch / steps
        row = {
            "suite": suite, "case": case, "model": model,
            "unit": "s/epoch" if per == "epoch" else "us/step",
            "seconds": seconds,
            "seconds_per_epoch": epoch, "steps_per_epoch": steps,
            "epochs": epochs, "n_samples": n_samples,
            "layer_units": layer_units, "batch_size": batch_size, "dtype": dtype,
            "floor_ratio": epoch / floor, "roofline_ratio": epoch / roofline,
            "floor_seconds": floor, "roofline_seconds": roofline,
            "gemm_work": work, "peak_flops": peak, "peak_size": peak_size,
            "accuracy": result["accuracy"],
            "heap_mb": result["heap_mb"], "rss_mb": result["rss_mb"],
        }
        rows.append(row)
        _log(log, f"  {model}: {_format_time(row)}, GEMM floor "
                  f"{_format_time({**row, 'seconds': seconds / row['floor_ratio']})}"
                  f", accuracy {row['accuracy']:.4f}")
    return use_best_peaks(_add_speedups(rows))


def bench_mnist(quick=False, epochs=None, models=None, cases=MNIST_CASES,
                n_train=None, n_test=MNIST_TEST, log=None, threads=None, **kwargs):
    """Suite 1: MNIST-shaped data, seconds per epoch and held-out accuracy.

    (``threads`` is applied by ``run``, around every suite.)
    """
    n_train = n_train or (MNIST_TRAIN_QUICK if quick else MNIST_TRAIN)
    rows = []
    for hidden, batch, dtype in cases:
        X, y, X_test, y_test = mnist_data(dtype, n_train, n_test)
        rows += bench_training_case(
            "mnist", X, y, X_test, y_test, hidden, batch, epochs or 2,
            models, log=log, **kwargs)
    return rows


def bench_tabular(quick=False, epochs=None, models=None, n_train=TABULAR_TRAIN,
                  n_test=TABULAR_TEST, log=None, threads=None, **kwargs):
    """Suite 2: 10000x20, 3 classes, hidden (32,), batch 32: time per step."""
    hidden, batch, dtype = TABULAR_CASE
    X, y, X_test, y_test = tabular_data(dtype, n_train, n_test)
    kwargs.setdefault("rounds", 1 if quick else 3)
    return bench_training_case(
        "tabular", X, y, X_test, y_test, hidden, batch,
        epochs or (2 if quick else 5), models, per="step", log=log, **kwargs)


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


_IMPORT_SCRIPT = """\
import time
start = time.perf_counter()
import {module}
print(repr(time.perf_counter() - start))
"""

_FIRST_FIT_SCRIPT = """\
import time, warnings
warnings.simplefilter("ignore")
{import_line}
from sklearn.datasets import load_digits
X, y = load_digits(return_X_y=True)
MLPClassifier({params}).fit(X / 16.0, y)
print(repr(time.time()))
"""


def _child_env(threads=None, **variables):
    """The environment of a child: ours, with thread limits and ``variables``."""
    env = dict(os.environ)
    if threads:
        for name in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS",
                     "NUMBA_NUM_THREADS"):
            env[name] = str(threads)
    env.update({k: str(v) for k, v in variables.items() if v is not None})
    return env


def _run_child(script, env=None):
    """Run ``script`` in a fresh interpreter; the float on its last line."""
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True,
        env=env, check=False,
    )
    if result.returncode != 0:
        raise RuntimeError(f"benchmark child process failed:\n{result.stderr}")
    return float(result.stdout.strip().splitlines()[-1])


def time_import(module, repeats=3, threads=None):
    """Median seconds of ``import module`` in fresh interpreters."""
    script = _IMPORT_SCRIPT.format(module=module)
    env = _child_env(threads)
    return float(np.median([_run_child(script, env) for _ in range(repeats)]))


def first_fit_script(model, epochs=STARTUP_EPOCHS):
    """Python source: import, load_digits, fit ``epochs`` epochs, print time.time()."""
    params = f"hidden_layer_sizes=(100,), max_iter={epochs}, random_state=0"
    if model == "sklearn":
        import_line = "from sklearn.neural_network import MLPClassifier"
    else:
        import_line = "from fastmlp import MLPClassifier"
        params += f", backend={model[len('fastmlp['):-1]!r}"
    return _FIRST_FIT_SCRIPT.format(import_line=import_line, params=params)


def time_first_fit(model, numba_cache_dir=None, epochs=STARTUP_EPOCHS,
                   threads=None):
    """Seconds from process start to the end of a first fit on load_digits.

    The child gets ``NUMBA_CACHE_DIR=numba_cache_dir`` when given: a fresh
    empty folder is a cold cache, one that an earlier run filled is warm.
    """
    env = _child_env(threads, NUMBA_CACHE_DIR=numba_cache_dir)
    script = first_fit_script(model, epochs)
    start = time.time()
    return _run_child(script, env) - start


def bench_startup(quick=False, models=None, repeats=None,
                  fit_epochs=STARTUP_EPOCHS, threads=None, log=None, **_):
    """Suite 4: import time, and process start to end of a first fit.

    Every fastmlp engine is timed with a cold Numba cache (``NUMBA_CACHE_DIR``
    a fresh empty folder each run) and with a warm one (the folder that the
    first cold run filled); scikit-learn has no JIT cache. Medians of
    ``repeats`` runs.
    """
    models = available_models(torch=False) if models is None else [
        m for m in models if m != TORCH]
    repeats = repeats or (1 if quick else 3)
    rows = []
    for model, module in (("sklearn", "sklearn.neural_network"), ("fastmlp", "fastmlp")):
        rows.append({"suite": "startup", "case": "import", "model": model,
                     "unit": "s", "seconds": time_import(module, repeats, threads)})
        _log(log, f"  import {module}: {rows[-1]['seconds']:.3f} s")
    epochs = fit_epochs
    fit_case = f"first fit digits {epochs} ep"
    with tempfile.TemporaryDirectory(prefix="fastmlp-bench-") as tmp:
        for model in models:
            if model == "sklearn":
                times = {"": [time_first_fit(model, None, epochs, threads)
                              for _ in range(repeats)]}
            else:
                # Each cold run gets a fresh folder; the first one's, filled
                # by that run, is the warm cache of the warm runs.
                cold = [tempfile.mkdtemp(dir=tmp, prefix="cold-")
                        for _ in range(repeats)]
                times = {" cold": [time_first_fit(model, d, epochs, threads)
                                   for d in cold]}
                times[" warm"] = [time_first_fit(model, cold[0], epochs, threads)
                                  for _ in range(repeats)]
            for label in sorted(times, reverse=True):
                rows.append({"suite": "startup", "case": fit_case,
                             "model": model + label,
                             "unit": "s", "seconds": float(np.median(times[label]))})
                _log(log, f"  {rows[-1]['model']}: {rows[-1]['seconds']:.3f} s")
    # Speed-ups within the first-fit case against sklearn's single row.
    return _add_speedups(rows)


@lru_cache(maxsize=None)
def small_data(name):
    """(X_train, y_train, X_test, y_test) of a bundled data set, standardized
    as a user would before an MLP, a quarter held out."""
    from sklearn import datasets
    from sklearn.model_selection import train_test_split
    from sklearn.preprocessing import StandardScaler

    X, y = getattr(datasets, f"load_{name}")(return_X_y=True)
    X_train, X_test, y_train, y_test = train_test_split(X, y, random_state=0)
    scaler = StandardScaler().fit(X_train)
    return scaler.transform(X_train), y_train, scaler.transform(X_test), y_test


def make_default_model(model, regression, solver, random_state=0):
    """An estimator with default settings but the solver (no PyTorch row)."""
    cls, engine = _estimator_class(model, regression)
    return cls(solver=solver, random_state=random_state, **engine)


def bench_small(quick=False, models=None, rounds=None, datasets=SMALL_DATASETS,
                solvers=SMALL_SOLVERS, log=None, **_):
    """Suite 5: whole default-settings fits on scikit-learn's bundled data.

    Every fit runs to its own convergence or ``max_iter``, as a user's does,
    so the figure includes everything a fit costs: validation, set-up, the
    solver's Python. The models take turns, round after round (best of
    ``rounds``), so a noisy stretch of the machine hits them alike.
    """
    models = [m for m in (available_models() if models is None else models)
              if m != TORCH]
    rounds = rounds or (1 if quick else 3)
    rows = []
    for name in datasets:
        X, y, X_test, y_test = small_data(name)
        regression = name == "diabetes"
        for solver in solvers:
            case = f"{name} {solver}"
            _log(log, f"small {case}")
            best = dict.fromkeys(models, math.inf)
            score = {}
            for model in models:  # untimed: imports, JIT loading
                fit_quietly(make_default_model(model, regression, solver), X, y)
            for _ in range(rounds):
                for model in models:
                    estimator = make_default_model(model, regression, solver)
                    start = time.perf_counter()
                    fit_quietly(estimator, X, y)
                    best[model] = min(best[model], time.perf_counter() - start)
                    score[model] = float(estimator.score(X_test, y_test))
            for model in models:
                rows.append({
                    "suite": "small", "case": case, "model": model, "unit": "ms/fit",
                    "seconds": best[model], "floor_ratio": None,
                    "roofline_ratio": None, "accuracy": score[model],
                    "heap_mb": None, "rss_mb": None,
                })
            _log(log, "  " + ", ".join(f"{m} {best[m] * 1e3:.1f} ms" for m in models))
    return _add_speedups(rows)


_SUITE_FUNCTIONS = {
    "mnist": bench_mnist,
    "tabular": bench_tabular,
    "inference": bench_inference,
    "startup": bench_startup,
    "small": bench_small,
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


def describe_environment(torch=True, threads=None):
    """One line: versions, cores, BLAS threads, engines, load."""
    import sklearn

    from . import __version__

    parts = [f"fastmlp {__version__}", f"numpy {np.__version__}",
             f"scikit-learn {sklearn.__version__}"]
    if torch and torch_available():
        import torch as torch_module

        parts.append(f"torch {torch_module.__version__}")
    blas = f"BLAS threads {_blas_threads()}"
    if threads:
        blas += f" (limited to {threads} for this run)"
    parts += [f"{os.cpu_count()} cores", blas,
              f"engines {engine_names()}"]
    if hasattr(os, "getloadavg"):
        parts.append(f"load average {os.getloadavg()[0]:.2f}")
    return ", ".join(parts)


def run_bench(suites=SUITES, quick=False, epochs=None, torch=True, threads=None,
              out=sys.stdout, err=sys.stderr, rounds=None):
    """``python -m fastmlp bench``: run, log progress to ``err``, print the table."""
    def log(message):
        print(message, file=err, flush=True)

    log(describe_environment(torch, threads))
    if hasattr(os, "getloadavg") and os.getloadavg()[0] > 0.5 * (os.cpu_count() or 1):
        log("warning: the machine is busy; BLAS threads competing for cores make "
            "every timing below slower and noisier (--threads 1 steadies them).")
    if torch and not torch_available():
        log("note: PyTorch is not installed; its rows are skipped.")
    rows = run(suites, quick=quick, epochs=epochs, torch=torch, threads=threads,
               log=log, rounds=rounds)
    print(format_table(rows), file=out, flush=True)
    return rows


# --------------------------------------------------------------------------
# Table


def _format_time(row):
    unit = row["unit"]
    scale = {"s/epoch": 1, "s": 1, "ms/call": 1e3, "ms/fit": 1e3, "us/step": 1e6,
             "us/call": 1e6}[unit]
    value = row["seconds"] * scale
    digits = 3 if value < 10 else 1
    return f"{value:.{digits}f} {unit}"


def _cell(value, spec, suffix=""):
    return "-" if value is None else f"{value:{spec}}{suffix}"


COLUMNS = ("suite", "case", "model", "time", "vs sklearn", "/floor",
           "/roofline", "accuracy", "heap MB", "RSS MB")


def format_table(rows):
    """The rows as a text table, with a note on how each column is measured."""
    cells = [COLUMNS]
    for row in rows:
        cells.append((
            row["suite"], row["case"], row["model"], _format_time(row),
            _cell(row.get("vs_sklearn"), ".2f", "x"),
            _cell(row.get("floor_ratio"), ".2f"),
            _cell(row.get("roofline_ratio"), ".2f"),
            _cell(row.get("accuracy"), ".4f"),
            _cell(row.get("heap_mb"), ".1f"),
            _cell(row.get("rss_mb"), ".1f"),
        ))
    widths = [max(len(line[i]) for line in cells) for i in range(len(COLUMNS))]
    lines = []
    for k, line in enumerate(cells):
        lines.append("  ".join(
            text.ljust(width) if i < 3 else text.rjust(width)
            for i, (text, width) in enumerate(zip(line, widths))).rstrip())
        if k == 0:
            lines.append("  ".join("-" * width for width in widths))
    notes = [
        "vs sklearn: scikit-learn's time over the row's (higher is faster).",
        "accuracy: on held-out data (R^2 for the small suite's diabetes rows).",
        "/floor: time over the same GEMMs timed alone (np.matmul, real shapes);"
        " /roofline: time over GEMM work / the GEMM peak below.",
        "heap MB: tracemalloc peak of a one-epoch fit, or of one predict_proba"
        " call (sees NumPy's allocations, not PyTorch's); RSS MB: rise of the"
        " process's resident high-water mark (VmHWM) during the timed fit or"
        " call.",
    ]
    peaks = {(row["dtype"], row["peak_size"]): row["peak_flops"]
             for row in rows if row.get("peak_flops")}
    if peaks:
        notes.append("GEMM peak in this run: " + ", ".join(
            f"{'sgemm' if dtype == 'float32' else 'dgemm'} {size}^3 "
            f"{flops / 1e9:.0f} GFLOP/s"
            for (dtype, size), flops in sorted(peaks.items())))
    return "\n".join(lines + [""] + notes)
