"""matmul_precision="bfloat16": the bfloat16 GEMM kernels (AMX, AVX512-BF16)
against NumPy on inputs rounded to bfloat16, the cpu engine against the
numpy engine's emulation, and the model's life as any other model's."""

import itertools
import pickle

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal

from fastmlp import MLPClassifier, MLPRegressor
from fastmlp._bfloat16 import round_bf16
from fastmlp._kernels import _train
from fastmlp.engines import Network
from fastmlp.engines.numpy_engine import loss_and_gradient

NATIVE = _train.bf16_support()
needs_bf16 = pytest.mark.skipif(
    NATIVE is None, reason="this CPU has neither AMX nor AVX512-BF16: the bfloat16 "
    "kernels cannot run (the emulation's tests below still do)")
KERNELS = [k for k in ("amx", "avx512_bf16")
           if NATIVE == "amx" or (NATIVE == "avx512_bf16" and k == "avx512_bf16")]


@pytest.fixture(params=KERNELS or [None])
def kernel(request):
    if request.param is None:
        pytest.skip("no bfloat16 kernel on this CPU")
    before = _train._use_bf16_kernel(request.param)
    yield request.param
    _train._use_bf16_kernel(before)


def test_rounding_is_bfloat16s():
    # Ties to even, carries into the exponent, infinities, NaN.
    x = np.array([1.0, 1.00390625, 1.01171875, 1.0078125 + 2**-20, -3.14159,
                  2 - 2**-10, 3.40e38, np.inf, -np.inf, 0.0, -0.0, 1e-30],
                 dtype=np.float32)
    expected = np.array([1.0, 1.0, 1.015625, 1.0078125, -3.140625, 2.0, np.inf,
                         np.inf, -np.inf, 0.0, -0.0], dtype=np.float32)
    got = round_bf16(x)
    assert_array_equal(got[:11], expected)
    assert abs(got[11] - 1e-30) < 1e-30 * 2**-8
    assert np.isnan(round_bf16(np.array([np.nan], np.float32)))[0]
    # The C rounding agrees bit for bit.
    rng = np.random.RandomState(0)
    y = (rng.normal(size=10000) * 10.0 ** rng.randint(-30, 30, 10000)).astype(np.float32)
    out = np.empty_like(y)
    _train.round_bf16(y, out)
    assert_array_equal(out.view(np.uint32), round_bf16(y).view(np.uint32))
    # Rounded values have 8 significant bits.
    assert np.all(out.view(np.uint32) & 0xFFFF == 0)


@needs_bf16
@pytest.mark.parametrize("trans_a, trans_b",
                         list(itertools.product([False, True], repeat=2)))
def test_kernel_at_odd_sizes(kernel, trans_a, trans_b):
    rng = np.random.RandomState(1)
    for m, n, k in itertools.product([1, 7, 33, 129], repeat=3):
        a = rng.normal(size=(k, m) if trans_a else (m, k)).astype(np.float32)
        b = rng.normal(size=(n, k) if trans_b else (k, n)).astype(np.float32)
        c = np.full((m, n), np.nan, np.float32)
        _train.gemm_bf16(trans_a, trans_b, a, b, c)
        ra, rb = round_bf16(a), round_bf16(b)
        exact = (ra.T if trans_a else ra).astype(np.float64) \
            @ (rb.T if trans_b else rb).astype(np.float64)
        # Exact products, float32 sums: within k float32 roundings.
        scale = np.abs(ra).max() * np.abs(rb).max() * k
        assert np.abs(c - exact).max() <= 2 * k * 2**-24 * scale, (m, n, k)


@needs_bf16
def test_kernel_differs_from_float32_by_bfloat16s_rounding(kernel):
    rng = np.random.RandomState(2)
    a = rng.normal(size=(64, 200)).astype(np.float32)
    b = rng.normal(size=(200, 48)).astype(np.float32)
    c = np.empty((64, 48), np.float32)
    _train.gemm_bf16(False, False, a, b, c)
    exact = a.astype(np.float64) @ b
    error = np.abs(c - exact).max() / np.abs(exact).max()
    assert 2**-12 < error < 2**-6      # bfloat16's, not float32's


def _network(matmul_precision):
    return Network(layer_units=(13, 9, 5, 4), activation=("tanh", "gelu"),
                   out_activation="softmax", loss="log_loss", alpha=1e-3,
                   dtype=np.dtype(np.float32), matmul_precision=matmul_precision)


def test_gradients_agree_with_float32_within_bfloat16s_rounding():
    rng = np.random.RandomState(3)
    X = rng.normal(size=(40, 13)).astype(np.float32)
    Y = np.eye(4, dtype=np.float32)[rng.randint(0, 4, 40)]
    params = (rng.normal(size=_network(None).layout.size) * 0.4).astype(np.float32)
    grads = {}
    for precision in (None, "bfloat16"):
        grads[precision] = np.empty_like(params)
        loss_and_gradient(_network(precision), params, X, Y, None, grads[precision])
    difference = np.linalg.norm(grads["bfloat16"] - grads[None])
    relative = difference / np.linalg.norm(grads[None])
    assert 0 < relative < 2**-5       # bfloat16 keeps 8 bits: a few 2^-8 at most


@needs_bf16
@pytest.mark.parametrize("solver", ["adam", "sgd", "lbfgs"])
def test_cpu_engine_equals_the_emulation(solver):
    rng = np.random.RandomState(4)
    X = rng.normal(size=(150, 33)).astype(np.float32)
    y = rng.randint(0, 5, 150)
    params = dict(hidden_layer_sizes=(17, 7), max_iter=4, batch_size=40, solver=solver,
                  random_state=0, matmul_precision="bfloat16")
    cpu = MLPClassifier(backend="cpu", **params).fit(X, y)
    emulated = MLPClassifier(backend="numpy", **params).fit(X, y)
    curve = getattr(cpu, "loss_curve_", [cpu.loss_])
    assert_allclose(curve, getattr(emulated, "loss_curve_", [emulated.loss_]), rtol=1e-5)
    for a, b in zip(cpu.coefs_, emulated.coefs_):
        assert a.dtype == np.float32
        assert_allclose(a, b, rtol=1e-4, atol=1e-5)
    assert_allclose(cpu.predict_proba(X), emulated.predict_proba(X), atol=1e-5)


@needs_bf16
def test_a_bfloat16_model_is_an_ordinary_model(monkeypatch):
    rng = np.random.RandomState(5)
    X = rng.normal(size=(120, 20))            # float64 data: a float32 model
    y = X[:, 0] - 2 * X[:, 1]
    model = MLPRegressor(hidden_layer_sizes=(16,), max_iter=30, random_state=0,
                         matmul_precision="bfloat16").fit(X, y)
    assert model.coefs_[0].dtype == np.float32
    assert model.predict(X).dtype == np.float32
    loaded = pickle.loads(pickle.dumps(model))
    assert_array_equal(loaded.predict(X), model.predict(X))
    # Its predictions take bfloat16 GEMMs: not the float32 ones...
    float32 = pickle.loads(pickle.dumps(model)).set_params(matmul_precision=None)
    assert np.abs(float32.predict(X.astype(np.float32)) - model.predict(X)).max() > 1e-4
    # ... and on a CPU without a kernel, the same products from rounded copies.
    monkeypatch.setattr(_train, "bf16_support", lambda: None)
    assert_allclose(loaded.predict(X), model.predict(X), rtol=1e-5, atol=1e-5)


def test_a_cpu_without_bfloat16_refuses_to_fit(monkeypatch):
    monkeypatch.setattr(_train, "bf16_support", lambda: None)
    X, y = np.random.RandomState(6).normal(size=(20, 3)), np.arange(20) % 2
    with pytest.raises(ValueError, match="AMX.*AVX512-BF16"):
        MLPClassifier(backend="cpu", matmul_precision="bfloat16").fit(X, y)
    # The reference engine emulates it anywhere.
    MLPClassifier(backend="numpy", matmul_precision="bfloat16", max_iter=2).fit(X, y)


def test_default_precision_is_unchanged():
    rng = np.random.RandomState(7)
    X, y = rng.normal(size=(60, 5)), rng.randint(0, 3, 60)
    a = MLPClassifier(max_iter=3, random_state=0).fit(X, y)
    b = MLPClassifier(max_iter=3, random_state=0, matmul_precision=None).fit(X, y)
    assert a.loss_curve_ == b.loss_curve_
    assert a.coefs_[0].dtype == np.float64
