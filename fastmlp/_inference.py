"""Inference: the forward pass of a fitted network through the Cython kernels.

Needs no engine and no JIT, so a model loaded from a pickle predicts at once.
This module is the funnel in front of the kernels: it fixes dtype and layout
and allocates; the kernels only compute.
"""

import numpy as np
import scipy.sparse as sp
from sklearn.utils import assert_all_finite

from . import _blas
from ._kernels import _forward
from ._kernels._forward import ACTIVATION_CODES, bias_activation, dense_layer

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


# Dense input runs through the network this many rows at a time: each block
# of X is checked for non-finite values while it is in cache, just before its
# GEMM, instead of in a separate pass over all of X (measured on 10000x784
# float32, hidden (100,): 11.3 ms -> 10.2 ms), and the hidden activations
# of a block stay in cache for the next layer.
BLOCK_ROWS = 512


def forward(X, coefs, intercepts, activation, out_activation, check_finite_as=None):
    """Output-layer activations of the network on X (a new C-ordered array).

    X is a validated 2-D array or CSR/CSC matrix; it is not modified.
    ``check_finite_as``: None, or the estimator name under which non-finite
    values in X raise scikit-learn's own error (``assert_all_finite``).
    """
    dtype = compute_dtype(X.dtype, coefs)
    hidden_code = ACTIVATION_CODES[activation]
    codes = [hidden_code] * (len(coefs) - 1) + [ACTIVATION_CODES[out_activation]]
    layers = [
        (np.ascontiguousarray(W, dtype=dtype), np.ascontiguousarray(b, dtype=dtype), code)
        for W, b, code in zip(coefs, intercepts, codes)
    ]

    if sp.issparse(X):
        if check_finite_as is not None:
            assert_all_finite(X, estimator_name=check_finite_as, input_name="X")
        W, b, code = layers[0]
        A = np.ascontiguousarray(X.astype(dtype, copy=False) @ W)
        bias_activation(A, b, code)
        for W, b, code in layers[1:]:
            Z = np.empty((A.shape[0], W.shape[1]), dtype=dtype)
            dense_layer(A, W, b, Z, code)
            A = Z
        return A

    data = np.ascontiguousarray(X, dtype=dtype)
    n_rows = data.shape[0]
    out = np.empty((n_rows, layers[-1][0].shape[1]), dtype=dtype)
    scratch = [np.empty((min(BLOCK_ROWS, n_rows), W.shape[1]), dtype=dtype)
               for W, _, _ in layers[:-1]]
    for start in range(0, n_rows, BLOCK_ROWS):
        stop = min(start + BLOCK_ROWS, n_rows)
        A = data[start:stop]
        # A sum is finite when every entry is; when it is not (a non-finite
        # entry, or an overflow of finite ones), sklearn's exact check decides.
        if check_finite_as is not None:
            with np.errstate(over="ignore"):
                suspect = not np.isfinite(A.sum())
            if suspect:
                assert_all_finite(X, estimator_name=check_finite_as, input_name="X")
        for (W, b, code), buffer in zip(layers, scratch + [out[start:stop]]):
            Z = buffer[: stop - start]
            dense_layer(A, W, b, Z, code)
            A = Z
    return out
