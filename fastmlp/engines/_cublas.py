"""cuBLAS's GEMMs for the CUDA engine, through ctypes.

The binding is the C library itself, found by cuda-pathfinder (which
numba-cuda installs): the pip wheel ``nvidia-cublas-cu12`` (or -cu13) or a
CUDA toolkit's. A call is a plain C call on the engine's stream, so it
works under CUDA stream capture (CuPy's cuBLAS refuses that: cupy#6290),
once a workspace of the engine's own is set (cuBLAS may not allocate one
during a capture). Nothing else is needed: no nvmath-python, no CuPy.

Only what the engine uses: create, destroy, set stream, set workspace,
math mode, and the single and double GEMMs with host-pointer alpha and beta.
"""

import ctypes

CUBLAS_OP_N, CUBLAS_OP_T = 0, 1
CUBLAS_DEFAULT_MATH, CUBLAS_TF32_TENSOR_OP_MATH = 0, 3
_SUCCESS = 0

_handle_t = ctypes.c_void_p
_gemm_args = [_handle_t, ctypes.c_int, ctypes.c_int, ctypes.c_int, ctypes.c_int,
              ctypes.c_int, ctypes.c_void_p, ctypes.c_void_p, ctypes.c_int,
              ctypes.c_void_p, ctypes.c_int, ctypes.c_void_p, ctypes.c_void_p,
              ctypes.c_int]
_PROTOTYPES = {
    "cublasCreate_v2": [ctypes.POINTER(_handle_t)],
    "cublasDestroy_v2": [_handle_t],
    "cublasSetStream_v2": [_handle_t, ctypes.c_void_p],
    "cublasSetWorkspace_v2": [_handle_t, ctypes.c_void_p, ctypes.c_size_t],
    "cublasSetMathMode": [_handle_t, ctypes.c_int],
    "cublasSgemm_v2": _gemm_args,
    "cublasDgemm_v2": _gemm_args,
}

_library = None


def library():
    """The cuBLAS library, loaded once (OSError or cuda-pathfinder's error
    when it is nowhere to be found)."""
    global _library
    if _library is None:
        from cuda.pathfinder import load_nvidia_dynamic_lib

        loaded = load_nvidia_dynamic_lib("cublas")
        lib = ctypes.CDLL(loaded.abs_path) if loaded.abs_path else \
            ctypes.CDLL(None, handle=loaded._handle_uint)
        for name, args in _PROTOTYPES.items():
            function = getattr(lib, name)
            function.argtypes = args
            function.restype = ctypes.c_int
        _library = lib
    return _library


def _check(status, what):
    if status != _SUCCESS:
        raise RuntimeError(f"cuBLAS {what} failed with status {status}")


class Handle:
    """One cuBLAS handle, bound to a stream, with a workspace of its own."""

    def __init__(self, stream, workspace, workspace_bytes):
        self._lib = library()
        handle = _handle_t()
        _check(self._lib.cublasCreate_v2(ctypes.byref(handle)), "create")
        self.value = handle
        _check(self._lib.cublasSetStream_v2(handle, ctypes.c_void_p(stream)), "set stream")
        _check(self._lib.cublasSetWorkspace_v2(handle, ctypes.c_void_p(workspace),
                                               workspace_bytes), "set workspace")

    def set_math_mode(self, mode):
        _check(self._lib.cublasSetMathMode(self.value, mode), "set math mode")

    def gemm(self, double, trans_a, trans_b, m, n, k, alpha, a, lda, b, ldb, beta, c,
             ldc):
        """cublas?gemm_v2, column-major; alpha and beta are host addresses,
        a, b, c device addresses."""
        function = self._lib.cublasDgemm_v2 if double else self._lib.cublasSgemm_v2
        _check(function(self.value, trans_a, trans_b, m, n, k, alpha, a, lda, b, ldb,
                        beta, c, ldc), "gemm")

    def destroy(self):
        if self.value is not None:
            self._lib.cublasDestroy_v2(self.value)
            self.value = None
