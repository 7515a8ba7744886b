"""What an epoch is measured against: its GEMM work, floor and peak.

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
"""

import math
import time
from functools import lru_cache

import numpy as np

from .cases import PEAK_SIZE


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
