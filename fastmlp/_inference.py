"""Inference: the forward pass of a fitted network through the Cython kernels.

Needs no engine and no JIT, so a model loaded from a pickle predicts at once.
This module is the funnel in front of the kernels: it fixes dtype and layout
and allocates; the kernels only compute.
"""

import numpy as np
import scipy.sparse as sp

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


def forward(X, coefs, intercepts, activation, out_activation):
    """Output-layer activations of the network on X (a new C-ordered array).

    X is a validated 2-D array or CSR/CSC matrix; it is not modified.
    """
    dtype = compute_dtype(X.dtype, coefs)
    hidden_code = ACTIVATION_CODES[activation]
    last = len(coefs) - 1
    A = X
    for i, (W, b) in enumerate(zip(coefs, intercepts)):
        W = np.ascontiguousarray(W, dtype=dtype)
        b = np.ascontiguousarray(b, dtype=dtype)
        code = ACTIVATION_CODES[out_activation] if i == last else hidden_code
        if sp.issparse(A):
            Z = np.ascontiguousarray(A.astype(dtype, copy=False) @ W)
            bias_activation(Z, b, code)
        else:
            A = np.ascontiguousarray(A, dtype=dtype)
            Z = np.empty((A.shape[0], W.shape[1]), dtype=dtype)
            dense_layer(A, W, b, Z, code)
        A = Z
    return A
