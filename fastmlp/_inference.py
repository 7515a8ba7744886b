"""Inference: the forward pass of a fitted network through the Cython kernels.

Needs no engine and no JIT, so a model loaded from a pickle predicts at once.
This module is the funnel in front of the kernels: it fixes dtype and layout
and allocates; the kernels only compute.
"""

import numpy as np
import scipy.sparse as sp
from sklearn.utils import assert_all_finite

from . import _blas, _operations, _optimizers
from ._bfloat16 import round_bf16, round_operand
from ._kernels import _forward, _train
from ._kernels._forward import bias_activation, dense_layer
from ._operations import ACTIVATION_CODES, hidden_activation_names
from ._tunables import INFERENCE_BLOCK_ROWS

_operations.check_kernel_codes(
    _forward.ACTIVATION_CODES, _train.LOSS_CODES, _train.HIDDEN_DERIVATIVE_CODES)
_optimizers.check_step_codes(_train.STEP_NAMES)

_blas.use_numpy_blas(_forward)


def compute_dtype(X_dtype, coefs):
    """float32 only when both the data and the weights are float32.

    This is the dtype NumPy's promotion gives ``X @ coefs_[0]`` for floating
    inputs (integer input promotes to float64), so predictions have the
    dtypes scikit-learn's have.
    """
    if X_dtype == np.float32 and coefs[0].dtype == np.float32:
        return np.dtype(np.float32)
    return np.dtype(np.float64)


# Dense input runs through the network in blocks of rows (the size and why:
# fastmlp/_tunables.py).
BLOCK_ROWS = INFERENCE_BLOCK_ROWS


def forward(X, coefs, intercepts, activation, out_activation, check_finite_as=None,
            bf16=False):
    """Output-layer activations of the network on X (a new C-ordered array).

    ``activation`` is the hidden layers' activation, or one per hidden layer.

    X is a validated 2-D array or CSR/CSC matrix; it is not modified.
    ``check_finite_as``: None, or the estimator name under which non-finite
    values in X raise scikit-learn's own error (``assert_all_finite``).
    ``bf16``: a matmul_precision="bfloat16" model: float32, its GEMMs on
    inputs rounded to bfloat16 (the CPU's kernel, or else the same products
    in float32 from rounded copies).
    """
    dtype = np.dtype(np.float32) if bf16 else compute_dtype(X.dtype, coefs)
    # None, "native" (dense_layer's bfloat16 GEMM) or "emulated".
    bf16 = bf16 and ("native" if _train.bf16_support() else "emulated")
    names = hidden_activation_names(activation, len(coefs) - 1) + (out_activation,)
    layers = [
        (np.ascontiguousarray(W, dtype=dtype), np.ascontiguousarray(b, dtype=dtype),
         ACTIVATION_CODES[name])
        for W, b, name in zip(coefs, intercepts, names)
    ]
    if bf16 == "emulated":
        layers = [(round_bf16(W), b, code) for W, b, code in layers]

    if sp.issparse(X) or not X.flags.c_contiguous:
        # scikit-learn multiplies X as it is, and for CSR/CSC, F-ordered
        # (np.asarray of a DataFrame) or strided X, BLAS (or NumPy's own
        # loop) adds in another order than for a C copy: the first layer is
        # NumPy's product of X itself, so it has scikit-learn's bits.
        if check_finite_as is not None:
            assert_all_finite(X, estimator_name=check_finite_as, input_name="X")
        W, b, code = layers[0]
        X = X.astype(dtype, copy=False)
        if bf16:
            # (The emulation's weights are rounded already.)
            X = round_operand(X)
            W = W if bf16 == "emulated" else round_bf16(W)
        A = np.ascontiguousarray(X @ W)
        bias_activation(A, b, code)
        return _through(A, layers[1:], [
            np.empty((A.shape[0], W.shape[1]), dtype=dtype) for W, _, _ in layers[1:]],
            bf16=bf16)

    data = np.ascontiguousarray(X, dtype=dtype)
    n_rows = data.shape[0]
    check = check_finite_as is not None
    if n_rows <= BLOCK_ROWS or dtype == np.float64:
        # float64 keeps scikit-learn's bits: OpenBLAS picks its kernel (a
        # small-matrix one below about 10^6 multiply-adds) and its thread
        # count by a product's size, and they add in different orders, so a
        # block of rows can differ in the last bit from the same rows of
        # one product over all of them. Each layer is then one product over
        # all rows, as scikit-learn's.
        outputs = [np.empty((n_rows, W.shape[1]), dtype=dtype) for W, _, _ in layers]
        if _through(data, layers, outputs, check, bf16) is None:
            _raise_not_finite(X, check_finite_as)
        return outputs[-1]

    out = np.empty((n_rows, layers[-1][0].shape[1]), dtype=dtype)
    scratch = [np.empty((BLOCK_ROWS, W.shape[1]), dtype=dtype) for W, _, _ in layers[:-1]]
    # While a block runs through the network, the pool's idle threads check
    # the next one for non-finite values (reading it from memory, as the
    # check must), when this call can own that facility; the block's turn
    # then only finishes the check (kernels/_pool.h).
    idle = check and _train.idle_acquire()
    armed = False
    try:
        for start in range(0, n_rows, BLOCK_ROWS):
            block = data[start:start + BLOCK_ROWS]
            checked = armed
            if armed and not _train.idle_check_finish():
                _raise_not_finite(X, check_finite_as)
            following = data[start + BLOCK_ROWS:start + 2 * BLOCK_ROWS]
            armed = idle and _train.idle_check_arm(following)
            outputs = ([s[:len(block)] for s in scratch]
                       + [out[start:start + BLOCK_ROWS]])
            if _through(block, layers, outputs, check and not checked, bf16) is None:
                _raise_not_finite(X, check_finite_as)
    finally:
        if idle:
            _train.idle_release()
    return out


def _raise_not_finite(X, estimator_name):
    # The kernels' check is exact, so scikit-learn's raises here, with its
    # own message; the line after it is only a guard.
    assert_all_finite(X, estimator_name=estimator_name, input_name="X")
    raise ValueError("Input X contains NaN or infinity.")


def _through(A, layers, outputs, check_finite=False, bf16=None):
    """Run rows A through the layers, layer i writing outputs[i].

    Returns the last output, or None when ``check_finite`` and A holds a
    non-finite value (then nothing is computed). ``bf16``: as in forward.
    """
    for i, ((W, b, code), Z) in enumerate(zip(layers, outputs)):
        if bf16 == "emulated":
            A = round_bf16(A)
        if not dense_layer(A, W, b, Z, code, check_finite and i == 0,
                           bf16 == "native"):
            return None
        A = Z
    return A
