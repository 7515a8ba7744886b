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
    backward, per layer:  gemm (A^T delta), column_sums (delta), gemm
                          (delta W^T), then derivative_multiply
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
    ACT_IDENTITY, activation_codes, derivative_run, hidden_derivative_codes, sklearns,
    times_derivative,
)
from _blas cimport dot, fastmlp_have_cblas, fastmlp_set_cblas
from _blas cimport gemm as _gemm
from _layers cimport activation_block, fastmlp_pairwise_sum_f64_block, pairwise_sum
from _layers cimport bias_activation as _bias_activation
from _layers cimport bias_activation_to as _bias_activation_to
from _losses cimport (
    LOSS_BINARY_LOG, LOSS_LOG, LOSS_POISSON, LOSS_SQUARED_ERROR, loss_term,
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


# ---------------------------------------------------------------------------
# The kernels, once each over ``floating``.

cdef inline void _derivative_multiply(
    const floating *a,      # IN: n, the layer's activation output
    floating *delta,        # IN/OUT: n
    Py_ssize_t n,
    int code,
) noexcept nogil:
    cdef Py_ssize_t i
    if code == ACT_IDENTITY:
        return
    if not sklearns(code):
        derivative_run(a, delta, n, code)
        return
    for i in range(n):
        delta[i] = times_derivative(delta[i], a[i], code)


# The loss sums below work on blocks of at most FASTMLP_PW_BLOCKSIZE terms,
# kept in a local array: the leaves of NumPy's pairwise summation.
cdef extern from "_pairwise.h" nogil:
    enum: FASTMLP_PW_BLOCKSIZE


cdef inline void _row_terms(
    const floating *p, const floating *y, const floating *sw, Py_ssize_t lo,
    Py_ssize_t n, int loss_code, double *out,
) noexcept nogil:
    """out[i] = loss term of row lo + i of a single column, times its weight
    (np.multiply(terms, weights), in double)."""
    cdef Py_ssize_t i
    p += lo
    y += lo
    # One loop per loss and weighting, so that each compiles straight.
    if sw == NULL:
        if loss_code == LOSS_SQUARED_ERROR:
            for i in range(n):
                out[i] = loss_term(y[i], p[i], LOSS_SQUARED_ERROR)
        else:
            for i in range(n):
                out[i] = loss_term(y[i], p[i], loss_code)
    else:
        sw += lo
        if loss_code == LOSS_SQUARED_ERROR:
            for i in range(n):
                out[i] = loss_term(y[i], p[i], LOSS_SQUARED_ERROR) * sw[i]
        else:
            for i in range(n):
                out[i] = loss_term(y[i], p[i], loss_code) * sw[i]


cdef inline void _column_means(
    const floating *p, const floating *y, const floating *sw,
    Py_ssize_t n_rows, Py_ssize_t n_cols, Py_ssize_t lo, Py_ssize_t n,
    int loss_code, double scale, double *out,
) noexcept nogil:
    """out[j] = weighted mean loss of column lo + j, its terms (times the
    weights) added row by row onto 0, as NumPy reduces several columns."""
    cdef Py_ssize_t i, j
    cdef const floating *pr
    cdef const floating *yr
    cdef floating w
    for j in range(n):
        out[j] = 0
    for i in range(n_rows):
        pr = p + i * n_cols + lo
        yr = y + i * n_cols + lo
        if sw == NULL:
            if loss_code == LOSS_SQUARED_ERROR:
                for j in range(n):
                    out[j] += loss_term(yr[j], pr[j], LOSS_SQUARED_ERROR)
            else:
                for j in range(n):
                    out[j] += loss_term(yr[j], pr[j], loss_code)
        else:
            w = sw[i]
            for j in range(n):
                out[j] += loss_term(yr[j], pr[j], loss_code) * w
    for j in range(n):
        out[j] /= scale


cdef double _pairwise_loss(
    const floating *p, const floating *y, const floating *sw,
    Py_ssize_t n_rows, Py_ssize_t n_cols, int loss_code, double scale,
    Py_ssize_t lo, Py_ssize_t n,
) noexcept nogil:
    """NumPy's pairwise sum (_pairwise.h) of leaves lo .. lo + n - 1: the
    weighted terms of the rows of a single column (n_cols = 1), else the
    columns' weighted means."""
    cdef double leaves[FASTMLP_PW_BLOCKSIZE]
    cdef Py_ssize_t half
    if n > FASTMLP_PW_BLOCKSIZE:
        half = n // 2
        half -= half % 8
        return (_pairwise_loss(p, y, sw, n_rows, n_cols, loss_code, scale,
                               lo, half)
                + _pairwise_loss(p, y, sw, n_rows, n_cols, loss_code, scale,
                                 lo + half, n - half))
    if n_cols == 1:
        _row_terms(p, y, sw, lo, n, loss_code, leaves)
    else:
        _column_means(p, y, sw, n_rows, n_cols, lo, n, loss_code, scale,
                      leaves)
    return fastmlp_pairwise_sum_f64_block(leaves, n, 1)


cdef inline double _data_loss(
    const floating *p,      # IN: n_rows x n_cols output activations
    const floating *y,      # IN: n_rows x n_cols targets
    const floating *sw,     # IN: n_rows sample weights, or NULL
    Py_ssize_t n_rows,
    Py_ssize_t n_cols,
    int loss_code,
) noexcept nogil:
    """scikit-learn's LOSS_FUNCTIONS[...](y, p, sw), summed in its order.

    np.average(terms, weights=sw, axis=0): per column, the sum over rows of
    term * w, divided by the (pairwise) sum of the weights, or the mean of
    the terms; then .sum() or, for squared_error, 0.5 * .mean() over the
    columns. NumPy sums a single column pairwise but several columns row by
    row; the sum over the columns is pairwise. Terms, products and sums are
    in double whatever the data's type (loss_term), so a float32 model's
    weights are summed in double too, as np.average sums them against
    float64 terms.
    """
    cdef double scale, total
    cdef Py_ssize_t i
    if sw == NULL:
        scale = <double> n_rows
    elif floating is double:
        scale = pairwise_sum(sw, n_rows, 1)
    else:
        scale = 0.0
        for i in range(n_rows):
            scale += sw[i]
    if n_cols == 1:
        total = 0.0 + (0.0 + _pairwise_loss(p, y, sw, n_rows, 1, loss_code,
                                            scale, 0, n_rows)) / scale
    else:
        total = 0.0 + _pairwise_loss(p, y, sw, n_rows, n_cols, loss_code,
                                     scale, 0, n_cols)
    if loss_code == LOSS_SQUARED_ERROR:
        return 0.5 * (total / n_cols)
    if loss_code == LOSS_LOG or loss_code == LOSS_BINARY_LOG:
        return -total
    return total


cdef inline double _output_loss_delta(
    floating *z,            # IN/OUT: n_rows x n_cols; pre-activation in,
                            #   output activation p out
    const floating *y,      # IN: n_rows x n_cols targets
    const floating *sw,     # IN: n_rows sample weights, or NULL
    Py_ssize_t n_rows,
    Py_ssize_t n_cols,
    int out_code,
    int loss_code,
    floating *delta,        # OUT: n_rows x n_cols, (p - y) * sw; may be z
) noexcept nogil:
    cdef Py_ssize_t i, j, n = n_rows * n_cols
    cdef floating *dr
    cdef const floating *pr
    cdef const floating *yr
    cdef floating w
    cdef double loss
    activation_block(z, n_rows, n_cols, out_code)
    # The loss before delta: delta may overwrite p.
    loss = _data_loss(z, y, sw, n_rows, n_cols, loss_code)
    if sw == NULL:
        for i in range(n):
            delta[i] = z[i] - y[i]
    else:
        for i in range(n_rows):
            pr = z + i * n_cols
            yr = y + i * n_cols
            dr = delta + i * n_cols
            w = sw[i]
            for j in range(n_cols):
                dr[j] = (pr[j] - yr[j]) * w
    return loss


cdef inline void _column_sums(
    const floating *a,      # IN: row-major n_rows x n_cols
    Py_ssize_t n_rows,
    Py_ssize_t n_cols,
    floating *out,          # OUT: n_cols
) noexcept nogil:
    """np.sum(a, axis=0), in NumPy's order of additions."""
    cdef Py_ssize_t i, j
    cdef const floating *row
    cdef floating zero = 0
    if n_cols == 1:
        # A single column is one contiguous run: NumPy sums it pairwise.
        out[0] = pairwise_sum(a, n_rows, 1)
        return
    # Several columns NumPy adds row by row onto 0: the same order of
    # additions, and a vectorizable inner loop.
    for j in range(n_cols):
        out[j] = zero
    for i in range(n_rows):
        row = a + i * n_cols
        for j in range(n_cols):
            out[j] += row[j]


cdef extern from "_vector.h" nogil:
    # Every optimizer's step, by its code (fastmlp/_optimizers.py).
    const char *FASTMLP_STEP_NAMES[]
    const int FASTMLP_STEP_N_HYPER[]
    void fastmlp_flat_step_f32(
        int code, float *params, const float *grad, float *state_a,
        float *state_b, Py_ssize_t n_params, Py_ssize_t n_coef, double alpha,
        double sw_sum, double rate, const double *hyper)
    void fastmlp_flat_step_f64(
        int code, double *params, const double *grad, double *state_a,
        double *state_b, Py_ssize_t n_params, Py_ssize_t n_coef, double alpha,
        double sw_sum, double rate, const double *hyper)
    double fastmlp_sum_squares_f32(const float *x, Py_ssize_t n)
    void fastmlp_gather_rows(const char *src, Py_ssize_t row_bytes,
                             const Py_ssize_t *rows, Py_ssize_t n_rows,
                             char *dst)


cdef extern from "_dropout.h" nogil:
    ctypedef unsigned int uint32_t
    ctypedef unsigned long long uint64_t
    uint32_t fastmlp_dropout_key(uint64_t seed, uint64_t step, uint64_t layer)
    void fastmlp_dropout_f32(const float *x, float *out, Py_ssize_t lo,
                             Py_ssize_t n, uint32_t key, uint32_t threshold,
                             double scale)
    void fastmlp_dropout_f64(const double *x, double *out, Py_ssize_t lo,
                             Py_ssize_t n, uint32_t key, uint32_t threshold,
                             double scale)


cdef extern from "_pool.h" nogil:
    ctypedef void (*fastmlp_task)(void *arg, int part, int n_parts) noexcept nogil
    void fastmlp_pool_dispatch(fastmlp_task task, void *arg, int n_parts,
                               int must_share)
    int fastmlp_pool_install(size_t set_backend, size_t current_backend,
                             size_t get_num_threads)
    int fastmlp_pool_parts(Py_ssize_t work, Py_ssize_t min_work)
    int fastmlp_pool_workers()
    int fastmlp_pool_attach(size_t set_backend, size_t current_backend)
    int fastmlp_pool_installed()
    void fastmlp_part_range(Py_ssize_t n, int part, int n_parts,
                            Py_ssize_t align, Py_ssize_t *lo, Py_ssize_t *hi)


# Least work worth splitting over the pool (_pool.h): below it, waking the
# workers costs more than the part they would take. The activation passes
# run right after a GEMM that OpenBLAS partitioned its own way, so a split
# also moves half the block between the cores' caches: a whole training step
# pays for that below ~10^5 entries even where the pass alone splits well.
# The values: fastmlp/_tunables.py, through setup.py.
cdef extern from *:
    """
    #if !defined(FASTMLP_PARALLEL_MIN_STEP) || !defined(FASTMLP_PARALLEL_MIN_ELEMENTS) \\
        || !defined(FASTMLP_PARALLEL_MIN_BYTES) || !defined(FASTMLP_MATH_PASS_WEIGHT)
    #error "build the kernels with setup.py: it defines the tunables of fastmlp/_tunables.py"
    #endif
    """
    enum:
        PARALLEL_MIN_STEP "FASTMLP_PARALLEL_MIN_STEP"
        PARALLEL_MIN_ELEMENTS "FASTMLP_PARALLEL_MIN_ELEMENTS"
        PARALLEL_MIN_BYTES "FASTMLP_PARALLEL_MIN_BYTES"
        MATH_PASS_WEIGHT "FASTMLP_MATH_PASS_WEIGHT"

cdef enum:
    LINE_BYTES = 64


cdef inline double _l2_sum(
    const floating *params,  # IN: n entries, one layer's coefficients
    Py_ssize_t n,
) noexcept nogil:
    """The sum of squares of one layer's coefficients.

    float64: np.dot(w, w), as scikit-learn forms its L2 term layer by layer
    (BLAS's DOT, _blas.pxd). float32: accumulated in double, where the
    squares are exact, in a vectorized pass (_vector.h).
    """
    if floating is float:
        return fastmlp_sum_squares_f32(params, n)
    else:
        return dot(n, params, 1, params, 1)


# ---------------------------------------------------------------------------
# The element-wise passes, split over the pool that OpenBLAS's GEMMs also run
# on (_pool.h). Each part is the serial kernel on a slice: rows for the
# row-wise passes, cache-line-aligned ranges for the flat ones, so a split
# pass writes exactly the serial pass's bits. The parts of one pass are
# described by a struct of untyped pointers plus the item size, because a
# task is one C function for both dtypes.

cdef struct _FlatStep:
    int code                 # the optimizer's (FASTMLP_STEP_NAMES)
    char *params
    const char *grad
    char *state_a            # e.g. Adam's m, SGD's velocity
    char *state_b            # e.g. Adam's v
    Py_ssize_t n_params
    Py_ssize_t n_coef
    Py_ssize_t itemsize
    double alpha
    double sw_sum
    double rate
    const double *hyper      # the optimizer's scalars


cdef inline void _flat_step_slice(
    _FlatStep *s, Py_ssize_t lo, Py_ssize_t hi, floating dtype,
) noexcept nogil:
    """The step on entries [lo, hi); ``dtype`` only picks the variant."""
    cdef Py_ssize_t n = hi - lo
    cdef Py_ssize_t n_coef = min(max(s.n_coef - lo, 0), n)
    cdef floating *params = <floating *> s.params + lo
    cdef const floating *grad = <const floating *> s.grad + lo
    cdef floating *state_a = <floating *> s.state_a + lo
    cdef floating *state_b = <floating *> s.state_b + lo
    # The loops are in _vector.h (multiversioned; each optimizer's operation
    # order, the reference's, is spelled out there).
    if floating is float:
        fastmlp_flat_step_f32(s.code, params, grad, state_a, state_b, n, n_coef,
                              s.alpha, s.sw_sum, s.rate, s.hyper)
    else:
        fastmlp_flat_step_f64(s.code, params, grad, state_a, state_b, n, n_coef,
                              s.alpha, s.sw_sum, s.rate, s.hyper)


cdef void _flat_step_part(void *arg, int part, int n_parts) noexcept nogil:
    cdef _FlatStep *s = <_FlatStep *> arg
    cdef Py_ssize_t lo, hi
    fastmlp_part_range(s.n_params, part, n_parts, LINE_BYTES // s.itemsize,
                       &lo, &hi)
    if hi == lo:
        return
    if s.itemsize == 4:
        _flat_step_slice(s, lo, hi, <float> 0)
    else:
        _flat_step_slice(s, lo, hi, <double> 0)


cdef inline void _flat_step(_FlatStep *step) noexcept nogil:
    fastmlp_pool_dispatch(_flat_step_part, step,
                          fastmlp_pool_parts(step.n_params, PARALLEL_MIN_STEP), 0)


cdef struct _RowPass:
    char *z                  # bias_activation: z; derivative: delta
    const char *other        # bias_activation: b; derivative: a (or z)
    char *out                # bias_activation: act(z + b), or z itself
    Py_ssize_t n_rows        # derivative: entries, as one row each
    Py_ssize_t n_cols
    Py_ssize_t itemsize
    int code
    bint derivative


cdef inline void _row_pass_slice(
    _RowPass *r, Py_ssize_t lo, Py_ssize_t hi, floating dtype,
) noexcept nogil:
    """The pass on rows [lo, hi); ``dtype`` only picks the variant."""
    cdef floating *z = <floating *> r.z + lo * r.n_cols
    if r.derivative:
        _derivative_multiply(<const floating *> r.other + lo, z, hi - lo, r.code)
    elif r.out == r.z:
        _bias_activation(z, <const floating *> r.other, hi - lo, r.n_cols, r.code)
    else:
        _bias_activation_to(z, <const floating *> r.other,
                            <floating *> r.out + lo * r.n_cols, hi - lo, r.n_cols,
                            r.code)


cdef void _row_pass_part(void *arg, int part, int n_parts) noexcept nogil:
    cdef _RowPass *r = <_RowPass *> arg
    cdef Py_ssize_t lo, hi
    fastmlp_part_range(r.n_rows, part, n_parts,
                       LINE_BYTES // r.itemsize if r.derivative else 1, &lo, &hi)
    if hi == lo:
        return
    if r.itemsize == 4:
        _row_pass_slice(r, lo, hi, <float> 0)
    else:
        _row_pass_slice(r, lo, hi, <double> 0)


cdef inline void _row_pass(_RowPass *rows) noexcept nogil:
    cdef Py_ssize_t work = rows.n_rows * rows.n_cols
    if not sklearns(rows.code):
        work *= MATH_PASS_WEIGHT      # libm per element (_tunables.py)
    fastmlp_pool_dispatch(_row_pass_part, rows,
                          fastmlp_pool_parts(work, PARALLEL_MIN_ELEMENTS), 0)


cdef struct _Dropout:
    const char *x
    char *out
    Py_ssize_t n
    Py_ssize_t itemsize
    uint32_t key
    uint32_t threshold
    double scale


cdef void _dropout_part(void *arg, int part, int n_parts) noexcept nogil:
    cdef _Dropout *d = <_Dropout *> arg
    cdef Py_ssize_t lo, hi
    fastmlp_part_range(d.n, part, n_parts, LINE_BYTES // d.itemsize, &lo, &hi)
    if hi == lo:
        return
    if d.itemsize == 4:
        fastmlp_dropout_f32(<const float *> d.x + lo, <float *> d.out + lo, lo,
                            hi - lo, d.key, d.threshold, d.scale)
    else:
        fastmlp_dropout_f64(<const double *> d.x + lo, <double *> d.out + lo, lo,
                            hi - lo, d.key, d.threshold, d.scale)


cdef inline void _dropout(const char *x, char *out, Py_ssize_t n, Py_ssize_t itemsize,
                          Py_ssize_t seed, Py_ssize_t step, Py_ssize_t layer,
                          Py_ssize_t threshold, double scale) noexcept nogil:
    cdef _Dropout d = _Dropout(
        x, out, n, itemsize,
        fastmlp_dropout_key(<uint64_t> seed, <uint64_t> step, <uint64_t> layer),
        <uint32_t> threshold, scale)
    fastmlp_pool_dispatch(_dropout_part, &d,
                          fastmlp_pool_parts(n, PARALLEL_MIN_ELEMENTS), 0)


cdef struct _Gather:
    const char *src
    Py_ssize_t row_bytes
    const Py_ssize_t *rows
    Py_ssize_t n_rows
    char *dst


cdef void _gather_part(void *arg, int part, int n_parts) noexcept nogil:
    cdef _Gather *g = <_Gather *> arg
    cdef Py_ssize_t lo, hi
    fastmlp_part_range(g.n_rows, part, n_parts, 1, &lo, &hi)
    fastmlp_gather_rows(g.src, g.row_bytes, g.rows + lo, hi - lo,
                        g.dst + lo * g.row_bytes)


# ---------------------------------------------------------------------------
# The exported C entry points (``__pyx_capi__``), for the Numba loops.
# Pointers are row-major and contiguous; only true inputs are const.

cdef api void gemm_f32(
    int trans_a, int trans_b, int m, int n, int k, double alpha,
    const float *a, int lda, const float *b, int ldb, double beta,
    float *c, int ldc,
) noexcept nogil:
    """c = alpha * op(a) @ op(b) + beta * c (c OUT), through _blas.pxd."""
    _gemm(trans_a != 0, trans_b != 0, m, n, k, <float> alpha, a, lda, b, ldb,
          <float> beta, c, ldc)


cdef api void gemm_f64(
    int trans_a, int trans_b, int m, int n, int k, double alpha,
    const double *a, int lda, const double *b, int ldb, double beta,
    double *c, int ldc,
) noexcept nogil:
    """c = alpha * op(a) @ op(b) + beta * c (c OUT), through _blas.pxd."""
    _gemm(trans_a != 0, trans_b != 0, m, n, k, alpha, a, lda, b, ldb,
          beta, c, ldc)


cdef api void bias_activation_f32(
    float *z, const float *b, float *out, Py_ssize_t n_rows, Py_ssize_t n_cols,
    int code,
) noexcept nogil:
    """out = act(z + b); with out != z, z keeps z + b (the pre-activation)."""
    cdef _RowPass rows = _RowPass(<char *> z, <const char *> b, <char *> out,
                                  n_rows, n_cols, 4, code, False)
    _row_pass(&rows)


cdef api void bias_activation_f64(
    double *z, const double *b, double *out, Py_ssize_t n_rows, Py_ssize_t n_cols,
    int code,
) noexcept nogil:
    """out = act(z + b); with out != z, z keeps z + b (the pre-activation)."""
    cdef _RowPass rows = _RowPass(<char *> z, <const char *> b, <char *> out,
                                  n_rows, n_cols, 8, code, False)
    _row_pass(&rows)


cdef api void derivative_multiply_f32(
    const float *a, float *delta, Py_ssize_t n, int code,
) noexcept nogil:
    cdef _RowPass rows = _RowPass(<char *> delta, <const char *> a, NULL, n, 1,
                                  4, code, True)
    _row_pass(&rows)


cdef api void derivative_multiply_f64(
    const double *a, double *delta, Py_ssize_t n, int code,
) noexcept nogil:
    cdef _RowPass rows = _RowPass(<char *> delta, <const char *> a, NULL, n, 1,
                                  8, code, True)
    _row_pass(&rows)


cdef api double output_loss_delta_f32(
    float *z, const float *y, const float *sw, Py_ssize_t n_rows,
    Py_ssize_t n_cols, int out_code, int loss_code, float *delta,
) noexcept nogil:
    return _output_loss_delta(z, y, sw, n_rows, n_cols, out_code, loss_code,
                              delta)


cdef api double output_loss_delta_f64(
    double *z, const double *y, const double *sw, Py_ssize_t n_rows,
    Py_ssize_t n_cols, int out_code, int loss_code, double *delta,
) noexcept nogil:
    return _output_loss_delta(z, y, sw, n_rows, n_cols, out_code, loss_code,
                              delta)


cdef api void column_sums_f32(
    const float *a, Py_ssize_t n_rows, Py_ssize_t n_cols, float *out,
) noexcept nogil:
    _column_sums(a, n_rows, n_cols, out)


cdef api void column_sums_f64(
    const double *a, Py_ssize_t n_rows, Py_ssize_t n_cols, double *out,
) noexcept nogil:
    _column_sums(a, n_rows, n_cols, out)


cdef api void flat_step_f32(
    int code, float *params, const float *grad, float *state_a, float *state_b,
    Py_ssize_t n_params, Py_ssize_t n_coef, double alpha, double sw_sum,
    double rate, const double *hyper,
) noexcept nogil:
    """The optimizer ``code``'s step, with the L2 term and the division by
    sw_sum fused (params, state_a, state_b IN/OUT; grad raw, IN)."""
    cdef _FlatStep step = _FlatStep(
        code, <char *> params, <const char *> grad, <char *> state_a,
        <char *> state_b, n_params, n_coef, 4, alpha, sw_sum, rate, hyper)
    _flat_step(&step)


cdef api void flat_step_f64(
    int code, double *params, const double *grad, double *state_a,
    double *state_b, Py_ssize_t n_params, Py_ssize_t n_coef, double alpha,
    double sw_sum, double rate, const double *hyper,
) noexcept nogil:
    """As flat_step_f32."""
    cdef _FlatStep step = _FlatStep(
        code, <char *> params, <const char *> grad, <char *> state_a,
        <char *> state_b, n_params, n_coef, 8, alpha, sw_sum, rate, hyper)
    _flat_step(&step)


cdef api void dropout_f32(
    const float *x, float *out, Py_ssize_t n, Py_ssize_t seed, Py_ssize_t step,
    Py_ssize_t layer, Py_ssize_t threshold, double scale,
) noexcept nogil:
    """out = x * scale where kept, else 0 (out may be x): hidden layer
    ``layer``'s dropout mask at ``step`` (fastmlp/_dropout.py)."""
    _dropout(<const char *> x, <char *> out, n, 4, seed, step, layer, threshold,
             scale)


cdef api void dropout_f64(
    const double *x, double *out, Py_ssize_t n, Py_ssize_t seed, Py_ssize_t step,
    Py_ssize_t layer, Py_ssize_t threshold, double scale,
) noexcept nogil:
    """As dropout_f32."""
    _dropout(<const char *> x, <char *> out, n, 8, seed, step, layer, threshold,
             scale)


cdef api double l2_sum_f32(const float *params, Py_ssize_t n) noexcept nogil:
    return _l2_sum(params, n)


cdef api double l2_sum_f64(const double *params, Py_ssize_t n) noexcept nogil:
    return _l2_sum(params, n)


cdef api double weight_sum_f32(const float *sw, Py_ssize_t n) noexcept nogil:
    """sw[0..n).sum() as NumPy sums it, in float32."""
    return pairwise_sum(sw, n, 1)


cdef api double weight_sum_f64(const double *sw, Py_ssize_t n) noexcept nogil:
    """sw[0..n).sum() as NumPy sums it."""
    return pairwise_sum(sw, n, 1)


cdef api void gather_rows(
    const char *src, Py_ssize_t row_bytes, const Py_ssize_t *rows,
    Py_ssize_t n_rows, char *dst,
) noexcept nogil:
    """dst[r] = src[rows[r]] for r < n_rows, rows of row_bytes bytes (dst OUT).

    One entry point for every dtype: a row is only bytes here. Used for the
    minibatch's inputs, targets and sample weights."""
    cdef _Gather g = _Gather(src, row_bytes, rows, n_rows, dst)
    fastmlp_pool_dispatch(
        _gather_part, &g,
        fastmlp_pool_parts(n_rows * row_bytes, PARALLEL_MIN_BYTES), 0)


# ---------------------------------------------------------------------------
# Python shims, for the tests only: validate, then call the exported entry
# points above. Memoryviews of different dtypes find no specialization.

def _check_code(int code, codes, str what):
    if code not in codes:
        raise ValueError(f"unknown {what} code {code}")


def gemm(bint trans_a, bint trans_b, double alpha,
         const floating[:, ::1] a, const floating[:, ::1] b, double beta,
         floating[:, ::1] c):
    """``c = alpha * op(a) @ op(b) + beta * c`` (a, b IN; c IN/OUT)."""
    cdef int m = a.shape[1] if trans_a else a.shape[0]
    cdef int k = a.shape[0] if trans_a else a.shape[1]
    cdef int kb = b.shape[1] if trans_b else b.shape[0]
    cdef int n = b.shape[0] if trans_b else b.shape[1]
    if k != kb or c.shape[0] != m or c.shape[1] != n:
        raise ValueError(
            f"shapes do not chain: op(a) ({m}, {k}), op(b) ({kb}, {n}), "
            f"c ({c.shape[0]}, {c.shape[1]})")
    if m == 0 or n == 0:
        return
    # BLAS wants leading dimensions of at least 1, even for empty operands.
    cdef int lda = max(<int> a.shape[1], 1)
    cdef int ldb = max(<int> b.shape[1], 1)
    with nogil:
        if floating is float:
            gemm_f32(trans_a, trans_b, m, n, k, alpha, &a[0, 0], lda,
                     &b[0, 0], ldb, beta, &c[0, 0], n)
        else:
            gemm_f64(trans_a, trans_b, m, n, k, alpha, &a[0, 0], lda,
                     &b[0, 0], ldb, beta, &c[0, 0], n)


def bias_activation(floating[:, ::1] z, const floating[::1] b, int code,
                    floating[:, ::1] out=None):
    """``z = act(z + b)`` in place (z IN/OUT, b IN); with ``out``,
    ``out = act(z + b)`` and z keeps ``z + b``."""
    _check_code(code, _ACTIVATION_CODE_SET, "activation")
    if z.shape[1] != b.shape[0]:
        raise ValueError(
            f"bias has {b.shape[0]} entries for {z.shape[1]} columns")
    if out is None:
        out = z
    elif out.shape[0] != z.shape[0] or out.shape[1] != z.shape[1]:
        raise ValueError(f"out {out.shape[0], out.shape[1]} and z "
                         f"{z.shape[0], z.shape[1]} differ in shape")
    if z.shape[0] == 0 or z.shape[1] == 0:
        return
    with nogil:
        if floating is float:
            bias_activation_f32(&z[0, 0], &b[0], &out[0, 0], z.shape[0],
                                z.shape[1], code)
        else:
            bias_activation_f64(&z[0, 0], &b[0], &out[0, 0], z.shape[0],
                                z.shape[1], code)


def derivative_multiply(const floating[:, ::1] a, floating[:, ::1] delta,
                        int code):
    """In place: ``delta *= act'(z)``, from the activation output a (IN),
    or from the pre-activation for an activation that needs it."""
    _check_code(code, HIDDEN_DERIVATIVE_CODES, "hidden activation")
    if a.shape[0] != delta.shape[0] or a.shape[1] != delta.shape[1]:
        raise ValueError(
            f"activation {a.shape[0], a.shape[1]} and delta "
            f"{delta.shape[0], delta.shape[1]} differ in shape")
    cdef Py_ssize_t n = a.shape[0] * a.shape[1]
    if n == 0:
        return
    with nogil:
        if floating is float:
            derivative_multiply_f32(&a[0, 0], &delta[0, 0], n, code)
        else:
            derivative_multiply_f64(&a[0, 0], &delta[0, 0], n, code)


def output_loss_delta(floating[:, ::1] z, const floating[:, ::1] y,
                      const floating[::1] sample_weight, int out_code,
                      int loss_code, floating[:, ::1] delta):
    """Output layer: z becomes p = act(z) (IN/OUT), delta = (p - y) * sw
    (OUT); returns the data loss. ``sample_weight`` may be None."""
    _check_code(out_code, _ACTIVATION_CODE_SET, "activation")
    _check_code(loss_code, _LOSS_CODE_SET, "loss")
    cdef Py_ssize_t n_rows = z.shape[0], n_cols = z.shape[1]
    if y.shape[0] != n_rows or y.shape[1] != n_cols \
            or delta.shape[0] != n_rows or delta.shape[1] != n_cols:
        raise ValueError(
            f"z {n_rows, n_cols}, y {y.shape[0], y.shape[1]} and delta "
            f"{delta.shape[0], delta.shape[1]} differ in shape")
    cdef const floating *sw = NULL
    if sample_weight is not None:
        if sample_weight.shape[0] != n_rows:
            raise ValueError(
                f"{sample_weight.shape[0]} sample weights for {n_rows} rows")
        if n_rows > 0:
            sw = &sample_weight[0]
    if n_rows == 0 or n_cols == 0:
        raise ValueError("the output layer is empty")
    cdef double loss
    with nogil:
        if floating is float:
            loss = output_loss_delta_f32(&z[0, 0], &y[0, 0], sw, n_rows,
                                         n_cols, out_code, loss_code,
                                         &delta[0, 0])
        else:
            loss = output_loss_delta_f64(&z[0, 0], &y[0, 0], sw, n_rows,
                                         n_cols, out_code, loss_code,
                                         &delta[0, 0])
    return loss


def column_sums(const floating[:, ::1] a, floating[::1] out):
    """``out = a.sum(axis=0)`` (a IN, out OUT)."""
    if out.shape[0] != a.shape[1]:
        raise ValueError(
            f"out has {out.shape[0]} entries for {a.shape[1]} columns")
    if a.shape[1] == 0:
        return
    # With no rows &a[0, 0] is never read; the data pointer still exists.
    with nogil:
        if floating is float:
            column_sums_f32(&a[0, 0], a.shape[0], a.shape[1], &out[0])
        else:
            column_sums_f64(&a[0, 0], a.shape[0], a.shape[1], &out[0])


def _check_flat(Py_ssize_t n_params, Py_ssize_t n_coef, sizes):
    for name, size in sizes:
        if size != n_params:
            raise ValueError(
                f"{name} has {size} entries for {n_params} parameters")
    if n_coef < 0 or n_coef > n_params:
        raise ValueError(f"n_coef={n_coef} is outside [0, {n_params}]")


def flat_step(int code, floating[::1] params, const floating[::1] grad,
              floating[::1] state_a, floating[::1] state_b, Py_ssize_t n_coef,
              double alpha, double sw_sum, double rate,
              const double[::1] hyper):
    """Fused L2 + 1/sw_sum + the step of optimizer ``code`` (params and the
    states IN/OUT; grad IN), as the engines call it with an optimizer's
    kernel_state()."""
    if code < 0 or code >= len(STEP_NAMES):
        raise ValueError(f"unknown optimizer code {code}")
    if hyper.shape[0] < FASTMLP_STEP_N_HYPER[code]:
        raise ValueError(f"{STEP_NAMES[code]} takes {FASTMLP_STEP_N_HYPER[code]} "
                         f"hyperparameters, got {hyper.shape[0]}")
    cdef Py_ssize_t n = params.shape[0]
    _check_flat(n, n_coef, [("grad", grad.shape[0]), ("state_a", state_a.shape[0]),
                            ("state_b", state_b.shape[0])])
    if n == 0:
        return
    with nogil:
        if floating is float:
            flat_step_f32(code, &params[0], &grad[0], &state_a[0], &state_b[0], n,
                          n_coef, alpha, sw_sum, rate, &hyper[0])
        else:
            flat_step_f64(code, &params[0], &grad[0], &state_a[0], &state_b[0], n,
                          n_coef, alpha, sw_sum, rate, &hyper[0])


def dropout(const floating[:, ::1] x, floating[:, ::1] out, Py_ssize_t seed,
            Py_ssize_t step, Py_ssize_t layer, double p):
    """``out = x / (1 - p)`` where hidden layer ``layer``'s mask at ``step``
    keeps an element, else 0 (x IN, out OUT; out may be x)."""
    if not 0 <= p < 1:
        raise ValueError(f"dropout rate {p} is outside [0, 1)")
    if seed < 0 or step < 0 or layer < 0:
        raise ValueError("seed, step and layer must be >= 0")
    if x.shape[0] != out.shape[0] or x.shape[1] != out.shape[1]:
        raise ValueError(f"x {x.shape[0], x.shape[1]} and out "
                         f"{out.shape[0], out.shape[1]} differ in shape")
    cdef Py_ssize_t n = x.shape[0] * x.shape[1]
    cdef Py_ssize_t threshold = <Py_ssize_t> (p * 4294967296.0)
    if n == 0:
        return
    with nogil:
        if floating is float:
            dropout_f32(&x[0, 0], &out[0, 0], n, seed, step, layer, threshold,
                        1.0 / (1.0 - p))
        else:
            dropout_f64(&x[0, 0], &out[0, 0], n, seed, step, layer, threshold,
                        1.0 / (1.0 - p))


def l2_sum(const floating[::1] params, Py_ssize_t n_coef):
    """Sum of squares of ``params[:n_coef]`` (IN): np.dot in float64, a
    double sum in float32."""
    _check_flat(params.shape[0], n_coef, [])
    if n_coef == 0:
        return 0.0
    cdef double total
    with nogil:
        if floating is float:
            total = l2_sum_f32(&params[0], n_coef)
        else:
            total = l2_sum_f64(&params[0], n_coef)
    return total


def weight_sum(const floating[::1] sw):
    """``sw.sum()`` (sw IN), in NumPy's order of additions and sw's type."""
    if sw.shape[0] == 0:
        return 0.0
    cdef double total
    with nogil:
        if floating is float:
            total = weight_sum_f32(&sw[0], sw.shape[0])
        else:
            total = weight_sum_f64(&sw[0], sw.shape[0])
    return total


def gather(const unsigned char[:, ::1] src, const Py_ssize_t[::1] rows,
           unsigned char[:, ::1] out):
    """out[r] = src[rows[r]] on uint8 views of the matrices."""
    cdef Py_ssize_t r, n = rows.shape[0]
    if out.shape[0] < n or out.shape[1] != src.shape[1]:
        raise ValueError(f"out is {out.shape[0]}x{out.shape[1]} for {n} rows "
                         f"of {src.shape[1]} bytes")
    for r in range(n):
        if rows[r] < 0 or rows[r] >= src.shape[0]:
            raise IndexError(f"row {rows[r]} is outside [0, {src.shape[0]})")
    if n == 0 or src.shape[1] == 0:
        return
    with nogil:
        gather_rows(<const char *> &src[0, 0], src.shape[1], &rows[0], n,
                    <char *> &out[0, 0])


# ---------------------------------------------------------------------------
# The pool (_pool.h), seen from Python.

def install_blas_pool(size_t set_backend, size_t current_backend,
                      size_t get_num_threads):
    """Make the pool OpenBLAS's threading backend; see fastmlp/_blas.py.

    Arguments are addresses in NumPy's OpenBLAS:
    openblas_set_threads_callback_function, the variable
    openblas_threads_callback_ and openblas_get_num_threads. Returns True
    when the pool is (or already was) the backend, False when another
    backend is installed or the platform has no pool."""
    return fastmlp_pool_install(set_backend, current_backend, get_num_threads) == 1


def attach_blas_pool(size_t set_backend, size_t current_backend):
    """Make the installed pool the threading backend of another OpenBLAS
    (SciPy's) too; arguments are the first two of install_blas_pool, in that
    library. Returns True when the pool is (or already was) its backend."""
    return fastmlp_pool_attach(set_backend, current_backend) == 1


cdef extern from "_pool.h":
    enum:
        FASTMLP_POOL_SPIN_NS
        FASTMLP_POOL_PAUSES


def compiled_tunables():
    """The C-level tunables this build was compiled with, by their names in
    fastmlp/_tunables.py."""
    return {
        "PARALLEL_MIN_STEP": PARALLEL_MIN_STEP,
        "PARALLEL_MIN_ELEMENTS": PARALLEL_MIN_ELEMENTS,
        "PARALLEL_MIN_BYTES": PARALLEL_MIN_BYTES,
        "MATH_PASS_WEIGHT": MATH_PASS_WEIGHT,
        "POOL_SPIN_NS": FASTMLP_POOL_SPIN_NS,
        "POOL_PAUSES": FASTMLP_POOL_PAUSES,
    }


def blas_pool_info():
    """(installed, worker threads started, parts a pass is split into now)."""
    return (bool(fastmlp_pool_installed()), fastmlp_pool_workers(),
            fastmlp_pool_parts(1, 0))


include "_cblas_setters.pxi"
include "_npy_loops.pxi"
