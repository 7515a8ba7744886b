"""Where models are deployed: no writable Numba cache, a corrupted cache,
NUMBA_DISABLE_JIT, and a Ctrl-C in the middle of a long epoch.

The environment cases run in a fresh Python process each, since Numba reads
its configuration and builds its caches once per process.
"""

import json
import os
import textwrap
import threading
import time
import _thread

import numpy as np
import pytest

from conftest import run_python
from fastmlp import MLPClassifier

# A fit on the cpu engine in a child process; prints its loss curve as JSON.
_FIT = """
import json, warnings
import numpy as np
from fastmlp import MLPClassifier
rs = np.random.RandomState(0)
X = rs.normal(size=(120, 6))
y = rs.randint(3, size=120)
caught = []
with warnings.catch_warnings(record=True) as caught:
    warnings.simplefilter("always")
    curves = [
        MLPClassifier(hidden_layer_sizes=(7,), solver=solver, max_iter=4,
                      batch_size=32, random_state=0, backend="cpu")
        .fit(X, y).loss_curve_
        for solver in ("adam", "sgd")
    ]
messages = [str(w.message) for w in caught if "NUMBA_CACHE_DIR" in str(w.message)]
print(json.dumps({"curves": curves, "cache_warnings": messages}))
"""


def _run_fit(env_updates, prelude=""):
    env = {k: v for k, v in os.environ.items() if not k.startswith("NUMBA_")}
    env.update(env_updates)
    result = run_python(textwrap.dedent(prelude) + _FIT, env=env,
                        capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def _expected_curves():
    rs = np.random.RandomState(0)
    X = rs.normal(size=(120, 6))
    y = rs.randint(3, size=120)
    return [
        MLPClassifier(hidden_layer_sizes=(7,), solver=solver, max_iter=4,
                      batch_size=32, random_state=0, backend="cpu").fit(X, y).loss_curve_
        for solver in ("adam", "sgd")
    ]


def test_no_writable_cache_directory_compiles_in_memory_with_one_warning():
    # What Numba meets in a read-only install run by a user without a home:
    # no cache locator accepts any directory.
    prelude = """
    from numba.core import caching
    for impl in (caching.CompileResultCacheImpl, caching.CodeLibraryCacheImpl):
        impl._locator_classes = []
    """
    out = _run_fit({}, prelude)
    assert len(out["cache_warnings"]) == 1, out["cache_warnings"]
    assert out["curves"] == _expected_curves()


def test_corrupted_cache_files_are_compiled_again(tmp_path):
    env = {"NUMBA_CACHE_DIR": str(tmp_path)}
    first = _run_fit(env)
    indexes = sorted(tmp_path.rglob("*.nbi"))
    data = sorted(tmp_path.rglob("*.nbc"))
    assert indexes and data
    for path in data:  # truncated entries
        path.write_bytes(path.read_bytes()[: path.stat().st_size // 3])
    for path in indexes[::2]:  # garbled indexes
        path.write_bytes(b"\x80\x04garbage" + os.urandom(64))
    second = _run_fit(env)
    assert second["curves"] == first["curves"] == _expected_curves()
    assert second["cache_warnings"] == []
    # The cache was written afresh: a third process loads it.
    assert _run_fit(env)["curves"] == first["curves"]


def test_disabled_jit_trains_the_same_model():
    out = _run_fit({"NUMBA_DISABLE_JIT": "1"})
    assert out["curves"] == _expected_curves()


def test_ctrl_c_stops_a_long_epoch_promptly(backend):
    rs = np.random.RandomState(0)
    X = rs.standard_normal((60000, 200)).astype(np.float32)
    y = rs.randint(10, size=60000)
    # Compile (or load) the loops first, so the timed fit only trains.
    MLPClassifier(hidden_layer_sizes=(8,), max_iter=1, backend=backend).fit(X[:500], y[:500])
    est = MLPClassifier(hidden_layer_sizes=(2048, 1024), max_iter=5, random_state=0,
                        backend=backend)
    sent = []

    def interrupt():
        time.sleep(0.5)
        sent.append(time.perf_counter())
        _thread.interrupt_main()

    threading.Thread(target=interrupt, daemon=True).start()
    with pytest.warns(UserWarning, match="Training interrupted by user."):
        est.fit(X, y)
    latency = time.perf_counter() - sent[0]
    n_batches = 60000 // 200
    # The first epoch was cut short, not waited for...
    assert est.n_iter_ == 0
    assert 0 < est._optimizer.t < n_batches
    # ...within the 0.25 s, where that epoch takes seconds (860 GFLOP).
    assert latency < 0.25, latency
    assert np.isfinite(est.predict_proba(X[:10])).all()
