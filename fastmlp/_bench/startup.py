"""The start-up suite: import time, and process start to the end of a first
fit, each in fresh interpreters (with a cold and a warm Numba cache)."""

import os
import subprocess
import sys
import tempfile
import time

import numpy as np

from .cases import STARTUP_EPOCHS, TORCH
from .models import available_models
from .report import _add_speedups, _log

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
