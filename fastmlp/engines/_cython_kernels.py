"""Numba-callable handles on the Cython training kernels (fastmlp._kernels._train).

Design: each exported kernel's C address (from the module's ``__pyx_capi__``)
is registered with LLVM under a fixed symbol name and declared to Numba as an
external function of that name. Compiled loops then refer to the kernels by
name, not by address, so Numba can cache them on disk: a cached loop links
against the addresses registered in the process that loads it. (A ctypes
function pointer would be baked into the code as a constant, and Numba
refuses to cache such functions.)

Array arguments cross as ``intp`` holding ``arr.ctypes.data``: on every
platform where ``intp`` is pointer-sized (all that NumPy supports) an integer
and a pointer travel in the same registers of the C calling convention.

Under ``NUMBA_DISABLE_JIT=1`` the loops run as plain Python, so each kernel
is a ctypes function of the same prototype instead: training then runs the
same kernels in the same order, only slower.
"""

import ctypes

import llvmlite.binding as llvm
from numba import config, types
from numba.core.types import ExternalFunction
from numba.extending import get_cython_function_address

from .. import _blas
from .._kernel_api import KERNELS
from .._kernels import _train

_MODULE = "fastmlp._kernels._train"
_blas.use_numpy_blas(_train)
_blas.share_numpy_blas_pool(_train)

_ptr = types.intp      # a data pointer, as an integer
_size = types.intp     # Py_ssize_t
_int = types.intc      # C int
_dbl = types.float64


# fastmlp/_kernel_api.py's C types as Numba sees them: every pointer an intp.
_TYPES = {"int": _int, "Py_ssize_t": _size, "double": _dbl, "void": types.void}


def _numba_type(kind):
    return _ptr if kind.endswith("*") else _TYPES[kind]


def _signatures():
    """Each exported kernel's signature (both variants alike), from the list."""
    return {name: _numba_type(ret)(*(_numba_type(kind) for kind, _ in args))
            for name, ret, args, _ in KERNELS}


_CTYPES = {_ptr: ctypes.c_ssize_t, _int: ctypes.c_int, _dbl: ctypes.c_double,
           types.void: None}


def _declare(name, suffix, signature):
    exported = name if suffix is None else f"{name}_{suffix}"
    address = get_cython_function_address(_MODULE, exported)
    if config.DISABLE_JIT:
        prototype = ctypes.CFUNCTYPE(
            _CTYPES[signature.return_type], *(_CTYPES[a] for a in signature.args))
        return prototype(address)
    symbol = f"fastmlp_{exported}"
    llvm.add_symbol(symbol, address)
    return ExternalFunction(symbol, signature)


_f32 = {n: _declare(n, "f32", s) for n, s in _signatures().items()}
_f64 = {n: _declare(n, "f64", s) for n, s in _signatures().items()}

gemm_f32, gemm_f64 = _f32["gemm"], _f64["gemm"]
gemm_bf16_f32 = _f32["gemm_bf16"]
bias_activation_f32, bias_activation_f64 = _f32["bias_activation"], _f64["bias_activation"]
derivative_sums_f32, derivative_sums_f64 = _f32["derivative_sums"], _f64["derivative_sums"]
output_loss_delta_f32 = _f32["output_loss_delta"]
output_loss_delta_f64 = _f64["output_loss_delta"]
column_sums_f32, column_sums_f64 = _f32["column_sums"], _f64["column_sums"]
flat_step_f32, flat_step_f64 = _f32["flat_step"], _f64["flat_step"]
flat_step_l2_f32 = _f32["flat_step_l2"]
dropout_f32, dropout_f64 = _f32["dropout"], _f64["dropout"]
l2_sum_f32, l2_sum_f64 = _f32["l2_sum"], _f64["l2_sum"]
weight_sum_f32, weight_sum_f64 = _f32["weight_sum"], _f64["weight_sum"]
# One entry point for every dtype: rows are copied as bytes.
gather_rows = _declare("gather_rows", None, types.void(_ptr, _size, _ptr, _size, _ptr))
transpose_f32 = _declare("transpose_f32", None, types.void(_ptr, _size, _size, _ptr))
# The next minibatch's gather in idle time (kernels/_pool.h).
idle_gather_acquire = _declare("idle_gather_acquire", None, _int())
idle_gather_arm = _declare("idle_gather_arm", None, _int(_ptr, _size, _ptr, _size, _ptr))
idle_gather_finish = _declare("idle_gather_finish", None, types.void())
idle_gather_release = _declare("idle_gather_release", None, types.void())
