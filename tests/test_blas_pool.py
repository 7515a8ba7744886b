"""The thread pool shared by NumPy's OpenBLAS and the training kernels
(kernels/_pool.h, fastmlp/_blas.py): installed once a cpu-engine fit has
loaded the kernels, split passes bit-identical to serial ones, threadpoolctl
limits obeyed, and no hang under concurrent fits, NumPy GEMMs or fork."""

import multiprocessing
import os
import sys
import textwrap
import threading

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal
from threadpoolctl import threadpool_limits

from conftest import run_python
from fastmlp import MLPClassifier, _blas
from fastmlp._kernels import _forward, _train

pytest.importorskip("numba")
import fastmlp.engines._cython_kernels  # noqa: E402,F401  (installs the pool)

HOOK = _blas._numpy_blas_addresses(_blas._POOL_SYMBOLS) is not None
pytestmark = pytest.mark.skipif(
    not (HOOK and sys.platform.startswith("linux")),
    reason="the pool needs Linux and NumPy's scipy-openblas >= 0.3.28 "
           "(openblas_set_threads_callback_function)",
)
ACT = _forward.ACTIVATION_CODES


def test_pool_is_openblas_backend_once_the_kernels_load():
    installed, workers, _ = _train.blas_pool_info()
    assert installed
    # Installing again is a no-op that still reports success.
    assert _blas.share_numpy_blas_pool(_train)


def test_parts_follow_threadpoolctl_limits():
    with threadpool_limits(limits=1, user_api="blas"):
        assert _train.blas_pool_info()[2] == 1
    with threadpool_limits(limits=2, user_api="blas"):
        assert _train.blas_pool_info()[2] == 2


def _run_passes(rs_seed, dtype):
    """Every split pass of the kernels on arrays big enough to be split."""
    rs = np.random.RandomState(rs_seed)
    n = 300_001                       # not a multiple of any split
    params = rs.normal(size=n).astype(dtype)
    grad = rs.normal(size=n).astype(dtype)
    m = rs.normal(size=n).astype(dtype)
    v = rs.uniform(size=n).astype(dtype)
    # Every optimizer's step (codes: fastmlp/_optimizers.py).
    for code in range(len(_train.STEP_NAMES)):
        _train.flat_step(code, params, grad, m, v, 123_457, 1e-3, 37.0, 1e-3,
                         np.array([0.9, 0.999, 1e-8, 1e-5]))
    z = rs.normal(size=(1001, 130)).astype(dtype)
    b = rs.normal(size=130).astype(dtype)
    outs = {}
    for name in ACT:     # every activation, the added ones' vector loops too
        outs[name] = z.copy()
        _train.bias_activation(outs[name], b, ACT[name])
    delta = rs.normal(size=z.shape).astype(dtype)
    _train.derivative_multiply(outs["tanh"], delta, ACT["tanh"])
    for name in ("leaky_relu", "elu", "gelu", "silu"):
        outs[name + "'"] = delta.copy()
        _train.derivative_multiply(z, outs[name + "'"], ACT[name])
    # The fused derivative and column sums, split by column blocks (past
    # PARALLEL_MIN_ELEMENTS entries).
    relu_out = np.maximum(rs.normal(size=(1100, 130)), 0).astype(dtype)
    fused = rs.normal(size=relu_out.shape).astype(dtype)
    fused_sums = np.empty(relu_out.shape[1], dtype)
    _train.derivative_sums(relu_out, fused, ACT["relu"], fused_sums)
    outs["relu' sums"] = fused_sums
    outs["relu' fused"] = fused
    src = rs.normal(size=(5000, 301)).astype(dtype)
    rows = rs.randint(0, 5000, size=777).astype(np.intp)
    gathered = np.empty((777, 301), dtype)
    _train.gather(src.view(np.uint8), rows, gathered.view(np.uint8))
    assert_array_equal(gathered, src[rows])
    a = rs.normal(size=(400, 300)).astype(dtype)
    return [params, m, v, delta, gathered, a @ a.T, *outs.values()]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_split_passes_write_the_serial_bits(dtype):
    with threadpool_limits(limits=1, user_api="blas"):
        serial = _run_passes(0, dtype)
    with threadpool_limits(limits=2, user_api="blas"):
        assert _train.blas_pool_info()[2] == 2
        split = _run_passes(0, dtype)
        assert _train.blas_pool_info()[1] >= 1       # a worker really ran
    for one, two in zip(serial, split):
        assert_array_equal(one, two)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("n_params", [1, 7, 33, 129, 4097, 20000, 300001])
def test_flat_step_l2_is_the_step_then_l2_sum_at_any_split(dtype, n_params):
    # The step returns the updated coefficients' L2 sum, the next batch's L2
    # term. float32 sums it part by part inside the split step; the bits
    # must be l2_sum's of the updated coefficients, serial or split (a
    # loss that moved with the thread count, or with where the loop's
    # slices fall, would make fits irreproducible).
    rs = np.random.RandomState(n_params)
    n_coef = n_params - n_params // 10
    start = [(rs.normal(size=n_params) * 10.0 ** rs.randint(-3, 2)).astype(dtype)
             for _ in range(4)]
    hyper = np.array([0.9, 0.999, 1e-8])
    results = []
    for threads in (1, 2):
        with threadpool_limits(limits=threads, user_api="blas"):
            params, grad, m, v = (a.copy() for a in start)
            v[:] = np.abs(v)
            plain = [a.copy() for a in (params, m, v)]
            _train.flat_step(0, *plain[:1], grad, *plain[1:], n_coef, 1e-4, 200.0,
                             1e-3, hyper)
            l2 = _train.flat_step_l2(0, params, grad, m, v, n_coef, 1e-4, 200.0, 1e-3,
                                     hyper)
            # (float64's is DOT's, whose bits follow OpenBLAS's threads.)
            assert l2 == _train.l2_sum(params, n_coef)
        for ours, theirs in zip((params, m, v), plain):
            assert_array_equal(ours, theirs)
        w = params[:n_coef].astype(np.float64)
        assert_allclose(l2, np.dot(w, w), rtol=1e-12)
        results.append(l2)
    if dtype == np.float32:
        assert results[0] == results[1]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_split_finite_check_finds_a_bad_entry_in_any_part(dtype):
    # fit's check of X splits it over the pool: a NaN or infinity in any
    # part, at a part's edges too, must be found with 1 or 2 threads.
    n = 300001
    x = np.random.RandomState(0).normal(size=n).astype(dtype)
    for threads in (1, 2):
        with threadpool_limits(limits=threads, user_api="blas"):
            assert _train.all_finite(x)
            for position in (0, 1, n // 2 - 1, n // 2, n // 2 + 1, n - 2, n - 1):
                for bad in (np.nan, np.inf, -np.inf):
                    y = x.copy()
                    y[position] = bad
                    assert not _train.all_finite(y), (threads, position, bad)


def _fit(seed, X, y):
    model = MLPClassifier((64,), batch_size=100, max_iter=3, random_state=seed,
                          backend="cpu")
    return model.fit(X, y).coefs_[0].copy()


def _run_together(threads):
    """Start the threads, wait for them (5 minutes at most): none may hang."""
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=300)
    assert not any(t.is_alive() for t in threads), "a thread hung"


def test_concurrent_fits_and_numpy_gemms_agree_and_finish():
    rs = np.random.RandomState(0)
    X = rs.normal(size=(3000, 300)).astype(np.float32)
    y = rs.randint(0, 5, size=3000)
    a = rs.normal(size=(600, 600))
    expected_fits = [_fit(seed, X, y) for seed in (1, 2)]
    expected_gemm = a @ a
    results = {}

    def fit(seed):
        results[seed] = _fit(seed, X, y)

    def gemms():
        results["gemm"] = [a @ a for _ in range(20)]

    with threadpool_limits(limits=2, user_api="blas"):
        _run_together([threading.Thread(target=fit, args=(s,)) for s in (1, 2)]
                      + [threading.Thread(target=gemms)])
    assert_array_equal(results[1], expected_fits[0])
    assert_array_equal(results[2], expected_fits[1])
    # NumPy's own products: right, to rounding. (Not bit for bit: under
    # load, a call that meets another one running may get a different split
    # of its work from OpenBLAS, seen twice in the sanitized run, up to
    # 8.5e-14 on entries of ~20; the fits above stay bit-identical.)
    scale = np.abs(expected_gemm).max()
    for product in results["gemm"]:
        assert_allclose(product, expected_gemm, rtol=1e-13, atol=1e-13 * scale)


def _child(queue):
    rs = np.random.RandomState(0)
    a = rs.normal(size=(500, 500))
    X = rs.normal(size=(1000, 200)).astype(np.float32)
    y = rs.randint(0, 3, size=1000)
    with threadpool_limits(limits=2, user_api="blas"):
        product = a @ a
        coef = _fit(0, X, y)
    queue.put((product.sum(), coef.sum(), _train.blas_pool_info()))


def test_a_forked_child_starts_its_own_workers():
    # Warm the parent's pool first, so the child inherits a started pool.
    with threadpool_limits(limits=2, user_api="blas"):
        rs = np.random.RandomState(0)
        a = rs.normal(size=(500, 500))
        a @ a
    context = multiprocessing.get_context("fork")
    queue = context.Queue()
    child = context.Process(target=_child, args=(queue,))
    child.start()
    child.join(timeout=120)
    if child.is_alive():
        child.kill()
        pytest.fail("the forked child hung")
    assert child.exitcode == 0
    product_sum, coef_sum, info = queue.get(timeout=10)
    assert np.isfinite(product_sum) and np.isfinite(coef_sum)
    assert info[0] and info[1] >= 1


def test_the_environment_can_leave_openblas_threads_alone():
    code = textwrap.dedent("""
        import numpy as np
        from fastmlp import MLPClassifier
        from fastmlp._kernels import _train
        X = np.random.RandomState(0).normal(size=(200, 5))
        MLPClassifier((8,), max_iter=2, backend="cpu").fit(X, X[:, 0] > 0)
        print(_train.blas_pool_info()[0])
    """)
    env = dict(os.environ, FASTMLP_BLAS_POOL="0", PYTHONWARNINGS="ignore")
    out = run_python(code, env=env, check=True, capture_output=True, text=True,
                     timeout=300)
    assert out.stdout.strip() == "False"


def _scipy_threads():
    from threadpoolctl import threadpool_info

    return [lib["num_threads"] for lib in threadpool_info()
            if lib["user_api"] == "blas" and "scipy" in lib["filepath"]
            and "numpy" not in lib["filepath"]]


def _threads_in_minimize(monkeypatch):
    """SciPy's BLAS thread counts seen inside scipy.optimize.minimize."""
    import scipy.optimize

    from fastmlp import _multilayer_perceptron as mlp

    seen = []
    real_minimize = scipy.optimize.minimize

    def spy(*args, **kwargs):
        seen.append(_scipy_threads())
        return real_minimize(*args, **kwargs)

    monkeypatch.setattr(mlp.scipy.optimize, "minimize", spy)
    X = np.random.RandomState(0).normal(size=(50, 4))
    MLPClassifier(solver="lbfgs", max_iter=5, random_state=0).fit(X, X[:, 0] > 0)
    return seen


def _callback_in(path):
    import ctypes

    return ctypes.c_void_p.in_dll(ctypes.CDLL(path), "openblas_threads_callback_").value


def test_lbfgs_runs_scipys_blas_on_the_pool_at_its_own_thread_count(monkeypatch):
    # scipy.optimize's L-BFGS-B calls SciPy's own OpenBLAS, whose spinning
    # workers would fight the pool for the cores on every iteration: its
    # jobs run on the pool, split as its own thread count says.
    controller = _blas._scipy_blas()
    if controller is None:
        pytest.skip("NumPy and SciPy share one BLAS")
    before = _scipy_threads()
    assert _threads_in_minimize(monkeypatch) == [before]
    assert _scipy_threads() == before
    assert _blas._scipy_blas_on_pool()
    numpy_library = _blas._candidate_libraries()[0]
    for lib in controller.lib_controllers:
        assert _callback_in(lib.filepath) == _callback_in(numpy_library) is not None


def test_lbfgs_gives_sklearns_bits_where_scipys_dot_products_use_threads():
    # Above 10000 entries OpenBLAS splits a dot product over its threads, so
    # L-BFGS-B's arithmetic depends on SciPy's BLAS thread count: running it
    # on one thread (as fastmlp once did) moved a 12k-parameter fit off
    # scikit-learn's bits after a few iterations.
    from sklearn.neural_network import MLPRegressor as SkRegressor

    from fastmlp import MLPRegressor

    if _scipy_threads() in ([], [1]):
        pytest.skip("SciPy's BLAS runs one thread here: nothing to split")
    rs = np.random.RandomState(3)
    X = rs.normal(size=(40, 120)) * 100
    y = 1e6 + rs.normal(size=40)
    params = dict(hidden_layer_sizes=(100,), solver="lbfgs", alpha=10.0,
                  max_iter=20, random_state=0)
    theirs = SkRegressor(**params).fit(X, y)
    ours = MLPRegressor(backend="numpy", **params).fit(X, y)
    assert sum(c.size + i.size for c, i in zip(ours.coefs_, ours.intercepts_)) > 10_000
    assert ours.n_iter_ == theirs.n_iter_
    for mine, reference in zip(ours.coefs_ + ours.intercepts_,
                               theirs.coefs_ + theirs.intercepts_):
        assert_array_equal(mine, reference)


def test_without_the_pool_lbfgs_runs_scipys_blas_on_one_thread(monkeypatch):
    # The fallback (FASTMLP_BLAS_POOL=0, an old OpenBLAS): no spinning
    # workers either, at the price of the last bits above 10000 parameters.
    monkeypatch.setattr(_blas, "_scipy_blas_on_pool", lambda: False)
    before = _scipy_threads()
    assert _blas._scipy_blas() is not None or not before
    expected = [1] * len(before) if _blas._scipy_blas() is not None else before
    assert _threads_in_minimize(monkeypatch) == [expected]
    assert _scipy_threads() == before


def test_overlapping_lbfgs_fits_restore_scipys_threads_once_all_end(monkeypatch):
    # Without the pool, lbfgs fits in threads overlap: the first one out
    # must not lift the limit under the other, and the last one out must
    # restore it, whatever the order they leave in.
    monkeypatch.setattr(_blas, "_scipy_blas_on_pool", lambda: False)
    scipy_threads = _scipy_threads
    before = scipy_threads()
    if _blas._scipy_blas() is None or before == [1] * len(before):
        pytest.skip("no SciPy BLAS apart from NumPy's, or it runs one thread")
    first, second = _blas.scipy_blas_for_lbfgs(), _blas.scipy_blas_for_lbfgs()
    first.__enter__()
    second.__enter__()
    first.__exit__(None, None, None)
    assert scipy_threads() == [1] * len(before)
    second.__exit__(None, None, None)
    assert scipy_threads() == before

    def fit(seed):
        X = np.random.RandomState(seed).normal(size=(300, 6))
        MLPClassifier(solver="lbfgs", max_iter=30, random_state=seed).fit(X, X[:, 0] > 0)

    threads = [threading.Thread(target=fit, args=(seed,)) for seed in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert scipy_threads() == before


# --- the next minibatch's gather in idle time ---------------------------------

def _idle_gather_api():
    """acquire, arm, finish, release: the C entry points the loops call."""
    import ctypes

    from numba.extending import get_cython_function_address

    def c(name, restype, *args):
        address = get_cython_function_address("fastmlp._kernels._train", name)
        return ctypes.CFUNCTYPE(restype, *args)(address)

    p, n = ctypes.c_void_p, ctypes.c_ssize_t
    return (c("idle_gather_acquire", ctypes.c_int),
            c("idle_gather_arm", ctypes.c_int, p, n, p, n, p),
            c("idle_gather_finish", None), c("idle_gather_release", None))


def test_idle_gather_copies_the_rows_and_has_one_owner():
    acquire, arm, finish, release = _idle_gather_api()
    rs = np.random.RandomState(3)
    src = rs.normal(size=(500, 370))
    rows = rs.randint(0, 500, size=203).astype(np.intp)
    out = np.full((205, 370), -7.0)
    assert acquire() == 1
    try:
        assert acquire() == 0          # another loop gathers for itself
        for first in (0, 50):          # a job after a finished one, too
            out[:] = -7.0
            assert arm(src.ctypes.data, 370 * 8, rows[first:].ctypes.data, 203 - first,
                       out.ctypes.data) == 1
            finish()
            assert_array_equal(out[:203 - first], src[rows[first:]])
            assert (out[203 - first:] == -7.0).all()
        # Rows wider than a unit's 8 KB go in pieces (24000 bytes: 3).
        wide = rs.normal(size=(50, 3000))
        wide_rows = rs.randint(0, 50, size=9).astype(np.intp)
        wide_out = np.zeros((9, 3000))
        assert arm(wide.ctypes.data, 3000 * 8, wide_rows.ctypes.data, 9,
                   wide_out.ctypes.data) == 1
        finish()
        assert_array_equal(wide_out, wide[wide_rows])
        # Jobs it cannot post: the loop then gathers them itself. (Nothing
        # is read: 8193 rows of 1 MiB are more than 2^20 units of 8 KB.)
        assert arm(src.ctypes.data, 370 * 8, rows.ctypes.data, 0, out.ctypes.data) == 0
        # Below PARALLEL_MIN_BYTES (64 KiB) the loop's own gather is faster.
        assert arm(src.ctypes.data, 37 * 8, rows.ctypes.data, 200, out.ctypes.data) == 0
        assert arm(src.ctypes.data, 1 << 20, rows.ctypes.data, 8193, out.ctypes.data) == 0
    finally:
        release()
    assert acquire() == 1              # released: the next loop may own it
    release()


def test_idle_threads_gather_before_the_loop_finishes():
    import time

    acquire, arm, finish, release = _idle_gather_api()
    rs = np.random.RandomState(4)
    src = rs.normal(size=(1000, 1000))
    rows = rs.permutation(1000)[:64].astype(np.intp)
    out = np.zeros((64, 1000))
    a = rs.normal(size=(600, 600))
    with threadpool_limits(limits=2, user_api="blas"):
        assert acquire() == 1
        try:
            assert arm(src.ctypes.data, 8000, rows.ctypes.data, 64, out.ctypes.data) == 1
            a @ a        # wakes the worker; after its part it spins, and copies
            time.sleep(0.05)
            # Every row in place before the loop asked for them.
            assert_array_equal(out, src[rows])
            finish()
        finally:
            release()
    assert _train.blas_pool_info()[1] >= 1


def test_concurrent_predicts_and_fits_share_the_idle_work_safely():
    # One caller at a time owns the idle facility (the others check their
    # blocks and gather their rows themselves): every result is the serial
    # one, whoever owned it.
    rs = np.random.RandomState(6)
    X = rs.normal(size=(3000, 300)).astype(np.float32)
    y = rs.randint(0, 5, size=3000)
    model = MLPClassifier((64,), batch_size=100, max_iter=2, random_state=0,
                          backend="cpu").fit(X, y)
    X_big = rs.normal(size=(5 * 1024 + 17, 300)).astype(np.float32)
    expected = model.predict_proba(X_big)
    expected_fit = _fit(3, X, y)
    results = {}

    def predict(key):
        results[key] = [model.predict_proba(X_big) for _ in range(4)]

    def fit():
        results["fit"] = _fit(3, X, y)

    with threadpool_limits(limits=2, user_api="blas"):
        _run_together([threading.Thread(target=predict, args=(k,)) for k in range(3)]
                      + [threading.Thread(target=fit)])
    for k in range(3):
        for got in results[k]:
            assert_array_equal(got, expected)
    assert_array_equal(results["fit"], expected_fit)
    # Nobody kept the facility.
    assert _train.idle_acquire()
    _train.idle_release()
