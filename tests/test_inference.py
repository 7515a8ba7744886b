"""The Cython forward pass agrees with the NumPy reference."""

import re
import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from numpy.testing import assert_allclose

from fastmlp import _inference
from fastmlp._kernels import _forward
from fastmlp._operations import HIDDEN_ACTIVATIONS
from fastmlp.engines import Network
from fastmlp.engines.numpy_engine import forward as numpy_forward


def _weights(units, dtype, seed=0):
    rs = np.random.RandomState(seed)
    coefs = [rs.uniform(-1, 1, (a, b)).astype(dtype) for a, b in zip(units[:-1], units[1:])]
    intercepts = [rs.uniform(-1, 1, b).astype(dtype) for b in units[1:]]
    return coefs, intercepts


@pytest.mark.parametrize("activation", list(HIDDEN_ACTIVATIONS))
@pytest.mark.parametrize("out_activation", ["identity", "logistic", "exp", "softmax"])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_forward_matches_reference(activation, out_activation, dtype):
    units = (7, 9, 5, 4)
    coefs, intercepts = _weights(units, dtype)
    X = np.random.RandomState(1).normal(size=(33, 7)).astype(dtype)
    net = Network(units, activation, out_activation, "squared_error", 0.0, np.dtype(dtype))
    expected = numpy_forward(net, coefs, intercepts, X)[0][-1]
    got = _inference.forward(X, coefs, intercepts, activation, out_activation)
    assert got.dtype == dtype and got.flags.c_contiguous
    rtol = 1e-12 if dtype == np.float64 else 2e-5
    assert_allclose(got, expected, rtol=rtol, atol=rtol)


def test_dtype_promotion_and_layouts():
    coefs, intercepts = _weights((6, 4, 3), np.float32)
    X = np.random.RandomState(2).normal(size=(10, 6))
    ref = _inference.forward(X, coefs, intercepts, "relu", "softmax")
    assert ref.dtype == np.float64
    for variant in (np.asfortranarray(X), X[:, ::-1][:, ::-1], X.astype(np.int64),
                    sp.csr_matrix(X), sp.csc_matrix(X)):
        got = _inference.forward(variant, coefs, intercepts, "relu", "softmax")
        assert got.dtype == np.float64
        expected = ref if not np.issubdtype(variant.dtype, np.integer) else \
            _inference.forward(X.astype(np.int64).astype(float), coefs, intercepts,
                               "relu", "softmax")
        assert_allclose(got, expected, rtol=1e-12)


def test_read_only_inputs_are_accepted_and_untouched():
    coefs, intercepts = _weights((6, 4, 3), np.float64)
    X = np.random.RandomState(3).normal(size=(10, 6))
    for a in (X, *coefs, *intercepts):
        a.setflags(write=False)
    out = _inference.forward(X, coefs, intercepts, "tanh", "identity")
    assert np.isfinite(out).all()


def test_softmax_is_stable_for_large_inputs():
    z = np.array([[1000.0, 0.0, -1000.0], [-5e5, -5e5, -5e5]])
    _forward.bias_activation(z, np.zeros(3), _forward.ACTIVATION_CODES["softmax"])
    assert_allclose(z, [[1, 0, 0], [1 / 3, 1 / 3, 1 / 3]])


def test_logistic_saturates_without_overflow():
    z = np.array([[-800.0, 800.0, 0.0]])
    with np.errstate(all="raise"):
        _forward.bias_activation(z, np.zeros(3), _forward.ACTIVATION_CODES["logistic"])
    assert_allclose(z, [[0.0, 1.0, 0.5]])


def test_kernel_rejects_mismatched_shapes():
    a = np.ones((3, 4))
    with pytest.raises(ValueError, match="shapes do not chain"):
        _forward.dense_layer(a, np.ones((5, 2)), np.ones(2), np.empty((3, 2)), 0)
    with pytest.raises(ValueError, match="bias has 3 entries for 2 columns"):
        _forward.bias_activation(np.ones((3, 2)), np.ones(3), 0)
    with pytest.raises((TypeError, ValueError)):
        _forward.dense_layer(a.astype(np.float32), np.ones((4, 2)), np.ones(2),
                             np.empty((3, 2)), 0)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_blocked_forward_matches_reference_across_blocks(dtype):
    units = (9, 7, 4)
    coefs, intercepts = _weights(units, dtype)
    n = 2 * _inference.BLOCK_ROWS + 37           # two full blocks and a partial one
    X = np.random.RandomState(4).normal(size=(n, 9)).astype(dtype)
    net = Network(units, "tanh", "softmax", "log_loss", 0.0, np.dtype(dtype))
    expected = numpy_forward(net, coefs, intercepts, X)[0][-1]
    got = _inference.forward(X, coefs, intercepts, "tanh", "softmax", check_finite_as="M")
    rtol = 1e-12 if dtype == np.float64 else 2e-5
    assert_allclose(got, expected, rtol=rtol, atol=rtol)


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
@pytest.mark.parametrize("fmt", ["dense32", "dense64", "csr"])
@pytest.mark.parametrize("block", [0, 1, 2])
def test_non_finite_values_in_any_block_raise_sklearns_error(bad, fmt, block):
    # Dense float32: block 0 is checked in the first layer's kernel, the
    # others by idle threads while the block before them runs
    # (kernels/_pool.h). Dense float64 runs unblocked, CSR through NumPy.
    from sklearn.utils import assert_all_finite

    coefs, intercepts = _weights((6, 4, 3), np.float64)
    X = np.random.RandomState(5).normal(size=(3 * _inference.BLOCK_ROWS, 6))
    X[block * _inference.BLOCK_ROWS + 11, 3] = bad        # in that block only
    if fmt == "dense32":
        X = X.astype(np.float32)
    elif fmt == "csr":
        X = sp.csr_matrix(X)
    with pytest.raises(ValueError) as expected:
        assert_all_finite(X, estimator_name="MLPThing", input_name="X")
    with pytest.raises(ValueError, match=re.escape(expected.value.args[0].split("\n")[0])):
        _inference.forward(X, coefs, intercepts, "relu", "softmax", check_finite_as="MLPThing")
    # The raise gave the idle facility up: the next call may own it.
    assert _inference._train.idle_acquire()
    _inference._train.idle_release()
    # unchecked (sklearn's assume_finite), the forward pass just runs
    out = _inference.forward(X, coefs, intercepts, "relu", "softmax")
    assert out.shape == (X.shape[0], 3)


def test_finite_values_whose_sum_overflows_are_accepted():
    coefs, intercepts = _weights((4, 3, 2), np.float32)
    X = np.full((10, 4), 3e38, dtype=np.float32)        # finite; sums to inf
    with np.errstate(over="ignore"):
        assert not np.isfinite(X.sum())
    with warnings.catch_warnings():
        warnings.simplefilter("error")        # and no overflow warning either
        out = _inference.forward(X, coefs, intercepts, "relu", "softmax",
                                 check_finite_as="MLPThing")
    assert out.shape == (10, 2)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("n", [1, 7, 33, 129])
def test_all_finite_finds_every_nan_and_infinity(dtype, n):
    from fastmlp._kernels import _train

    info = np.finfo(dtype)
    x = np.random.RandomState(n).normal(size=n).astype(dtype)
    x[0] = info.max
    x[-1] = -info.tiny / 2          # a subnormal (and -0, below) are finite
    if n > 2:
        x[1] = -0.0
    assert _train.all_finite(x)
    for bad in (np.nan, np.inf, -np.inf):
        for position in range(n):
            y = x.copy()
            y[position] = bad
            assert not _train.all_finite(y)
