"""Compile the CUDA engine's kernels to PTX for an H100/H200 (sm_90) without
a GPU, with the argument types the engine launches them with; print one
line per kernel: ``dtype name f64-instruction-count``.

Run in a subprocess by tests/test_cuda.py (the test session runs Numba's
simulator, which compiles nothing). It needs NVVM (a CUDA toolkit,
CUDA_HOME) and reaches into numba-cuda for two look-ups that ask a driver
(the device's compute capability, NVRTC's architecture option); it exits
with status 3 when either is missing, which the test reports as a skip.
"""

import os
import sys

os.environ.pop("NUMBA_ENABLE_CUDASIM", None)

try:
    from numba import cuda
    from numba.cuda import types as T
    import numba.cuda.cuda_paths as cuda_paths
    import numba.cuda.cudadrv.nvrtc as nvrtc
    import numba.cuda.dispatcher as dispatcher

    class _Device:
        compute_capability = (9, 0)

    dispatcher.get_current_device = lambda: _Device()
    nvrtc.get_arch_option = lambda major, minor: f"compute_{major}{minor}"
    # (NVRTC is not used to compile Python kernels, only looked up.)
    cuda_paths._get_nvrtc_path = lambda: ("not needed", None)
except (ImportError, AttributeError) as exc:
    print(f"cannot compile without a device here: {exc}")
    sys.exit(3)

import numpy as np  # noqa: E402

from fastmlp.engines._cuda_kernels import kernels  # noqa: E402


def arr(dtype, ndim):
    return T.Array(dtype, ndim, "C")


i64, u64, f64, b1 = T.int64, T.uint64, T.float64, T.boolean
for np_dtype, dt in ((np.float32, T.float32), (np.float64, T.float64)):
    k = kernels(np.dtype(np_dtype))
    signatures = {
        "permute": (arr(i64, 1), arr(dt, 2), arr(dt, 2), arr(dt, 1), b1, arr(dt, 2),
                    arr(dt, 2), arr(dt, 1)),
        "hidden_forward": (arr(dt, 2), arr(dt, 1), i64, arr(dt, 2), b1, arr(dt, 2), b1,
                           u64, arr(i64, 1), i64, u64, dt),
        "output_delta": (arr(dt, 2), arr(dt, 1), i64, i64, arr(dt, 2), arr(dt, 1), b1,
                         arr(dt, 2), arr(f64, 1)),
        "sum_squares": (arr(dt, 1), i64, arr(f64, 1)),
        "finish_loss": (arr(f64, 1), arr(dt, 1), b1, i64, f64, arr(f64, 1), i64, f64,
                        arr(dt, 1), arr(f64, 1)),
        "column_sums": (arr(dt, 2), arr(dt, 1)),
        "hidden_backward": (arr(dt, 2), arr(dt, 2), i64, b1, u64, arr(i64, 1), i64, u64,
                            dt),
        "optimizer_step": (i64, arr(dt, 1), arr(dt, 1), arr(dt, 1), arr(dt, 1), i64, f64,
                           arr(dt, 1), arr(f64, 1), arr(f64, 1), arr(i64, 1)),
        "full_gradient": (arr(dt, 1), arr(dt, 1), i64, f64, arr(dt, 1)),
        "advance": (arr(i64, 1),),
    }
    for name, signature in signatures.items():
        try:
            ptx, _ = cuda.compile_ptx(getattr(k, name).py_func, signature, cc=(9, 0))
        except Exception as exc:          # NVVM missing: not the kernels' fault
            if "NVVM" in str(exc) or "libnvvm" in str(exc).lower():
                print(f"no NVVM: {exc}")
                sys.exit(3)
            raise
        print(np_dtype.__name__, name, ptx.count(".f64"))
