"""bfloat16 rounding, the reference of matmul_precision="bfloat16".

A bfloat16 GEMM multiplies the inputs rounded to bfloat16 (8 bits of
mantissa; to nearest, ties to even) and sums the products in float32. Each
product of two bfloat16 values is exact in float32, so rounding the inputs
here and multiplying them in float32 is the same computation up to the
order of the float32 sums: the numpy engine trains that way (the oracle of
the compiled AMX and AVX512-BF16 kernels, kernels/_bf16.h), and prediction
runs that way on a CPU with neither.
"""

import numpy as np
import scipy.sparse as sp

_LOW = np.uint32(0x7FFF)
_KEEP = np.uint32(0xFFFF0000)


def round_bf16(x):
    """float32 ``x`` rounded to bfloat16's precision, as a new float32 array
    (NaN stays NaN)."""
    x = np.asarray(x, dtype=np.float32)
    bits = x.view(np.uint32)
    rounded = ((bits + (_LOW + ((bits >> np.uint32(16)) & np.uint32(1)))) & _KEEP)
    out = rounded.view(np.float32)
    nan = np.isnan(x)
    if nan.any():
        out = np.where(nan, x, out)
    return out


def round_operand(x):
    """A GEMM operand rounded to bfloat16: a dense array's entries, or a
    sparse matrix's stored values (in a copy)."""
    if sp.issparse(x):
        x = x.copy()
        x.data = round_bf16(x.data)
        return x
    return round_bf16(x)
