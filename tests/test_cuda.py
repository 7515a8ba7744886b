"""The CUDA engine (backend="cuda") against the numpy engine.

Without a GPU, tests/conftest.py turns on Numba's CUDA simulator: the
engine's own kernels then run in Python on host arrays (every buffer
filled with NaN first, so an element a kernel forgets to write shows up),
with NumPy's matmul standing in for cuBLAS. The shapes are tiny (the
simulator runs each thread in Python), with ragged last minibatches. On a
machine with a GPU the same tests run on the device, and the tests marked
``gpu`` too.

float64 follows the numpy engine within rtol 1e-9 (`loss_curve_`,
`coefs_`); float32 within 1e-4.
"""

import os
import pickle
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal

from fastmlp import MLPClassifier, MLPRegressor
from fastmlp._operations import HIDDEN_ACTIVATIONS
from fastmlp._optimizers import OPTIMIZERS
from fastmlp.engines.cuda_engine import _simulated, unavailable_reason

from conftest import run_python

pytest.importorskip("numba_cuda", reason="numba-cuda is in the fastmlp[cuda] and "
                    "test extras")
if unavailable_reason() is not None:
    pytest.skip(unavailable_reason(), allow_module_level=True)

gpu = pytest.mark.skipif(_simulated(), reason="needs a real NVIDIA GPU (the "
                         "simulator runs these tests' kernels, not its timing "
                         "or cuBLAS)")

RTOL = {np.float64: 1e-9, np.float32: 1e-4}
# The dropout hash's uint64 arithmetic wraps on the device; in the
# simulator NumPy's uint64 scalars do the same and warn about it.
pytestmark = pytest.mark.filterwarnings(
    "ignore:overflow encountered in scalar:RuntimeWarning")


def data(n=23, n_features=5, n_classes=3, seed=0):
    rng = np.random.RandomState(seed)
    X = rng.normal(size=(n, n_features))
    return X, rng.randint(0, n_classes, n)


def both(cls, X, y, dtype=np.float64, fit=None, **params):
    """The same fit on the cuda and numpy engines."""
    params = {"hidden_layer_sizes": (4,), "max_iter": 3, "batch_size": 7,
              "random_state": 0, **params}
    models = []
    for backend in ("cuda", "numpy"):
        model = cls(backend=backend, **params)
        (fit or (lambda m: m.fit(X.astype(dtype), y)))(model)
        models.append(model)
    return models


def assert_same_fit(cuda, reference, dtype=np.float64):
    rtol = RTOL[dtype]
    atol = 1e-12 if dtype == np.float64 else 1e-6
    if hasattr(reference, "loss_curve_"):
        assert len(cuda.loss_curve_) == len(reference.loss_curve_)
        assert_allclose(cuda.loss_curve_, reference.loss_curve_, rtol=rtol)
    assert_allclose(cuda.loss_, reference.loss_, rtol=rtol)
    assert cuda.n_iter_ == reference.n_iter_
    for name in ("coefs_", "intercepts_"):
        for a, b in zip(getattr(cuda, name), getattr(reference, name), strict=True):
            assert type(a) is np.ndarray and a.dtype == b.dtype
            assert np.isfinite(a).all()
            assert_allclose(a, b, rtol=rtol, atol=atol)
    for name in ("validation_scores_", "validation_loss_curve_"):
        if getattr(reference, name, None) is not None:
            assert_allclose(getattr(cuda, name), getattr(reference, name), rtol=rtol)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("solver", [*OPTIMIZERS, "lbfgs"])
def test_each_solver(solver, dtype):
    X, y = data()
    cuda, reference = both(MLPClassifier, X, y, dtype, solver=solver, activation="tanh")
    assert_same_fit(cuda, reference, dtype)


@pytest.mark.parametrize("activation", sorted(HIDDEN_ACTIVATIONS))
def test_each_activation(activation):
    X, y = data()
    cuda, reference = both(MLPClassifier, X, y, activation=activation,
                           hidden_layer_sizes=(4, 3), max_iter=2)
    assert_same_fit(cuda, reference)


def test_per_layer_activations_and_dropout():
    X, y = data(n=20)
    for dtype in (np.float64, np.float32):
        cuda, reference = both(MLPClassifier, X, y, dtype, hidden_layer_sizes=(5, 4),
                               activation=("gelu", "relu"), dropout=0.3, max_iter=2)
        assert_same_fit(cuda, reference, dtype)


@pytest.mark.parametrize("task", ["binary", "multilabel", "squared_error", "poisson",
                                  "multi_output"])
def test_each_output_and_loss(task):
    X, y = data()
    rng = np.random.RandomState(1)
    if task == "binary":
        models = both(MLPClassifier, X, y % 2)
    elif task == "multilabel":
        models = both(MLPClassifier, X, rng.randint(0, 2, (23, 3)))
    elif task == "squared_error":
        models = both(MLPRegressor, X, X[:, 0] - X[:, 1])
    elif task == "poisson":
        models = both(MLPRegressor, X, rng.poisson(2.0, 23).astype(float),
                      loss="poisson", learning_rate_init=1e-2)
    else:
        models = both(MLPRegressor, X, X[:, :2] * 0.5, solver="lbfgs")
    assert_same_fit(*models)


def test_sample_and_class_weights():
    X, y = data()
    weights = np.random.RandomState(2).uniform(0.2, 2.0, len(y))
    cuda, reference = both(MLPClassifier, X, y, class_weight={0: 2.0, 1: 0.5},
                           fit=lambda m: m.fit(X, y, sample_weight=weights))
    assert_same_fit(cuda, reference)
    cuda, reference = both(MLPRegressor, X, X[:, 0], solver="lbfgs",
                           fit=lambda m: m.fit(X, X[:, 0], sample_weight=weights))
    assert_same_fit(cuda, reference)


def test_early_stopping_held_out_and_own_validation_set():
    X, y = data(n=30)
    cuda, reference = both(MLPClassifier, X, y, early_stopping=True,
                           validation_fraction=0.3, max_iter=4, n_iter_no_change=2,
                           tol=0.5)
    assert_same_fit(cuda, reference)
    assert cuda.best_validation_score_ == reference.best_validation_score_
    X_val, y_val = data(n=9, seed=3)
    cuda, reference = both(MLPClassifier, X, y, early_stopping=True, max_iter=3,
                           scoring="loss",
                           fit=lambda m: m.fit(X, y, X_val=X_val, y_val=y_val))
    assert_same_fit(cuda, reference)


def test_sgd_schedules_and_unshuffled():
    X, y = data()
    for params in ({"learning_rate": "invscaling", "nesterovs_momentum": False},
                   {"learning_rate": "adaptive", "tol": 10.0, "n_iter_no_change": 1,
                    "shuffle": False}):
        cuda, reference = both(MLPClassifier, X, y, solver="sgd", max_iter=4, **params)
        assert_same_fit(cuda, reference)


def test_partial_fit_and_warm_start():
    X, y = data()
    classes = np.unique(y)

    def partial(model):
        for _ in range(2):
            model.partial_fit(X[:12], y[:12], classes=classes)
            model.partial_fit(X[12:], y[12:])

    assert_same_fit(*both(MLPClassifier, X, y, fit=partial))

    def warm(model):
        model.fit(X, y)
        model.set_params(max_iter=2).fit(X, y)

    assert_same_fit(*both(MLPClassifier, X, y, warm_start=True, fit=warm))


def test_tf32_is_offered_by_cuda_only():
    X, y = data()
    model = MLPClassifier(hidden_layer_sizes=(4,), max_iter=2, backend="cuda",
                          matmul_precision="tf32", random_state=0).fit(X, y)
    assert np.isfinite(model.loss_)
    with pytest.raises(ValueError, match="matmul_precision='tf32'.*backend='cuda'"):
        MLPClassifier(backend="numpy", matmul_precision="tf32").fit(X, y)


def test_a_cuda_model_is_an_ordinary_model(tmp_path):
    X, y = data()
    model = MLPClassifier(hidden_layer_sizes=(4,), max_iter=2, backend="cuda",
                          random_state=0).fit(X, y)
    path = tmp_path / "model.pkl"
    path.write_bytes(pickle.dumps(model))
    expected = model.predict_proba(X)
    np.save(tmp_path / "X.npy", X)
    # A fresh process without numba (nor numba-cuda) predicts the same.
    code = (
        "import sys, pickle, numpy as np\n"
        "sys.modules['numba'] = None\n"
        f"model = pickle.loads(open({str(path)!r}, 'rb').read())\n"
        f"X = np.load({str(tmp_path / 'X.npy')!r})\n"
        "print(repr(model.predict_proba(X).tolist()))\n"
    )
    env = {k: v for k, v in os.environ.items() if k != "NUMBA_ENABLE_CUDASIM"}
    result = run_python(code, capture_output=True, text=True, env=env)
    assert result.returncode == 0, result.stderr
    assert_array_equal(np.array(eval(result.stdout)), expected)


def test_auto_never_picks_cuda_and_unavailable_cuda_says_why():
    from fastmlp.engines import get_engine

    assert get_engine("auto").name == "cpu"
    # Without the simulator and without a GPU: a ValueError naming why.
    code = (
        "from fastmlp import MLPClassifier\n"
        "try:\n"
        "    MLPClassifier(backend='cuda').fit([[0.0], [1.0]], [0, 1])\n"
        "except ValueError as exc:\n"
        "    print(exc)\n"
    )
    env = {**os.environ, "NUMBA_ENABLE_CUDASIM": "0"}
    result = run_python(code, capture_output=True, text=True, env=env)
    if os.path.exists("/dev/nvidia0"):
        pytest.skip("this machine has a GPU: backend='cuda' is available")
    assert "no usable NVIDIA GPU" in result.stdout, result.stdout + result.stderr
    # Without the extra installed.
    code = "import sys; sys.modules['numba_cuda'] = None\n" + code
    result = run_python(code, capture_output=True, text=True, env=env)
    assert "pip install \"fastmlp[cuda]\"" in result.stdout, result.stdout + result.stderr


@gpu
def test_gpu_graph_replay_equals_eager():
    from fastmlp import _tunables

    rng = np.random.RandomState(0)
    X = rng.normal(size=(2000, 30)).astype(np.float32)
    y = rng.randint(0, 5, 2000)
    from fastmlp.engines import cuda_engine

    models, replayed = [], []
    trainer = cuda_engine.CudaEngine.trainer

    def counting(engine, *args):
        replayed.append(trainer(engine, *args))
        return replayed[-1]

    for graphs in (True, False):
        _tunables.CUDA_GRAPHS = graphs
        cuda_engine.CudaEngine.trainer = counting
        try:
            models.append(MLPClassifier((64,), max_iter=4, backend="cuda",
                                        random_state=0).fit(X, y))
        finally:
            _tunables.CUDA_GRAPHS = True
            cuda_engine.CudaEngine.trainer = trainer
    # Epochs 2-4 replayed a captured graph; eagerly, none did.
    assert [t.graph_epochs for t in replayed] == [3, 0]
    assert models[0].loss_curve_ == models[1].loss_curve_
    for a, b in zip(models[0].coefs_, models[1].coefs_):
        assert_array_equal(a, b)


def test_float32_arithmetic_stays_float32():
    # The simulator infers no types; compiled for the CPU, the same
    # per-element functions show theirs. float64 only where meant: the loss
    # terms and the optimizer's rate and hyperparameters.
    numba = pytest.importorskip("numba")
    from fastmlp.engines._cuda_math import make_math

    m = make_math(np.float32, numba.njit)
    one = np.float32(0.75)
    for code in HIDDEN_ACTIVATIONS.values():
        m.activate(code.code, one)
        m.derivative(code.code, one, one)
    hyper = np.array([0.9, 0.999, 1e-8, 1e-5])
    for code in range(len(OPTIMIZERS)):
        assert m.optimizer_step(code, one, one, one, one, 1e-3, hyper, True) is not None
    for function in (m.activate, m.derivative, m.expit):
        for cres in function.overloads.values():
            assert str(cres.signature.return_type) == "float32"
            wide = [name for name, kind in cres.type_annotation.typemap.items()
                    if kind == numba.float64]
            assert not wide, (function, wide)
    for cres in m.optimizer_step.overloads.values():
        assert str(cres.signature.return_type) == "UniTuple(float32 x 3)"
        typemap = cres.type_annotation.typemap
        named = {name: str(kind) for name, kind in typemap.items()
                 if not name.startswith(("$", "arg.")) and name not in ("rate", "hyper")}
        assert set(named.values()) <= {"float32", "int64", "bool"}, named


def test_dropout_masks_are_the_specification():
    numba = pytest.importorskip("numba")
    from fastmlp import _dropout
    from fastmlp.engines._cuda_math import make_math

    m = make_math(np.float64, numba.njit)
    seed, p = 1234567890123, 0.3
    threshold = np.uint64(_dropout.threshold(p))
    for step, layer in ((1, 0), (7, 2)):
        key = m.layer_key(np.uint64(seed), step, layer)
        assert key == _dropout.layer_key(seed, step, layer)
        mask = _dropout.keep_mask(seed, step, layer, (9, 11), p)
        kept = [m.kept(key, i, threshold) for i in range(99)]
        assert_array_equal(np.array(kept).reshape(9, 11), mask)


def test_kernels_compile_for_the_gpu_and_float32_stays_float32():
    # The simulator runs Python and types nothing: compiled to PTX for an
    # H200 (sm_90), the kernels show their types. float64 is meant only in
    # the loss, the L2 sum and the optimizer's rate and hyperparameters.
    script = str(Path(__file__).parent / "_cuda_ptx.py")
    env = {k: v for k, v in os.environ.items() if k != "NUMBA_ENABLE_CUDASIM"}
    env.setdefault("CUDA_HOME", "/usr/local/cuda")
    for home in ("/usr/local/cuda", *sorted(Path("/usr/local").glob("cuda-*"))):
        if (Path(home) / "nvvm").exists():
            env["CUDA_HOME"] = str(home)
            break
    result = subprocess.run([sys.executable, script], capture_output=True, text=True,
                            env=env, cwd=Path(__file__).parents[1], timeout=600)
    if result.returncode == 3:
        pytest.skip(f"cannot compile CUDA kernels here: {result.stdout.strip()}")
    assert result.returncode == 0, result.stderr[-3000:]
    counts = {tuple(line.split()[:2]): int(line.split()[2])
              for line in result.stdout.splitlines()}
    assert len(counts) == 20
    for name in ("permute", "hidden_forward", "hidden_backward", "column_sums",
                 "advance"):
        assert counts["float32", name] == 0, name


def test_cublas_binding_declares_what_the_engine_calls():
    # No cuBLAS here to call; its prototypes are checked against the calls.
    from fastmlp.engines import _cublas

    assert set(_cublas._PROTOTYPES) == {
        "cublasCreate_v2", "cublasDestroy_v2", "cublasSetStream_v2",
        "cublasSetWorkspace_v2", "cublasSetMathMode", "cublasSgemm_v2",
        "cublasDgemm_v2"}
    # handle, transa, transb, m, n, k, alpha, A, lda, B, ldb, beta, C, ldc
    assert len(_cublas._PROTOTYPES["cublasSgemm_v2"]) == 14
    assert (_cublas.CUBLAS_OP_N, _cublas.CUBLAS_OP_T) == (0, 1)
    assert _cublas.CUBLAS_TF32_TENSOR_OP_MATH == 3


@gpu
def test_cublas_gemm_row_major_on_the_device():
    from numba import cuda

    from fastmlp.engines.cuda_engine import _GpuDevice

    device = _GpuDevice()
    rng = np.random.RandomState(0)
    for trans_a, trans_b in ((False, False), (True, False), (False, True)):
        a = rng.normal(size=(9, 7) if trans_a else (7, 9))
        b = rng.normal(size=(5, 9) if trans_b else (9, 5))
        c = cuda.device_array((7, 5))
        device.gemm(cuda.to_device(a), cuda.to_device(b), c, trans_a, trans_b)
        expected = (a.T if trans_a else a) @ (b.T if trans_b else b)
        assert_allclose(c.copy_to_host(), expected, rtol=1e-12)
