"""Suite 4: start-up, each measured in fresh interpreters.

``import fastmlp`` next to ``import sklearn.neural_network``, and process start
to the end of a first fit on load_digits, for every fastmlp engine with a
warm and with a cold Numba cache (NUMBA_CACHE_DIR: a folder filled by an
earlier run, or a fresh empty one). Time per process, as the child measures
it: the import alone, or from the process's start to the end of its fit;
speed-ups compare medians.

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
def test_import(record, time_rounds, module):
    seconds = time_rounds(lambda: _bench.time_import(module, 1), ROUNDS)
    record("startup", "import",
           "sklearn" if module.startswith("sklearn") else "fastmlp", "import",
           float(np.median(seconds)))


@pytest.mark.parametrize(("model", "cache"), FIRST_FITS,
                         ids=[f"{m}-{c}" if c else m for m, c in FIRST_FITS])
def test_first_fit(record, time_rounds, cache_root, model, cache):
    if cache == "warm":
        warm_dir = tempfile.mkdtemp(dir=cache_root, prefix="warm-")
        _bench.time_first_fit(model, warm_dir)  # fills the cache, untimed

    def first_fit():
        if cache == "warm":
            cache_dir = warm_dir
        elif cache == "cold":
            cache_dir = tempfile.mkdtemp(dir=cache_root, prefix="cold-")
        else:
            cache_dir = None
        return _bench.time_first_fit(model, cache_dir)

    seconds = time_rounds(first_fit, ROUNDS)
    record("startup", f"first fit digits {_bench.STARTUP_EPOCHS} ep",
           model if cache is None else f"{model} {cache}", "process",
           float(np.median(seconds)))
