"""The cuda suite: fastmlp's CUDA engine against PyTorch on the same GPU.

    python -m fastmlp bench --suite cuda [--json PATH] [--no-torch]

Issue 11's benchmark. Synthetic MNIST-shaped data (``mnist_data``: 60000
training and 10000 held-out rows, 784 features, 10 classes), float32, adam
with scikit-learn's defaults, two cases: hidden (100,) batch 200 and hidden
(512,) batch 128. Rows of each case, in the order they run:

- ``fastmlp[cuda] graph``: ``MLPClassifier(backend="cuda")`` as it ships, its
  epochs replayed from a CUDA graph (``_tunables.CUDA_GRAPHS`` True);
- ``fastmlp[cuda] eager``: the same with ``CUDA_GRAPHS`` False, every kernel
  and GEMM launched from Python;
- ``pytorch[cuda] eager``: ``nn.Sequential(Linear, ReLU, Linear)``, X and y
  resident on the GPU as tensors, per epoch the epoch's order uploaded as an
  index tensor and each minibatch gathered by indexing with its slice,
  cross-entropy, ``torch.optim.Adam(fused=True)`` (``foreach=True`` where
  fused is refused);
- ``pytorch[cuda] graph``: one full training step captured with
  ``torch.cuda.graph`` after three warm-up steps on a side stream, as in
  PyTorch's whole-network capture recipe (Adam then ``capturable=True``),
  each minibatch gathered into the static input buffers
  (``index_select(out=)``) before its replay; the ragged last minibatch of
  an epoch (60000 = 468 x 128 + 96) runs eagerly on the same model and
  optimizer;
- ``fastmlp[cpu]``: the cpu engine, the reference for accuracy.

Every row trains the same way: scikit-learn's Glorot-uniform weights and
per-epoch shuffles drawn from ``RandomState(0)`` (the PyTorch rows draw the
same numbers fastmlp's estimator draws, so they start from the same weights
and see the same minibatches), L2 ``alpha=1e-4`` on the weights (PyTorch:
``weight_decay=alpha / batch_size``), 2 untimed epochs and then 5 timed ones
in one fit. The first epoch compiles the kernels (Numba's, cuBLAS's
heuristics, PyTorch's lazy initialisation); the second is where fastmlp's
engine captures its graph (it captures from a trainer's second epoch on),
so the timed epochs are the steady state, and all rows train 7 epochs
before their held-out accuracy is scored.

Timing. The fastmlp rows run the estimator's own ``fit``; while it runs, the
engine's ``trainer`` is wrapped so that each ``run_epoch`` (the order's
upload, the launches or the graph's replay, the loss's read-back) is timed
by CUDA events recorded on the trainer's stream. The PyTorch rows' epochs
(the order's upload, the steps, the loss's ``item()``) are timed by CUDA
events on PyTorch's current stream. Each row reports the mean of its timed
epochs (``seconds``, with every epoch in ``epoch_seconds``) and the wall time
per epoch of the whole training loop, the host's shuffle and the
estimator's per-epoch bookkeeping included (``fit_seconds_per_epoch``). The
cpu row, and every row in Numba's CUDA simulator, are timed by
``time.perf_counter`` (the simulator's events record no time).

Where the suite cannot run: without a GPU (``unavailable_reason()`` of the
CUDA engine), every row is marked skipped with the reason, ``python -m
fastmlp bench`` prints the reason, writes no JSON unless ``--json`` asks
and exits 0 (it exits 1 when a row that ran raised); the bench/ tests
skip.
Numba's CUDA simulator (``NUMBA_ENABLE_CUDASIM=1``) runs the fastmlp rows
only with ``--quick`` (200 rows x 20 features, hidden (8,) and (16,), one
timed epoch), which is what the tests run; PyTorch's rows are skipped there.

Time budget, on a machine with one H200 (estimated; no GPU was available
when this was written), against the issue's 7 minutes for the build and the
suite together:

- build, ``pip install -e ".[cuda]"`` with the wheels at hand: compiling the
  Cython kernels takes ~35 s on one core (measured on the 2-core
  development machine), a minute at most with the dependencies' install;
- start-up: imports and CUDA contexts (Numba's, cuBLAS's, PyTorch's) ~10 s;
  the data, ``make_classification`` of 70000x784: ~7 s on one core;
- the first epoch of the first fastmlp row compiles the float32 kernels
  with NVVM, a second or so each, ~10-20 s in all; every later row reuses
  them (one dtype only);
- the fastmlp[cuda] rows: per fit, validation and the 188 MB upload ~0.5 s;
  an eager epoch (and the capture epoch) launches ~20 kernels and GEMMs a
  minibatch from Python at tens of microseconds each, ~0.3-0.5 s for 300
  or 469 minibatches; a graph epoch ~10 ms; scoring 10000 rows on the CPU
  ~20 ms: about 10 s for the 4 fits;
- the PyTorch rows: the first epoch's lazy start (cuBLAS, the fused
  kernels) a few seconds, then ~50-200 ms an eager epoch (300 or 469 steps,
  ~25 launches each): under 10 s for the 4 fits;
- the fastmlp[cpu] rows: 7 epochs of 0.19 s and of 0.84 s on the 2-core
  development machine (less on a GPU host's cores), under 10 s in all,
  the first epoch's Numba compile (~3 s, cached on disk) included.

That is about 1.5 minutes for the suite and 2.5 with the build, inside 7
with room for a cold Numba cache and a slow host. The run logs its own wall
time (``run_seconds`` in the JSON).
"""

import math
import time
import traceback
import warnings
from contextlib import contextmanager

import numpy as np

from .cases import (CUDA_CASES, CUDA_CPU, CUDA_EAGER, CUDA_EPOCHS, CUDA_GRAPH,
                    CUDA_MODELS, CUDA_QUICK_CASES, CUDA_QUICK_EPOCHS,
                    CUDA_TARGET_ACCURACY_PP, CUDA_TARGET_SECONDS,
                    CUDA_TARGET_VS_TORCH, CUDA_WARMUP_EPOCHS, MNIST_TEST,
                    MNIST_TRAIN, TORCH, TORCH_CUDA_EAGER, TORCH_CUDA_GRAPH,
                    _case_name)
from .data import cuda_quick_data, mnist_data
from .models import fit_quietly, make_model, torch_available
from .report import _log

ALPHA = 1e-4              # scikit-learn's default L2 penalty
LEARNING_RATE = 1e-3      # and Adam's default step
TORCH_GRAPH_WARMUP_STEPS = 3


def cuda_skip_reason(quick=False):
    """Why the cuda suite cannot run here, or None when it can."""
    from ..engines.cuda_engine import _simulated, unavailable_reason

    reason = unavailable_reason()
    if reason is not None:
        return f"the cuda suite needs an NVIDIA GPU, and here {reason}"
    if _simulated() and not quick:
        return ("Numba's CUDA simulator is on (NUMBA_ENABLE_CUDASIM=1): it runs "
                "every GPU thread in Python, so the cuda suite runs in it only "
                "with --quick (tiny sizes, for the tests)")
    return None


def describe_gpu():
    """The device the suite runs on, in words."""
    from ..engines.cuda_engine import _simulated

    if _simulated():
        return "Numba's CUDA simulator (no GPU)"
    try:
        from numba import cuda

        device = cuda.get_current_device()
        name = device.name.decode() if isinstance(device.name, bytes) else device.name
        major, minor = device.compute_capability
        return f"{name} (compute capability {major}.{minor})"
    except Exception as exc:     # the suite still runs and says what it saw
        return f"unknown ({exc})"


# ------------------------------------------------------------------ clocks


class _HostClock:
    """``time.perf_counter`` around a synchronous epoch (the cpu engine, the
    simulator)."""

    name = "perf_counter"

    def start(self):
        return time.perf_counter()

    def stop(self, start):
        return time.perf_counter() - start


class _NumbaEvents:
    """CUDA events recorded on one Numba stream, around work on that stream."""

    name = "CUDA events"

    def __init__(self, stream):
        self.stream = stream

    def start(self):
        from numba import cuda

        event = cuda.event(timing=True)
        event.record(self.stream)
        return event

    def stop(self, start):
        from numba import cuda

        end = cuda.event(timing=True)
        end.record(self.stream)
        end.synchronize()
        return float(start.elapsed_time(end)) / 1e3


class _TorchEvents:
    """CUDA events recorded on PyTorch's current stream."""

    name = "CUDA events"

    def start(self):
        import torch

        event = torch.cuda.Event(enable_timing=True)
        event.record()
        return event

    def stop(self, start):
        import torch

        end = torch.cuda.Event(enable_timing=True)
        end.record()
        end.synchronize()
        return start.elapsed_time(end) / 1e3


def _lap(clock, laps, run, *args):
    """``run(*args)``, timed by ``clock`` and by the wall clock; the figures
    appended to ``laps``. Returns what ``run`` returns."""
    wall = time.perf_counter()
    token = clock.start()
    result = run(*args)
    seconds = clock.stop(token)
    end = time.perf_counter()
    laps.append({"seconds": seconds, "wall": end - wall, "end": end,
                 "clock": clock.name})
    return result


# ------------------------------------------------------------ fastmlp rows


@contextmanager
def _timed_epochs(engine_name):
    """While active, each ``run_epoch`` of the trainers that engine
    ``engine_name`` makes is timed: CUDA events on a CUDA trainer's stream,
    ``perf_counter`` otherwise. Yields the list the laps go into.

    (The estimator builds its trainer inside ``fit``; wrapping the engine's
    ``trainer`` is how the timing reaches it without changing the fit.)
    """
    from ..engines import _ENGINES

    engine = _ENGINES[engine_name]
    original = vars(engine)["trainer"]
    laps = []

    def trainer(self, *args, **kwargs):
        made = original(self, *args, **kwargs)
        # A CudaTrainer: its stream, whether it is the simulator, and how
        # many epochs replayed a captured graph.
        cuda_trainer = hasattr(made, "graph_epochs")
        on_gpu = cuda_trainer and not made.simulated
        clock = _NumbaEvents(made.stream) if on_gpu else _HostClock()
        run_epoch = made.run_epoch

        def timed_run_epoch(order, batch_size):
            replayed = made.graph_epochs if cuda_trainer else 0
            loss = _lap(clock, laps, run_epoch, order, batch_size)
            if cuda_trainer:
                laps[-1]["graph"] = made.graph_epochs > replayed
            return loss

        made.run_epoch = timed_run_epoch
        return made

    engine.trainer = trainer
    try:
        yield laps
    finally:
        engine.trainer = original


@contextmanager
def _cuda_graphs(on):
    """``_tunables.CUDA_GRAPHS`` set to ``on`` (the engine reads it per
    epoch); None leaves it as it is."""
    from .. import _tunables

    if on is None:
        yield
        return
    saved = _tunables.CUDA_GRAPHS
    _tunables.CUDA_GRAPHS = on
    try:
        yield
    finally:
        _tunables.CUDA_GRAPHS = saved


def _fastmlp_fit(engine, graphs, data, hidden, batch_size, warmup, epochs):
    """(laps, accuracy, last epoch's loss) of one fastmlp fit."""
    X, y, X_test, y_test = data
    estimator = make_model(f"fastmlp[{engine}]", hidden, batch_size, warmup + epochs)
    with _cuda_graphs(graphs), _timed_epochs(engine) as laps, \
            warnings.catch_warnings():
        # The dropout key's uint64 arithmetic wraps, as meant; in the
        # simulator NumPy's scalars warn about it.
        warnings.filterwarnings("ignore", "overflow encountered in scalar",
                                RuntimeWarning)
        fit_quietly(estimator, X, y)
    return laps, float(estimator.score(X_test, y_test)), float(estimator.loss_)


# ------------------------------------------------------------ PyTorch rows


def torch_skip_reason(models):
    """Why the PyTorch rows cannot run, or None. ``models``: the row names
    the run allows (``available_models``: 'pytorch' unless --no-torch)."""
    from ..engines.cuda_engine import _simulated

    if not torch_available():
        return "PyTorch is not installed"
    if TORCH not in models:
        return "PyTorch left out (--no-torch)"
    if _simulated():
        return "Numba's CUDA simulator is on: there is no GPU for PyTorch to share"
    import torch

    if not torch.cuda.is_available():
        return (f"PyTorch {torch.__version__} sees no CUDA device "
                "(torch.cuda.is_available() is False)")
    return None


def initial_weights(layer_units, random_state=0):
    """scikit-learn's Glorot-uniform weights for relu layers, drawn as
    fastmlp's estimator draws them (each layer's coefficients, then its
    intercepts, from one RandomState): ([(coef, intercept), ...], the
    RandomState, which then gives the estimator's shuffles)."""
    rs = np.random.RandomState(random_state)
    layers = []
    for fan_in, fan_out in zip(layer_units[:-1], layer_units[1:]):
        bound = np.sqrt(6.0 / (fan_in + fan_out))
        coef = rs.uniform(-bound, bound, (fan_in, fan_out))
        layers.append((coef, rs.uniform(-bound, bound, fan_out)))
    return layers, rs


def _torch_adam(model, batch_size, capturable):
    """Adam with scikit-learn's settings over ``model``'s Linear layers,
    fused where PyTorch offers it: (optimizer, 'fused' or 'foreach')."""
    import torch

    linears = [m for m in model if isinstance(m, torch.nn.Linear)]
    groups = [{"params": [m.weight for m in linears],
               "weight_decay": ALPHA / batch_size},
              {"params": [m.bias for m in linears], "weight_decay": 0.0}]
    options = {"lr": LEARNING_RATE, "betas": (0.9, 0.999), "eps": 1e-8}
    if capturable:
        options["capturable"] = True
    try:
        return torch.optim.Adam(groups, fused=True, **options), "fused"
    except (RuntimeError, TypeError, ValueError):
        return torch.optim.Adam(groups, foreach=True, **options), "foreach"


def _torch_fit(graph, data, hidden, batch_size, warmup, epochs):
    """(laps, accuracy, last epoch's loss, {optimizer, versions}) of one
    PyTorch fit on the GPU, eager or with the step captured as a CUDA graph."""
    import torch

    X, y, X_test, y_test = data
    device = torch.device("cuda")
    dtype = {np.dtype(np.float32): torch.float32,
             np.dtype(np.float64): torch.float64}[X.dtype]
    classes, y_index = np.unique(y, return_inverse=True)
    units = (X.shape[1], *hidden, len(classes))
    weights, rs = initial_weights(units)
    layers = []
    for coef, intercept in weights:
        linear = torch.nn.Linear(*coef.shape, device=device, dtype=dtype)
        with torch.no_grad():
            linear.weight.copy_(torch.from_numpy(np.ascontiguousarray(coef.T, X.dtype)))
            linear.bias.copy_(torch.from_numpy(intercept.astype(X.dtype)))
        layers += [linear, torch.nn.ReLU()]
    model = torch.nn.Sequential(*layers[:-1])
    optimizer, kind = _torch_adam(model, batch_size, capturable=graph)
    loss_fn = torch.nn.CrossEntropyLoss()
    X_gpu = torch.from_numpy(X).to(device)
    y_gpu = torch.from_numpy(y_index.astype(np.int64)).to(device)
    n_samples = X.shape[0]
    total = torch.zeros((), device=device, dtype=torch.float64)  # the epoch's loss sum

    def step(X_batch, y_batch, rows):
        loss = loss_fn(model(X_batch), y_batch)
        loss.backward()
        optimizer.step()
        total.add_(loss.detach(), alpha=rows)

    def eager_epoch(order):
        order = torch.from_numpy(order).to(device)
        total.zero_()
        for start in range(0, n_samples, batch_size):
            rows = order[start:start + batch_size]
            optimizer.zero_grad(set_to_none=True)
            step(X_gpu[rows], y_gpu[rows], rows.shape[0])
        return total.item()

    static_X = torch.empty((batch_size, X.shape[1]), device=device, dtype=dtype)
    static_y = torch.empty(batch_size, device=device, dtype=torch.int64)
    side = torch.cuda.Stream()
    captured = {"graph": None, "warm": 0}

    def graph_step():
        """One full minibatch, already in the static buffers: warm-up steps
        on a side stream, then the capture, then replays."""
        if captured["warm"] < TORCH_GRAPH_WARMUP_STEPS:
            side.wait_stream(torch.cuda.current_stream())
            with torch.cuda.stream(side):
                optimizer.zero_grad(set_to_none=True)
                step(static_X, static_y, batch_size)
            torch.cuda.current_stream().wait_stream(side)
            captured["warm"] += 1
            return
        if captured["graph"] is None:
            # The gradients the captured backward pass writes come from the
            # graph's memory pool.
            optimizer.zero_grad(set_to_none=True)
            captured["graph"] = torch.cuda.CUDAGraph()
            with torch.cuda.graph(captured["graph"]):
                step(static_X, static_y, batch_size)
        captured["graph"].replay()

    def graph_epoch(order):
        order = torch.from_numpy(order).to(device)
        total.zero_()
        for start in range(0, n_samples, batch_size):
            rows = order[start:start + batch_size]
            if rows.shape[0] < batch_size:
                # The ragged last minibatch, eagerly; the gradients are
                # zeroed in place, so they stay the graph's buffers.
                optimizer.zero_grad(set_to_none=False)
                step(X_gpu[rows], y_gpu[rows], rows.shape[0])
                continue
            torch.index_select(X_gpu, 0, rows, out=static_X)
            torch.index_select(y_gpu, 0, rows, out=static_y)
            graph_step()
        return total.item()

    run_epoch = graph_epoch if graph else eager_epoch
    clock = _TorchEvents()
    laps = []
    positions = np.arange(n_samples, dtype=np.int64)
    loss_sum = math.nan
    for _ in range(warmup + epochs):
        rs.shuffle(positions)
        loss_sum = _lap(clock, laps, run_epoch, positions)
    if graph and captured["graph"] is None:
        raise RuntimeError("the PyTorch graph row never captured its step "
                           "(too few full minibatches)")
    with torch.no_grad():
        scores = model(torch.from_numpy(X_test).to(device))
        predicted = classes[scores.argmax(dim=1).cpu().numpy()]
    accuracy = float(np.mean(predicted == y_test))
    return laps, accuracy, loss_sum / n_samples, {
        "optimizer": f"Adam({kind})", "torch_version": torch.__version__,
        "float32_matmul_precision": torch.get_float32_matmul_precision()}


# ------------------------------------------------------------------- rows


def _row(case, model, hidden, batch_size, data, warmup, epochs, **figures):
    X, _, X_test, _ = data
    return {"suite": "cuda", "case": case, "model": model, "unit": "ms/epoch",
            "hidden_layer_sizes": list(hidden), "batch_size": batch_size,
            "dtype": np.dtype(X.dtype).name, "n_samples": X.shape[0],
            "n_test": X_test.shape[0], "n_features": X.shape[1],
            "steps_per_epoch": -(-X.shape[0] // batch_size),
            "warmup_epochs": warmup, "epochs": epochs, **figures}


def _measured(laps, warmup, epochs, accuracy, loss):
    """The figures of a row from its laps: the first ``warmup`` (at least
    one) untimed."""
    if len(laps) != warmup + epochs:
        raise RuntimeError(f"the fit ran {len(laps)} epochs, not {warmup} + {epochs}")
    timed = laps[warmup:]
    seconds = [lap["seconds"] for lap in timed]
    figures = {
        "status": "ok", "reason": None,
        "seconds": float(np.mean(seconds)), "seconds_per_epoch": float(np.mean(seconds)),
        "epoch_seconds": seconds, "min_seconds": min(seconds),
        "max_seconds": max(seconds),
        "warmup_seconds": [lap["seconds"] for lap in laps[:warmup]],
        "wall_seconds_per_epoch": float(np.mean([lap["wall"] for lap in timed])),
        "fit_seconds_per_epoch": (laps[-1]["end"] - laps[warmup - 1]["end"]) / len(timed),
        "timer": laps[-1]["clock"], "accuracy": accuracy, "loss": loss,
    }
    if "graph" in laps[-1]:
        figures["graph_epochs"] = sum(lap["graph"] for lap in timed)
    return figures


def _not_run(status, reason):
    return {"status": status, "reason": reason, "seconds": None, "accuracy": None}


def bench_cuda_case(hidden, batch_size, data, warmup=CUDA_WARMUP_EPOCHS,
                    epochs=CUDA_EPOCHS, torch_reason=None, log=None):
    """Every row of one case (``CUDA_MODELS``), in order: a list of dicts.

    ``torch_reason``: why the PyTorch rows are skipped (None: they run). A
    row that raises is kept, with status 'failed' and the error as reason
    (the traceback goes to ``log``), so one broken row costs the run nothing
    else.
    """
    from ..engines import _ENGINES

    if warmup < 1 or epochs < 1:
        raise ValueError("the cuda suite needs at least one warm-up and one timed epoch")
    dtype = np.dtype(data[0].dtype).name
    case = _case_name(hidden, batch_size, dtype)
    _log(log, f"cuda {case}")
    runs = {
        CUDA_GRAPH: lambda: _fastmlp_fit("cuda", True, data, hidden, batch_size,
                                         warmup, epochs),
        CUDA_EAGER: lambda: _fastmlp_fit("cuda", False, data, hidden, batch_size,
                                         warmup, epochs),
        TORCH_CUDA_EAGER: lambda: _torch_fit(False, data, hidden, batch_size,
                                             warmup, epochs),
        TORCH_CUDA_GRAPH: lambda: _torch_fit(True, data, hidden, batch_size,
                                             warmup, epochs),
        CUDA_CPU: lambda: _fastmlp_fit("cpu", None, data, hidden, batch_size,
                                       warmup, epochs),
    }
    skips = {TORCH_CUDA_EAGER: torch_reason, TORCH_CUDA_GRAPH: torch_reason,
             CUDA_CPU: None if _ENGINES["cpu"].is_available()
             else "the cpu engine is not built here"}
    rows = []
    for model in CUDA_MODELS:
        if skips.get(model):
            figures = _not_run("skipped", skips[model])
            _log(log, f"  {model}: skipped ({skips[model]})")
        else:
            try:
                laps, accuracy, loss, *torch_figures = runs[model]()
                figures = _measured(laps, warmup, epochs, accuracy, loss)
                if torch_figures:
                    figures.update(torch_figures[0])
                _log(log, f"  {model}: {figures['seconds'] * 1e3:.3f} ms/epoch "
                          f"({figures['timer']}), accuracy {accuracy:.4f}")
            except Exception as exc:
                figures = _not_run("failed", f"{type(exc).__name__}: {exc}")
                _log(log, f"  {model}: FAILED\n{traceback.format_exc()}")
        rows.append(_row(case, model, hidden, batch_size, data, warmup, epochs,
                         **figures))
    return _compare(rows)


def _compare(rows):
    """``vs_torch_eager`` (PyTorch eager's time over the row's) and
    ``accuracy_vs_cpu_pp`` (the row's accuracy minus the cpu engine's, in
    percentage points), None where either row is missing."""
    by_model = {row["model"]: row for row in rows}
    torch_eager = by_model.get(TORCH_CUDA_EAGER, {}).get("seconds")
    cpu = by_model.get(CUDA_CPU, {}).get("accuracy")
    for row in rows:
        row["vs_torch_eager"] = (torch_eager / row["seconds"]
                                 if torch_eager and row["seconds"] else None)
        row["accuracy_vs_cpu_pp"] = (100 * (row["accuracy"] - cpu)
                                     if cpu is not None and row["accuracy"] is not None
                                     else None)
    return rows


def bench_cuda(quick=False, epochs=None, models=None, log=None, threads=None, **_):
    """The cuda suite: every case's rows (``bench_cuda_case``).

    Without a GPU (or in the simulator without ``quick``) every row comes
    back skipped, with the reason, which is also logged.
    """
    from .models import available_models

    models = available_models() if models is None else list(models)
    cases = CUDA_QUICK_CASES if quick else CUDA_CASES
    epochs = epochs or (CUDA_QUICK_EPOCHS if quick else CUDA_EPOCHS)
    reason = cuda_skip_reason(quick)
    if reason is not None:
        _log(log, f"cuda suite skipped: {reason}")
        return _compare([{"suite": "cuda", "case": _case_name(*case), "model": model,
                          "unit": "ms/epoch", **_not_run("skipped", reason)}
                         for case in cases for model in CUDA_MODELS])
    torch_reason = torch_skip_reason(models)
    _log(log, f"cuda suite on {describe_gpu()}"
              + (f"; PyTorch rows skipped: {torch_reason}" if torch_reason else ""))
    rows = []
    for hidden, batch_size, dtype in cases:
        data = (cuda_quick_data(dtype) if quick
                else mnist_data(dtype, MNIST_TRAIN, MNIST_TEST))
        rows += bench_cuda_case(hidden, batch_size, data, CUDA_WARMUP_EPOCHS,
                                epochs, torch_reason, log)
    return rows


def cuda_targets(rows, quick=False):
    """Issue 11's targets, checked on the graph rows (backend='cuda' as it
    ships): a list of dicts with the case, the check, the measured value,
    the limit and ``met`` (True, False, or None where a row it needs did not
    run). Empty with ``quick`` (the targets are for the full sizes) and
    when no row ran."""
    if quick or not any(row["status"] == "ok" for row in rows):
        return []
    checks = []
    for row in rows:
        if row["model"] != CUDA_GRAPH or row["case"] not in CUDA_TARGET_SECONDS:
            continue

        def check(name, value, limit, met):
            checks.append({"case": row["case"], "check": name, "value": value,
                           "limit": limit, "met": None if value is None else met})

        seconds, vs_torch = row["seconds"], row["vs_torch_eager"]
        delta = row["accuracy_vs_cpu_pp"]
        limit = CUDA_TARGET_SECONDS[row["case"]]
        check("ms per epoch", None if seconds is None else seconds * 1e3,
              limit * 1e3, seconds is not None and seconds <= limit)
        check("x PyTorch eager", vs_torch, CUDA_TARGET_VS_TORCH,
              vs_torch is not None and vs_torch >= CUDA_TARGET_VS_TORCH)
        check("accuracy - cpu's (pp)", delta, CUDA_TARGET_ACCURACY_PP,
              delta is not None and abs(delta) <= CUDA_TARGET_ACCURACY_PP)
    return checks
