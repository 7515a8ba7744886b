"""Suite 4: start-up, each measured in fresh interpreters.

``import fastmlp`` next to ``import sklearn.neural_network``, and process start
to the end of a first fit on load_digits, for every fastmlp engine with a
warm and with a cold Numba cache (NUMBA_CACHE_DIR: a folder filled by an
earlier run, or a fresh empty one).

    pytest bench/test_bench_startup.py --benchmark-only
"""

import tempfile

import numpy as np
import pytest

from fastmlp import _bench

QUICK = _bench.quick_from_env()
ROUNDS = 1 if QUICK else 3
FIRST_FITS = [("sklearn", None)] + [
    (model, cache)
    for model in _bench.available_models(torch=False) if model != "sklearn"
    for cache in ("warm", "cold")
]


@pytest.fixture(scope="module")
def cache_root():
    with tempfile.TemporaryDirectory(prefix="fastmlp-bench-") as root:
        yield root


@pytest.mark.parametrize("module", ["sklearn.neural_network", "fastmlp"])
def test_import(benchmark, record, module):
    seconds = []
    benchmark.pedantic(lambda: seconds.append(_bench.time_import(module, 1)),
                       rounds=ROUNDS, iterations=1)
    # The import alone, timed inside the child: no interpreter start-up.
    record("import", "sklearn" if module.startswith("sklearn") else "fastmlp",
           float(np.median(seconds)), unit="s")


@pytest.mark.parametrize(("model", "cache"), FIRST_FITS,
                         ids=[f"{m}-{c}" if c else m for m, c in FIRST_FITS])
def test_first_fit(benchmark, record, cache_root, model, cache):
    if cache == "warm":
        warm_dir = tempfile.mkdtemp(dir=cache_root, prefix="warm-")
        _bench.time_first_fit(model, warm_dir)  # fills the cache, untimed

    def cache_dir():
        if cache == "warm":
            return (warm_dir,), {}
        if cache == "cold":
            return (tempfile.mkdtemp(dir=cache_root, prefix="cold-"),), {}
        return (None,), {}

    seconds = []
    benchmark.pedantic(lambda d: seconds.append(_bench.time_first_fit(model, d)),
                       setup=cache_dir, rounds=ROUNDS, iterations=1)
    record(f"first fit digits {_bench.STARTUP_EPOCHS} ep",
           model if cache is None else f"{model} {cache}",
           float(np.median(seconds)), unit="s from process start")
