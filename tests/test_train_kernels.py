"""The Cython training kernels (fastmlp._kernels._train) against the NumPy
reference, finite differences, and through the C entry points Numba calls."""

import ctypes

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal

from fastmlp._kernel_api import KERNELS
from fastmlp._kernels import _forward, _train
from fastmlp._optimizers import OPTIMIZERS, check_step_codes, make_optimizer, step_rate
from sklearn.neural_network._base import ACTIVATIONS as SK_ACTIVATIONS
from sklearn.neural_network._base import LOSS_FUNCTIONS as SK_LOSSES

from fastmlp._operations import HIDDEN_ACTIVATIONS, OUTPUT_LOSSES
from fastmlp.engines.numpy_engine import ACTIVATIONS, DERIVATIVES, LOSSES

DTYPES = [np.float32, np.float64]
ACT = _forward.ACTIVATION_CODES
LOSS = _train.LOSS_CODES
HIDDEN = list(HIDDEN_ACTIVATIONS)
OUTPUTS = [o.activation for o in OUTPUT_LOSSES.values()]
CANONICAL = [(o.activation, o.name) for o in OUTPUT_LOSSES.values()]


def _rtol(dtype):
    return 1e-12 if dtype == np.float64 else 1e-5


def _assert_reference(got, expected, name):
    """scikit-learn's activations give the reference's bits; the others
    (libm's exp, expm1, erfc against NumPy's and SciPy's) agree to a few
    units in the last place, relative to the value or to 1: erfc's deep
    tail (values of 1e-60 and below) differs by more, relatively."""
    if name in SK_ACTIVATIONS:
        assert_array_equal(got, expected)
    else:
        eps = np.finfo(got.dtype).eps
        assert_allclose(got, expected, rtol=32 * eps, atol=32 * eps)


def _read_only(*arrays):
    for a in arrays:
        a.setflags(write=False)
    return arrays


# --- The C interface the Numba loops declare ------------------------------

# The exported C signatures, from their one list (fastmlp/_kernel_api.py),
# as Cython's capsules spell them ("T" is float or double).
P_IN, P_OUT = "T const *", "T *"


def _capsule_type(kind):
    return {"const T *": P_IN, "T *": P_OUT, "const double *": "double const *"}.get(
        kind, kind)


SIGNATURES = {name: (ret, [_capsule_type(kind) for kind, _ in args])
              for name, ret, args, _ in KERNELS}
_CTYPES = {"void": None, "int": ctypes.c_int, "double": ctypes.c_double,
           "Py_ssize_t": ctypes.c_ssize_t, P_IN: ctypes.c_void_p,
           P_OUT: ctypes.c_void_p, "double const *": ctypes.c_void_p}


def c_function(kernel, dtype):
    """The exported kernel as a ctypes function, as the Numba loops get it."""
    from numba.extending import get_cython_function_address

    suffix = "f32" if dtype == np.float32 else "f64"
    restype, args = SIGNATURES[kernel]
    proto = ctypes.CFUNCTYPE(_CTYPES[restype], *[_CTYPES[a] for a in args])
    return proto(get_cython_function_address(
        "fastmlp._kernels._train", f"{kernel}_{suffix}"))


def test_exported_names_and_c_signatures():
    get_name = ctypes.pythonapi.PyCapsule_GetName
    get_name.restype = ctypes.c_char_p
    get_name.argtypes = [ctypes.py_object]
    capi = _train.__pyx_capi__
    expected_names = {f"{k}_{s}" for k in SIGNATURES for s in ("f32", "f64")}
    idle = {"idle_gather_acquire": "int (void)",
            "idle_gather_arm": "int (char const *, Py_ssize_t, Py_ssize_t const *, "
                               "Py_ssize_t, char *)",
            "idle_gather_finish": "void (void)", "idle_gather_release": "void (void)"}
    assert set(capi) == expected_names | {"gather_rows", "transpose_f32"} | set(idle)
    for name, signature in idle.items():
        assert get_name(capi[name]).decode() == signature
    for kernel, (restype, args) in SIGNATURES.items():
        for suffix, ctype in (("f32", "float"), ("f64", "double")):
            expected = f"{restype} ({', '.join(args)})".replace("T ", ctype + " ")
            assert get_name(capi[f"{kernel}_{suffix}"]).decode() == expected
    # The gather moves bytes, one entry point for both dtypes.
    assert get_name(capi["gather_rows"]).decode() == (
        "void (char const *, Py_ssize_t, Py_ssize_t const *, Py_ssize_t, char *)")
    # float32 only (float64's backward pass multiplies by W^T in place).
    assert get_name(capi["transpose_f32"]).decode() == (
        "void (float const *, Py_ssize_t, Py_ssize_t, float *)")


@pytest.mark.parametrize("rows", [1, 7, 33, 129])
@pytest.mark.parametrize("cols", [1, 7, 33, 129])
def test_transpose_f32(rows, cols):
    from numba.extending import get_cython_function_address

    transpose = ctypes.CFUNCTYPE(None, ctypes.c_void_p, ctypes.c_ssize_t,
                                 ctypes.c_ssize_t, ctypes.c_void_p)(
        get_cython_function_address("fastmlp._kernels._train", "transpose_f32"))
    src = np.random.RandomState(rows * cols).normal(size=(rows, cols)).astype(np.float32)
    dst = np.full((cols, rows), np.nan, dtype=np.float32)
    transpose(src.ctypes.data, rows, cols, dst.ctypes.data)
    assert_array_equal(dst, src.T)


def test_loss_codes_cover_the_reference_losses():
    assert set(LOSS) == set(LOSSES)
    assert sorted(LOSS.values()) == [0, 1, 2, 3]
    # scikit-learn's activations keep their codes; every code is distinct.
    assert {k: ACT[k] for k in ("identity", "logistic", "tanh", "relu", "exp",
                                "softmax")} == {"identity": 0, "logistic": 1, "tanh": 2,
                                                "relu": 3, "exp": 4, "softmax": 5}
    assert len(set(ACT.values())) == len(ACT)


# --- gemm ------------------------------------------------------------------

@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("trans_a", [False, True])
@pytest.mark.parametrize("trans_b", [False, True])
def test_gemm_matches_numpy(dtype, trans_a, trans_b):
    rs = np.random.RandomState(0)
    m, n, k = 7, 5, 9
    a = rs.normal(size=(k, m) if trans_a else (m, k)).astype(dtype)
    b = rs.normal(size=(n, k) if trans_b else (k, n)).astype(dtype)
    c = rs.normal(size=(m, n)).astype(dtype)
    op_a = a.T if trans_a else a
    op_b = b.T if trans_b else b
    expected = 1.5 * (op_a.astype(float) @ op_b.astype(float)) - 0.5 * c
    _train.gemm(trans_a, trans_b, 1.5, a, b, -0.5, c)
    assert_allclose(c, expected, rtol=_rtol(dtype), atol=_rtol(dtype))


@pytest.mark.parametrize("dtype", DTYPES)
def test_gemm_gives_numpys_matmul_bits(dtype):
    # With alpha = 1 and beta = 0 the kernel computes op(a) @ op(b) as NumPy
    # does: DOT, GEMV or NumPy's own loop where a dimension is 1, GEMM
    # otherwise, on the arrays and transposed views scikit-learn multiplies
    # (A @ W, A.T @ delta, delta @ W.T).
    from fastmlp import _blas

    if _blas.numpy_cblas() is None:
        pytest.skip("NumPy's BLAS is not a scipy-openblas build")
    _blas.use_numpy_blas(_train, _forward)
    rs = np.random.RandomState(13)
    sizes = [1, 2, 3, 9, 130]
    for m in sizes:
        for n in sizes:
            for k in sizes + [0]:
                for trans_a in (False, True):
                    for trans_b in (False, True):
                        a = rs.normal(size=(k, m) if trans_a else (m, k)).astype(dtype)
                        b = rs.normal(size=(n, k) if trans_b else (k, n)).astype(dtype)
                        c = np.full((m, n), np.nan, dtype=dtype)
                        _train.gemm(trans_a, trans_b, 1.0, a, b, 0.0, c)
                        expected = (a.T if trans_a else a) @ (b.T if trans_b else b)
                        assert_array_equal(c, expected, err_msg=f"{m} {n} {k} {trans_a} {trans_b}")
    # Inference multiplies through the same function.
    a = rs.normal(size=(1, 30)).astype(dtype)
    w = rs.normal(size=(30, 1)).astype(dtype)
    out = np.empty((1, 1), dtype)
    _forward.dense_layer(a, w, np.zeros(1, dtype), out, ACT["identity"])
    assert_array_equal(out, a @ w)


@pytest.mark.parametrize("dtype", DTYPES)
def test_gemm_beta_zero_ignores_c_and_k_zero_scales_it(dtype):
    rs = np.random.RandomState(1)
    a = rs.normal(size=(4, 3)).astype(dtype)
    b = rs.normal(size=(3, 2)).astype(dtype)
    c = np.full((4, 2), np.nan, dtype=dtype)   # np.empty may hold nan
    _train.gemm(False, False, 1.0, a, b, 0.0, c)
    assert_allclose(c, a.astype(float) @ b, rtol=_rtol(dtype))
    c0 = rs.normal(size=(4, 2)).astype(dtype)
    c = c0.copy()
    _train.gemm(False, False, 1.0, np.empty((4, 0), dtype), np.empty((0, 2), dtype),
                2.0, c)
    assert_array_equal(c, 2 * c0)


# --- bias_activation --------------------------------------------------------

def test_numpys_own_exp_and_tanh_loops_are_found():
    expected = {(f, d): True for f in ("exp", "tanh") for d in ("float32", "float64")}
    assert _train.npy_loops() == expected
    assert _forward.npy_loops() == expected


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("n_cols", [1, 6, 9, 130])
@pytest.mark.parametrize("name", list(ACT))
def test_bias_activation_gives_sklearns_bits(dtype, name, n_cols):
    # scikit-learn's activations: NumPy's own tanh and exp, scipy's expit,
    # softmax with NumPy's pairwise row sums.
    rs = np.random.RandomState(2)
    z = (rs.normal(0, 2, size=(23, n_cols))
         * 10.0 ** rs.randint(-2, 3, size=(23, n_cols))).astype(dtype)
    b = rs.normal(size=n_cols).astype(dtype)
    pre = z + b
    expected = pre.copy()
    with np.errstate(over="ignore"):          # exp of the large entries
        ACTIVATIONS[name](expected)
    inference = z.copy()
    _forward.bias_activation(inference, b, ACT[name])
    kept, out = z.copy(), np.full_like(z, np.nan)
    _train.bias_activation(z, b, ACT[name])
    _assert_reference(z, expected, name)
    # Written elsewhere, with the pre-activation kept: the same bits.
    _train.bias_activation(kept, b, ACT[name], out)
    assert_array_equal(out, z)
    assert_array_equal(kept, pre)
    # One shared implementation: inference computes the same bits.
    assert_array_equal(z, inference)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", list(ACT))
def test_bias_activation_passes_non_finite_values_as_sklearn_does(dtype, name):
    # A diverged layer (nan, inf) must stay diverged as in scikit-learn: a
    # relu that turned nan into 0 hid non-finite weights behind finite
    # outputs. One row per special value, the others finite.
    specials = [np.nan, np.inf, -np.inf, -0.0, 0.0]
    z = np.tile(np.array([0.5, -1.5, 2.0], dtype=dtype), (len(specials), 1))
    z[:, 1] = specials
    b = np.array([0.0, -0.0, 0.25], dtype=dtype)
    with np.errstate(all="ignore"):
        expected = z + b
        ACTIVATIONS[name](expected)
    for kernels in (_train, _forward):
        got = z.copy()
        kernels.bias_activation(got, b, ACT[name])
        _assert_reference(got, expected, name)
        # The signs of zeros and infinities (a NaN's sign means nothing).
        signed = ~np.isnan(expected)
        assert_array_equal(np.signbit(got[signed]), np.signbit(expected[signed]))


@pytest.mark.parametrize("dtype", DTYPES)
def test_softmax_does_not_overflow(dtype):
    z = np.array([[1000.0, 999.0, -1000.0]], dtype=dtype)
    _train.bias_activation(z, np.zeros(3, dtype), ACT["softmax"])
    e = np.exp(-1.0)
    assert_allclose(z, [[1 / (1 + e), e / (1 + e), 0.0]], rtol=_rtol(dtype))


# --- derivative_multiply -------------------------------------------------------

@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", HIDDEN)
def test_derivative_multiply_matches_reference(dtype, name):
    rs = np.random.RandomState(3)
    z = rs.normal(0, 3, size=(19, 7)).astype(dtype)
    a = z.copy()
    ACTIVATIONS[name](a)                      # relu leaves exact zeros
    # What the derivative is taken from: z where the table says so.
    source = z if HIDDEN_ACTIVATIONS[name].needs_preactivation else a
    delta = rs.normal(size=(19, 7)).astype(dtype)
    if name == "relu":
        delta[a == 0] = np.inf                # the reference zeroes even inf
    expected = delta.copy()
    DERIVATIVES[name](source, expected)
    _train.derivative_multiply(source, delta, ACT[name])
    # scikit-learn's: the same operations in the same order, so the same
    # bits in both dtypes.
    _assert_reference(delta, expected, name)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", sorted(HIDDEN_ACTIVATIONS))
@pytest.mark.parametrize("n_rows, n_cols", [(1, 7), (7, 1), (33, 33), (129, 17),
                                            (200, 100), (64, 2100)])
def test_derivative_sums_is_the_two_passes_in_one(dtype, name, n_rows, n_cols):
    # The fused pass gives the bits of derivative_multiply then column_sums
    # (NumPy's sum over axis 0) at odd sizes, and when split over the pool
    # (64 x 2100 is past PARALLEL_MIN_ELEMENTS: column blocks).
    rs = np.random.RandomState(n_rows * 1000 + n_cols)
    z = rs.normal(0, 3, size=(n_rows, n_cols)).astype(dtype)
    a = z.copy()
    ACTIVATIONS[name](a)
    source = z if HIDDEN_ACTIVATIONS[name].needs_preactivation else a
    delta = (rs.normal(size=(n_rows, n_cols))
             * 10.0 ** rs.randint(-3, 4, size=(n_rows, n_cols))).astype(dtype)
    expected = delta.copy()
    _train.derivative_multiply(source, expected, ACT[name])
    sums = np.full(n_cols, np.nan, dtype=dtype)
    _train.derivative_sums(source, delta, ACT[name], sums)
    assert_array_equal(delta, expected)
    assert_array_equal(sums, np.sum(expected, axis=0))
    with pytest.raises(ValueError, match="sums has 3 entries"):
        _train.derivative_sums(source, delta, ACT[name], np.empty(3, dtype))


# --- output_loss_delta ---------------------------------------------------------

def _output_case(out, loss, dtype, weighted, rs, n_rows=37, n_cols=4):
    """Pre-activations, targets and weights for which the loss is defined."""
    if out == "identity" and loss != "squared_error":
        z = rs.uniform(0.05, 0.95, (n_rows, n_cols))     # p must be in (0, 1)
    else:
        z = rs.normal(0, 1.5, (n_rows, n_cols))
    if loss == "squared_error":
        y = rs.normal(size=(n_rows, n_cols))
    elif loss == "poisson":
        y = rs.poisson(2.0, (n_rows, n_cols)).astype(float)   # has zeros
    elif loss == "log_loss":
        y = np.eye(n_cols)[rs.randint(n_cols, size=n_rows)]
    else:
        y = rs.randint(2, size=(n_rows, n_cols)).astype(float)
    sw = rs.uniform(0.2, 2.0, n_rows).astype(dtype) if weighted else None
    return z.astype(dtype), y.astype(dtype), sw


def _reference_output(out, loss, z, y, sw):
    p = z.copy()
    SK_ACTIVATIONS[out](p)
    delta = p - y
    if sw is not None:
        delta *= sw[:, None]
    return p, delta, LOSSES[loss](y, p, sw)


@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("loss", list(LOSS))
@pytest.mark.parametrize("out", OUTPUTS)
@pytest.mark.parametrize(("n_rows", "n_cols"), [(37, 4), (1, 1), (300, 1), (150, 11)])
def test_output_loss_delta_gives_sklearns_bits(out, loss, dtype, weighted, n_rows, n_cols):
    rs = np.random.RandomState(4)
    z, y, sw = _output_case(out, loss, dtype, weighted, rs, n_rows, n_cols)
    p_ref, delta_ref, loss_ref = _reference_output(out, loss, z, y, sw)
    delta = np.full_like(z, np.nan)
    got = _train.output_loss_delta(z, y, sw, ACT[out], LOSS[loss], delta)
    assert isinstance(got, float)
    assert_array_equal(z, p_ref)
    assert_array_equal(delta, delta_ref)
    if dtype == np.float64:
        # scikit-learn's loss, summed in its order. (Its log_loss appends a
        # column 1 - p to a single column; scikit-learn never trains that
        # pairing, where binary_log_loss takes over.)
        losses = LOSSES if (loss, n_cols) == ("log_loss", 1) else SK_LOSSES
        assert got == losses[loss](y, p_ref, sw)
    else:
        # A float32 model's loss is taken in double against its float32
        # outputs, as the numpy engine takes it against float64 targets;
        # only the order of the sums may differ.
        assert_allclose(got, LOSSES[loss](y.astype(np.float64), p_ref, sw),
                        rtol=1e-12)
        # And within float32 rounding of scikit-learn's float32 loss.
        assert_allclose(got, loss_ref, rtol=_rtol(dtype))


@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("targets", ["one-hot", "soft"])
@pytest.mark.parametrize("n_rows", [1, 7, 33, 129])
@pytest.mark.parametrize("n_cols", [2, 7, 33, 129, 300])
def test_float32_log_loss_takes_vectorized_logs_within_libms(n_rows, n_cols, targets,
                                                            weighted):
    # Its logs come from a vectorized log (a chunk of rows at a time; a
    # row's columns in pieces past 128 columns), each within 2 ulp of libm's;
    # the reference takes libm's in double: the sums must agree to ~1e-15.
    rs = np.random.RandomState(n_rows * 1000 + n_cols)
    z = rs.normal(0, 4, (n_rows, n_cols)).astype(np.float32)
    z[0, 0] = 40       # saturates: outputs clipped to eps and 1 - eps
    if targets == "one-hot":
        y = np.eye(n_cols, dtype=np.float32)[rs.randint(n_cols, size=n_rows)]
    else:
        y = rs.dirichlet(np.ones(n_cols), n_rows).astype(np.float32)
    sw = rs.uniform(0.2, 2.0, n_rows).astype(np.float32) if weighted else None
    p = z.copy()
    SK_ACTIVATIONS["softmax"](p)
    got = _train.output_loss_delta(z, y, sw, ACT["softmax"], LOSS["log_loss"],
                                   np.empty_like(z))
    assert_allclose(got, LOSSES["log_loss"](y.astype(np.float64), p, sw), rtol=1e-14)


@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("targets", ["labels", "soft"])
@pytest.mark.parametrize("n_rows", [1, 7, 33, 129, 300])
def test_float32_binary_log_loss_takes_vectorized_logs_within_libms(n_rows, targets,
                                                                   weighted):
    # One logistic output: the logs of pc and 1 - pc in vector passes, a
    # pairwise leaf (at most 128 rows) at a time.
    rs = np.random.RandomState(n_rows)
    z = rs.normal(0, 4, (n_rows, 1)).astype(np.float32)
    z[0, 0] = 40      # saturates: clipped to 1 - eps
    if n_rows > 1:
        z[1, 0] = -40
    y = (rs.randint(2, size=(n_rows, 1)) if targets == "labels"
         else rs.uniform(size=(n_rows, 1))).astype(np.float32)
    sw = rs.uniform(0.2, 2.0, n_rows).astype(np.float32) if weighted else None
    p = z.copy()
    SK_ACTIVATIONS["logistic"](p)
    got = _train.output_loss_delta(z, y, sw, ACT["logistic"], LOSS["binary_log_loss"],
                                   np.empty_like(z))
    expected = LOSSES["binary_log_loss"](y.astype(np.float64), p, sw)
    assert_allclose(got, expected, rtol=1e-14)
    p[n_rows // 2, 0] = np.nan
    assert np.isnan(_train.output_loss_delta(p, y, sw, ACT["identity"],
                                             LOSS["binary_log_loss"], np.empty_like(p)))


def test_float32_log_loss_of_a_nan_output_is_nan():
    # Also where the output's target is 0 (xlogy(0, nan) is nan).
    for column in (0, 1):
        p = np.array([[0.25, 0.75], [0.5, 0.5]], dtype=np.float32)
        y = np.array([[1, 0], [0, 1]], dtype=np.float32)
        p[0, column] = np.nan
        got = _train.output_loss_delta(p, y, None, ACT["identity"], LOSS["log_loss"],
                                       np.empty_like(p))
        assert np.isnan(got)
        expected = _train.output_loss_delta(p.astype(np.float64), y.astype(np.float64),
                                            None, ACT["identity"], LOSS["log_loss"],
                                            np.empty((2, 2)))
        assert np.isnan(expected)


@pytest.mark.parametrize("weighted", [False, True])
def test_float32_loss_is_finite_where_float64s_is(weighted):
    # (y - p)^2 = 3.6e77 overflows float32 but not double: the engines must
    # not see an infinite loss (and stop training) where scikit-learn, whose
    # regression targets are float64, sees a finite one.
    z = np.array([[3e38], [-3e38], [1.0]], dtype=np.float32)
    y = np.array([[-3e38], [3e38], [0.0]], dtype=np.float32)
    sw = np.array([1.0, 2.0, 0.5], dtype=np.float32) if weighted else None
    with np.errstate(over="ignore"):
        assert not np.isfinite(LOSSES["squared_error"](y, z.copy(), sw))
    got = _train.output_loss_delta(z.copy(), y, sw, ACT["identity"],
                                   LOSS["squared_error"], np.empty_like(z))
    expected = LOSSES["squared_error"](y.astype(np.float64), z, sw)
    assert np.isfinite(got)
    assert_allclose(got, expected, rtol=1e-12)


@pytest.mark.parametrize("dtype", DTYPES)
def test_output_loss_delta_may_write_delta_over_z(dtype):
    rs = np.random.RandomState(5)
    for out, loss in CANONICAL:
        z, y, sw = _output_case(out, loss, dtype, True, rs)
        z2 = z.copy()
        delta = np.empty_like(z)
        expected = _train.output_loss_delta(z, y, sw, ACT[out], LOSS[loss], delta)
        got = _train.output_loss_delta(z2, y, sw, ACT[out], LOSS[loss], z2)
        assert got == expected
        assert_array_equal(z2, delta)


@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize(("out", "loss"), CANONICAL)
def test_output_delta_is_the_gradient_of_the_loss(out, loss, weighted):
    # The loss is a weighted mean over rows (and for squared_error also a
    # mean over outputs), delta is not: d loss / dz = delta / sum(w) (/ n_cols).
    rs = np.random.RandomState(6)
    z, y, sw = _output_case(out, loss, np.float64, weighted, rs, n_rows=11,
                            n_cols=3)
    w_sum = 11.0 if sw is None else sw.sum()
    scale = w_sum * (z.shape[1] if loss == "squared_error" else 1)

    def loss_at(zz):
        zz = zz.copy()
        return _train.output_loss_delta(zz, y, sw, ACT[out], LOSS[loss],
                                        np.empty_like(zz))

    delta = np.empty_like(z)
    _train.output_loss_delta(z.copy(), y, sw, ACT[out], LOSS[loss], delta)
    h = 1e-6
    numeric = np.empty_like(z)
    for idx in np.ndindex(*z.shape):
        step = np.zeros_like(z)
        step[idx] = h
        numeric[idx] = (loss_at(z + step) - loss_at(z - step)) / (2 * h)
    assert_allclose(delta / scale, numeric, rtol=1e-6, atol=1e-9)


def test_log_losses_are_taken_from_the_clipped_probabilities():
    # scikit-learn takes log p and log(1 - p) from p = expit(z) clipped to
    # [eps, 1 - eps], not from z: for saturated outputs that loses digits
    # (1 - p) and caps the terms, and the kernel must lose and cap the same.
    z = np.array([[5.0], [25.0], [-30.0], [800.0], [-800.0], [36.0]])
    y = np.array([[0.0], [0.0], [1.0], [0.0], [1.0], [0.0]])
    got = _train.output_loss_delta(z.copy(), y, None, ACT["logistic"],
                                   LOSS["binary_log_loss"], np.empty_like(z))
    p = z.copy()
    ACTIVATIONS["logistic"](p)
    assert got == SK_LOSSES["binary_log_loss"](y, p)
    # Not the softplus of z that the clip-free formula would give.
    assert abs(got - np.logaddexp(0, [5, 25, 30, 800, 800, 36]).mean()) > 1e-4


def test_poisson_loss_follows_sklearn_when_exp_underflows():
    # y / p with p = exp(-800) = 0 is inf, and so is scikit-learn's loss.
    z = np.array([[-800.0, 0.5]])
    y = np.array([[2.0, 0.0]])
    got = _train.output_loss_delta(z.copy(), y, None, ACT["exp"],
                                   LOSS["poisson"], np.empty_like(z))
    p = z.copy()
    ACTIVATIONS["exp"](p)
    with np.errstate(divide="ignore"):
        assert got == SK_LOSSES["poisson"](y, p) == np.inf


# --- column_sums -----------------------------------------------------------------

@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("n_cols", [1, 2, 13])
@pytest.mark.parametrize("n_rows", [0, 1, 7, 8, 9, 200, 1000, 5003])
def test_column_sums_gives_numpys_bits(dtype, n_rows, n_cols):
    # NumPy reduces axis 0 of a C-ordered array row by row, but a single
    # column pairwise: the kernel adds in the same order in both cases.
    rs = np.random.RandomState(7)
    a = (rs.normal(size=(n_rows, n_cols))
         * 10.0 ** rs.randint(-4, 5, size=(n_rows, n_cols))).astype(dtype)
    out = np.full(n_cols, np.nan, dtype=dtype)
    _train.column_sums(a, out)
    assert_array_equal(out, np.sum(a, axis=0))


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("n", [1, 5, 8, 9, 16, 127, 128, 129, 200, 1000, 40001])
def test_weight_sum_gives_numpys_bits(dtype, n):
    rs = np.random.RandomState(n)
    sw = (rs.uniform(0.1, 2, n) * 10.0 ** rs.randint(-4, 5, size=n)).astype(dtype)
    got = _train.weight_sum(sw)
    assert got == sw.sum()
    if dtype == np.float32:
        assert got == np.float32(got)       # summed in float32, as NumPy does


# --- optimizer steps -------------------------------------------------------------

def _reference_grad(raw, params, n_coef, alpha, sw_sum):
    """The gradient as loss_and_gradient forms it from the raw sums."""
    g = raw.copy()
    g[:n_coef] += alpha * params[:n_coef]
    g /= sw_sum
    return g


def _optimizer(name, n_params, dtype, **params):
    """The optimizer ``name`` with the estimators' defaults but ``params``."""
    from fastmlp import MLPClassifier

    return make_optimizer(MLPClassifier(solver=name, **params), n_params, 30, dtype)


# Each optimizer, and its variants that take other paths through its kernel.
OPTIMIZER_CASES = [(name, {}) for name in OPTIMIZERS] + [
    ("sgd", {"nesterovs_momentum": False}),
    ("sgd", {"momentum": 0.0}),
]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("sw_sum", [32, 17.3])
@pytest.mark.parametrize(("name", "params"), OPTIMIZER_CASES, ids=str)
def test_flat_step_matches_the_optimizers_reference(dtype, sw_sum, name, params):
    # The kernel takes what any engine takes (kernel_state, step_rate) and
    # the raw gradient; the reference takes the finished gradient.
    rs = np.random.RandomState(8)
    params_ref = rs.normal(size=41).astype(dtype)
    n_coef, alpha = 30, 1e-3
    ref = _optimizer(name, params_ref.size, dtype, learning_rate_init=0.01, **params)
    ours = _optimizer(name, params_ref.size, dtype, learning_rate_init=0.01, **params)
    params_ours = params_ref.copy()
    for _ in range(3):
        raw = rs.normal(0, 5, size=params_ref.size).astype(dtype)
        ref.step(params_ref, _reference_grad(raw, params_ref, n_coef, alpha, sw_sum))
        code, rate, state_a, state_b, hyper, t = ours.kernel_state()
        _train.flat_step(code, params_ours, raw, state_a, state_b, n_coef, alpha,
                         sw_sum, step_rate(code, rate, hyper, t + 1), hyper)
        ours.steps_taken(t + 1)
        # The same operations in the same order: the same bits.
        for a, b in zip(ours.state_arrays(), ref.state_arrays()):
            assert_array_equal(a, b)
        assert_array_equal(params_ours, params_ref)
        assert ours.t == ref.t


def _hard_numerators(rs, n, s, dtype):
    """Numerators x whose x / s lie within a few ulps of q (rounded x = q s,
    moved by -2..2 ulps: quotients next to rounding ties), and among them
    zeros of both signs, subnormals, tiny and huge numbers, infinities and
    NaN."""
    q = rs.uniform(1, 2, n) * 2.0 ** rs.randint(-30, 30, n) * rs.choice([-1, 1], n)
    x = (q.astype(dtype) * s).astype(dtype)
    x = (x + rs.randint(-2, 3, n) * np.spacing(x)).astype(dtype)
    info = np.finfo(dtype)
    special = np.array([0.0, -0.0, info.smallest_subnormal, -info.tiny, 2.0 ** -85,
                        -(2.0 ** 85), 2.0 ** -600, 2.0 ** 600, info.max, np.inf,
                        -np.inf, np.nan]).astype(dtype)
    at = rs.choice(n, 40, replace=False)
    x[at] = special[rs.randint(0, special.size, at.size)]
    return x


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("sw_sum", [200, 128, 17.3, 3, 1e-3, 7.5e5, 2.0 ** -45, 1e30])
@pytest.mark.parametrize(("name", "params"), OPTIMIZER_CASES, ids=str)
def test_flat_step_quotients_have_the_references_bits(dtype, sw_sum, name, params):
    # The step multiplies by 1 / sw_sum where sw_sum is a power of two
    # (_vector.h), and divides otherwise: every quotient must be the
    # reference division's, next to rounding ties, at the range's edges and
    # for zeros, subnormals, infinities and NaN.
    rs = np.random.RandomState(12)
    n_params = 20000                          # coefficients: the first 30
    s = np.dtype(dtype).type(sw_sum)
    params_ref = rs.normal(size=n_params).astype(dtype)
    params_ref[:30] = 0                       # x = raw exactly for all
    ref = _optimizer(name, n_params, dtype, learning_rate_init=0.01, **params)
    ours = _optimizer(name, n_params, dtype, learning_rate_init=0.01, **params)
    params_ours = params_ref.copy()
    with np.errstate(all="ignore"):
        for _ in range(2):
            raw = _hard_numerators(rs, n_params, s, dtype)
            ref.step(params_ref, _reference_grad(raw, params_ref, 30, 0.0, sw_sum))
            code, rate, state_a, state_b, hyper, t = ours.kernel_state()
            _train.flat_step(code, params_ours, raw, state_a, state_b, 30, 0.0,
                             sw_sum, step_rate(code, rate, hyper, t + 1), hyper)
            ours.steps_taken(t + 1)
    for a, b in zip(ours.state_arrays(), ref.state_arrays()):
        assert_array_equal(a.view(np.uint8), b.view(np.uint8))
    assert_array_equal(params_ours.view(np.uint8), params_ref.view(np.uint8))


def test_flat_step_refuses_unknown_codes():
    e = np.zeros(4)
    with pytest.raises(ValueError, match="unknown optimizer code"):
        _train.flat_step(len(OPTIMIZERS), e, e, e, e, 2, 0.0, 1.0, 0.1, np.zeros(4))


def test_step_codes_are_the_tables():
    check_step_codes(_train.STEP_NAMES)
    with pytest.raises(ImportError, match="rebuild"):
        check_step_codes(tuple(reversed(_train.STEP_NAMES)))


@pytest.mark.parametrize("dtype", DTYPES)
def test_l2_sum_is_numpys_dot_in_float64_and_a_double_sum_in_float32(dtype):
    rs = np.random.RandomState(10)
    for n in (1, 7, 700, 20000):
        params = (rs.normal(size=n + 300) * 10.0 ** rs.randint(-3, 3)).astype(dtype)
        params[n:] = 1e30                     # intercepts: not in the sum
        got = _train.l2_sum(params, n)
        w = params[:n]
        if dtype == np.float64:
            assert got == np.dot(w, w)        # scikit-learn's np.dot(s, s)
        else:
            w = w.astype(np.float64)          # float32 squares are exact here
            assert_allclose(got, np.dot(w, w), rtol=1e-12)
    assert _train.l2_sum(params, 0) == 0.0


# --- contracts ------------------------------------------------------------------

@pytest.mark.parametrize("dtype", DTYPES)
def test_inputs_are_read_only_and_untouched(dtype):
    rs = np.random.RandomState(11)

    def frozen(shape):
        a = rs.normal(size=shape).astype(dtype)
        copy = a.copy()
        _read_only(a)
        return a, copy

    checks = []
    a, a0 = frozen((6, 4))
    b, b0 = frozen((4, 3))
    _train.gemm(False, False, 1.0, a, b, 0.0, np.empty((6, 3), dtype))
    checks += [(a, a0), (b, b0)]
    bias, bias0 = frozen(3)
    _train.bias_activation(rs.normal(size=(5, 3)).astype(dtype), bias, ACT["tanh"])
    checks.append((bias, bias0))
    act, act0 = frozen((5, 3))
    _train.derivative_multiply(act, np.ones((5, 3), dtype), ACT["logistic"])
    checks.append((act, act0))
    y, y0 = frozen((5, 3))
    sw, sw0 = frozen(5)
    _train.output_loss_delta(rs.normal(size=(5, 3)).astype(dtype), y, sw,
                             ACT["softmax"], LOSS["log_loss"],
                             np.empty((5, 3), dtype))
    checks += [(y, y0), (sw, sw0)]
    _train.column_sums(act, np.empty(3, dtype))
    grad, grad0 = frozen(12)
    hyper, hyper0 = frozen(4)
    hyper, hyper0 = np.abs(hyper).astype(np.float64), np.abs(hyper0).astype(np.float64)
    hyper.setflags(write=False)
    for code in range(len(OPTIMIZERS)):
        _train.flat_step(code, np.ones(12, dtype), grad, np.zeros(12, dtype),
                         np.zeros(12, dtype), 8, 1e-4, 5.0, 1e-3, hyper)
    checks.append((hyper, hyper0))
    _train.l2_sum(grad, 8)
    checks.append((grad, grad0))
    for got, expected in checks:
        assert not got.flags.writeable
        assert_array_equal(got, expected)


def test_shims_reject_mismatched_shapes():
    f = np.float64
    e = np.empty
    cases = [
        lambda: _train.gemm(False, False, 1.0, e((3, 4)), e((5, 2)), 0.0, e((3, 2))),
        lambda: _train.gemm(True, False, 1.0, e((3, 4)), e((4, 2)), 0.0, e((4, 2))),
        lambda: _train.gemm(False, True, 1.0, e((3, 4)), e((2, 4)), 0.0, e((3, 3))),
        lambda: _train.bias_activation(e((3, 4)), e(3), 0),
        lambda: _train.bias_activation(e((3, 4)), e(4), 99),
        lambda: _train.derivative_multiply(e((3, 4)), e((4, 3)), 1),
        lambda: _train.derivative_multiply(e((3, 4)), e((3, 4)), ACT["softmax"]),
        lambda: _train.output_loss_delta(e((3, 4)), e((3, 5)), None, 5, 2, e((3, 4))),
        lambda: _train.output_loss_delta(e((3, 4)), e((3, 4)), None, 5, 2, e((2, 4))),
        lambda: _train.output_loss_delta(e((3, 4)), e((3, 4)), e(4), 5, 2, e((3, 4))),
        lambda: _train.output_loss_delta(e((3, 4)), e((3, 4)), None, 5, 4, e((3, 4))),
        lambda: _train.column_sums(e((3, 4)), e(3)),
        lambda: _train.flat_step(0, e(5), e(4), e(5), e(5), 2, 0, 1, 1, e(3)),
        lambda: _train.flat_step(0, e(5), e(5), e(5), e(6), 2, 0, 1, 1, e(3)),
        lambda: _train.flat_step(0, e(5), e(5), e(5), e(5), 6, 0, 1, 1, e(3)),
        lambda: _train.flat_step(1, e(5), e(5), e(4), e(5), 2, 0, 1, 1, e(3)),
        lambda: _train.flat_step(1, e(5), e(5), e(5), e(5), -1, 0, 1, 1, e(3)),
        lambda: _train.flat_step(3, e(5), e(5), e(5), e(5), 2, 0, 1, 1, e(3)),
        lambda: _train.l2_sum(e(5), 6),
    ]
    for case in cases:
        with pytest.raises(ValueError):
            case()
    # Mixed dtypes find no specialization.
    with pytest.raises(ValueError, match="dtype mismatch"):
        _train.column_sums(e((3, 4), dtype=f), e(4, dtype=np.float32))


# --- the Numba bridge ------------------------------------------------------------

def test_numba_calls_the_exported_kernels():
    numba = pytest.importorskip("numba")
    step_f64 = c_function("flat_step", np.float64)
    gemm_f32 = c_function("gemm", np.float32)

    @numba.njit(nogil=True)
    def adam(params, grad, m, v, n_coef, alpha, sw_sum, lr_t, hyper):
        step_f64(0, params.ctypes.data, grad.ctypes.data, m.ctypes.data,
                 v.ctypes.data, params.size, n_coef, alpha, sw_sum, lr_t,
                 hyper.ctypes.data)

    @numba.njit(nogil=True)
    def delta_times_w_transposed(delta, w, out):
        # out = delta @ w.T, the backward GEMM of a layer.
        m, n, k = delta.shape[0], w.shape[0], delta.shape[1]
        gemm_f32(0, 1, m, n, k, 1.0, delta.ctypes.data, k, w.ctypes.data, k,
                 0.0, out.ctypes.data, n)

    rs = np.random.RandomState(12)
    params = rs.normal(size=50)
    grad = rs.normal(size=50)
    m = rs.normal(size=50) * 0.1
    v = rs.uniform(0, 0.1, size=50)
    states = [a.copy() for a in (params, m, v)]
    before = params.copy()
    hyper = np.array([0.9, 0.999, 1e-8])
    adam(params, grad, m, v, 40, 1e-4, 7.0, 1e-3, hyper)
    _train.flat_step(0, states[0], grad, states[1], states[2], 40, 1e-4, 7.0, 1e-3, hyper)
    assert not np.array_equal(params, before)     # the call did something
    for got, expected in zip((params, m, v), states):
        assert_array_equal(got, expected)

    delta = rs.normal(size=(9, 6)).astype(np.float32)
    w = rs.normal(size=(5, 6)).astype(np.float32)
    out = np.full((9, 5), np.nan, dtype=np.float32)
    delta_times_w_transposed(delta, w, out)
    expected = np.empty((9, 5), dtype=np.float32)
    _train.gemm(False, True, 1.0, delta, w, 0.0, expected)
    assert_array_equal(out, expected)
    assert_allclose(out, delta.astype(float) @ w.T, rtol=1e-5, atol=1e-5)


def test_gemm_same_through_numpy_and_scipy_blas():
    # The kernels call NumPy's own BLAS when fastmlp/_blas.py finds it, else
    # SciPy's; both paths must give the same products, every transpose, and
    # every shape NumPy's matmul sends to DOT, GEMV or its own loop.
    from fastmlp import _blas
    from fastmlp._kernels import _forward

    addresses = _blas.numpy_cblas()
    rs = np.random.RandomState(0)
    shapes = [(7, 6, 5), (1, 6, 5), (7, 1, 5), (1, 1, 5), (7, 6, 1), (1, 6, 1)]
    try:
        for dtype in (np.float32, np.float64):
            rtol = 1e-5 if dtype == np.float32 else 1e-12
            for source in ("scipy", "numpy"):
                if source == "numpy":
                    if addresses is None:
                        continue
                    _train.set_cblas(*addresses)
                else:
                    _train.set_cblas(0, 0, 0, 0, 0, 0)
                assert _train.blas_source() == source
                for m, n, k in shapes:
                    a = rs.normal(size=(m, k)).astype(dtype)
                    b = rs.normal(size=(k, n)).astype(dtype)
                    for ta, tb in ((0, 0), (1, 0), (0, 1), (1, 1)):
                        left = np.ascontiguousarray(a.T) if ta else a
                        right = np.ascontiguousarray(b.T) if tb else b
                        for alpha, beta in ((2.0, 0.5), (1.0, 0.0)):
                            out = np.full((m, n), 3.0, dtype)
                            _train.gemm(ta, tb, alpha, left, right, beta, out)
                            expected = alpha * (a.astype(float) @ b.astype(float)) + 3 * beta
                            np.testing.assert_allclose(out, expected, rtol=rtol, atol=rtol)
    finally:
        if addresses is not None:
            _train.set_cblas(*addresses)
    # Inference picked NumPy's BLAS wherever it was found.
    assert _forward.blas_source() == ("numpy" if addresses is not None else "scipy")


# --- gather ----------------------------------------------------------------

@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("n_cols", [1, 3, 16, 20, 785])
@pytest.mark.parametrize("n_rows", [0, 1, 7, 8, 9, 203])
def test_gather_copies_the_listed_rows_in_order(dtype, n_cols, n_rows):
    # Row widths below, at and across the 64-byte lines the kernel copies,
    # and row counts around its groups of eight.
    rs = np.random.RandomState(n_cols * 1000 + n_rows)
    src = rs.normal(size=(300, n_cols)).astype(dtype)
    rows = rs.randint(0, 300, size=n_rows).astype(np.intp)
    out = np.full((n_rows + 2, n_cols), -7, dtype=dtype)
    (src_ro,) = _read_only(src.copy())
    _train.gather(src_ro.view(np.uint8), rows, out.view(np.uint8))
    assert_array_equal(out[:n_rows], src[rows])
    assert (out[n_rows:] == -7).all()      # nothing past the rows written


def test_gather_rejects_rows_outside_the_source():
    src = np.zeros((4, 8), np.uint8)
    out = np.zeros((2, 8), np.uint8)
    with pytest.raises(IndexError, match="row 4 is outside"):
        _train.gather(src, np.array([0, 4], np.intp), out)
    with pytest.raises(ValueError, match="out is 2x8 for 3 rows"):
        _train.gather(src, np.array([0, 1, 2], np.intp), out)
