# cython: language_level=3, boundscheck=False, wraparound=False
# cython: cdivision=True, initializedcheck=False, nonecheck=False
# distutils: extra_compile_args = -ffp-contract=off -fno-math-errno -fopenmp-simd -pthread
# distutils: extra_link_args = -pthread
"""Training kernels, exported with C addresses for the Numba training loops.

Design: a training step is GEMMs plus memory-bound element-wise work, and the
split below follows where the GEMMs fall, so that each element-wise pass is
fused as far as the data flow allows:

    forward, per layer:   gemm, then bias_activation (z = act(z + b))
    output layer:         output_loss_delta: activation, data loss, then
                          delta = (p - y) * sw
    backward, per layer:  gemm (A^T delta), gemm (delta W^T), then
                          derivative_sums (the next delta and its column
                          sums; the output layer's delta takes column_sums)
    update:               flat_step: the L2 term, the division
                          by the sample-weight sum and the optimizer update
                          in one pass over the flat parameter buffer
                          (fastmlp._layout), so the raw gradients are never
                          scaled in a pass of their own; l2_sum gives a
                          layer's share of the L2 term of the loss, and
                          weight_sum the sample-weight sum of a batch

In float64 every kernel gives scikit-learn's bits: the same operations in
the same order, down to which BLAS routine NumPy's matmul picks for a
shape (_blas.pxd), NumPy's own exp and tanh loops (_npy_loops.h) and
NumPy's pairwise summation wherever NumPy sums a contiguous run
(_pairwise.h): a batch's weights, a single column's loss terms or its
intercept gradient, a softmax row, the columns' mean losses.

Each kernel is written once over the ``floating`` fused type as a
``cdef inline ... noexcept nogil`` function; fused functions have no single
C address, so thin ``cdef api`` wrappers ``<kernel>_f32`` / ``<kernel>_f64``
over raw pointers are what ``__pyx_capi__`` exports to
``numba.extending.get_cython_function_address``. Floating scalars cross that
boundary as C double in both variants (one ctypes prototype shape) and are
cast once to the kernel's type, so float32 arithmetic stays float32; sums
that a kernel returns (losses, float32 l2_sum) accumulate in double, which
is NumPy's own accumulator in float64. The ``def``
shims over typed memoryviews exist for the tests; they check shapes and call
the exported wrappers, so the tests exercise the exact C entry points.

Kernels never allocate and write only their OUT buffers. The optimizer
steps and the derivative follow the NumPy reference (fastmlp._optimizers,
numpy_engine) operation by operation and so give its bits, in float32 too.
Two portable flags keep that true and fast, neither of them fast-math:
-ffp-contract=off, so no compiler (clang by default, GCC where FMA is in the
target) fuses a multiply and an add into one rounding, and -fno-math-errno,
so sqrt, which never needs errno here, vectorizes (measured: Adam over 80k
float32 parameters 276 us with errno, 70 us without; NumPy's step 123 us).
The flat-buffer loops (optimizer steps, float32 L2 sum) live in
``_vector.h``, compiled once per x86 vector unit: 35 us for that Adam step
with AVX-512. -fopenmp-simd lets the L2 sum's one reduction loop vectorize.
"""

from cython cimport floating

from _activations cimport (
    ACT_IDENTITY, activation_codes, derivative_run, derivative_sums_block,
    hidden_derivative_codes, sklearns, times_derivative,
)
from _bf16 cimport (
    FASTMLP_BF16_AMX, FASTMLP_BF16_AVX512, fastmlp_bf16_gemm, fastmlp_bf16_set_level,
    fastmlp_bf16_support, fastmlp_round_bf16,
)
from _blas cimport dot, fastmlp_have_cblas, fastmlp_set_cblas
from _blas cimport gemm as _gemm
from _layers cimport activation_block, fastmlp_pairwise_sum_f64_block, pairwise_sum
from _layers cimport bias_activation as _bias_activation
from _layers cimport bias_activation_to as _bias_activation_to
from _losses cimport (
    LOSS_BINARY_LOG, LOSS_LOG, LOSS_POISSON, LOSS_SQUARED_ERROR, _clip, _eps, loss_term,
)
from _npy_loops cimport FASTMLP_NPY_EXP, FASTMLP_NPY_TANH, fastmlp_set_npy_loop

# Keyed by the loss names of fastmlp/_operations.py, which checks them.
LOSS_CODES = {
    "squared_error": LOSS_SQUARED_ERROR,
    "poisson": LOSS_POISSON,
    "log_loss": LOSS_LOG,
    "binary_log_loss": LOSS_BINARY_LOG,
}

# The optimizers' names by code, as _vector.h lists them; checked against
# fastmlp/_optimizers.py when the kernels load.
STEP_NAMES = []
cdef int _code = 0
while FASTMLP_STEP_NAMES[_code] != NULL:
    STEP_NAMES.append(FASTMLP_STEP_NAMES[_code].decode())
    _code += 1
STEP_NAMES = tuple(STEP_NAMES)

# The codes the hidden-layer derivative handles (_activations.pxd);
# fastmlp/_operations.py checks its hidden activations against them when
# the kernels load, and the shims refuse any other code.
HIDDEN_DERIVATIVE_CODES = hidden_derivative_codes()
_ACTIVATION_CODE_SET = frozenset(activation_codes().values())
_LOSS_CODE_SET = frozenset(LOSS_CODES.values())


def bf16_support():
    """This CPU's bfloat16 GEMM kernel: 'amx', 'avx512_bf16' or None (the
    first call asks Linux for AMX's tile data)."""
    cdef int level = fastmlp_bf16_support()
    if level == FASTMLP_BF16_AMX:
        return "amx"
    if level == FASTMLP_BF16_AVX512:
        return "avx512_bf16"
    return None


_NATIVE_BF16 = []      # the CPU's own kernel, once a test has switched


def _use_bf16_kernel(str kernel):
    """For the tests: make this module's bfloat16 GEMMs use ``kernel``
    ('amx' or 'avx512_bf16', which must be this CPU's or below it);
    returns the kernel used before."""
    cdef str before = bf16_support()
    if not _NATIVE_BF16:
        _NATIVE_BF16.append(before)
    native = _NATIVE_BF16[0]
    levels = {"amx": FASTMLP_BF16_AMX, "avx512_bf16": FASTMLP_BF16_AVX512}
    if kernel not in levels or native is None or levels[kernel] > levels[native]:
        raise ValueError(f"this CPU cannot run the {kernel!r} kernel")
    fastmlp_bf16_set_level(levels[kernel])
    return before


def round_bf16(const float[::1] x, float[::1] out):
    """out = x rounded to bfloat16 (to nearest even), as float32."""
    if x.shape[0] != out.shape[0]:
        raise ValueError("x and out differ in size")
    if x.shape[0]:
        with nogil:
            fastmlp_round_bf16(&x[0], &out[0], x.shape[0])


# The jobs, one file each; the exported twins are generated by setup.py from
# fastmlp/_kernel_api.py.
include "_train_losses.pxi"
include "_train_passes.pxi"
include "_train_api.pxi"
include "_train_shims.pxi"
include "_train_pool.pxi"
include "_shuffle.pxi"

include "_cblas_setters.pxi"
include "_npy_loops.pxi"
