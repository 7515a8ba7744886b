# The memory-bound passes of a training step, split over the pool that
# OpenBLAS's GEMMs run on (_pool.h): bias + activation, derivative, dropout,
# the optimizer step over the flat buffer, the L2 sum, the minibatch gather.
# Included by _train.pyx.

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
    double fastmlp_sum_squares_chunked_f32(const float *x, Py_ssize_t n)
    Py_ssize_t fastmlp_l2_chunk(Py_ssize_t n)
    enum: FASTMLP_L2_MAX_CHUNKS
    void fastmlp_gather_rows(const char *src, Py_ssize_t row_bytes,
                             const Py_ssize_t *rows, Py_ssize_t n_rows,
                             char *dst)
    void fastmlp_transpose_f32(const float *src, Py_ssize_t rows, Py_ssize_t cols,
                               float *dst)


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
    int fastmlp_idle_acquire()
    int fastmlp_idle_arm_gather(const char *src, Py_ssize_t row_bytes,
                                const Py_ssize_t *rows, Py_ssize_t n_rows, char *dst)
    void fastmlp_idle_finish_gather(Py_ssize_t min_bytes)
    int fastmlp_idle_arm_check(const void *data, Py_ssize_t n, int single)
    int fastmlp_idle_finish_check(Py_ssize_t min_bytes)
    void fastmlp_idle_release()
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
    """The sum of squares of one layer's coefficients (or of all of them).

    float64: np.dot(w, w), as scikit-learn forms its L2 term layer by layer
    (BLAS's DOT, _blas.pxd). float32: accumulated in double, where the
    squares are exact, in vectorized passes over chunks (_vector.h), the
    order in which the optimizer step sums its parts (_flat_step_part).
    """
    if floating is float:
        return fastmlp_sum_squares_chunked_f32(params, n)
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
    double *chunk_sums       # float32: OUT, the L2 chunks' sums after the
                             # step (see _vector.h), or NULL


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
    cdef Py_ssize_t lo, hi, c, chunk = 0
    if s.chunk_sums != NULL:
        # Parts of whole L2 chunks, each summed while it is in this core's
        # cache, just written.
        chunk = fastmlp_l2_chunk(s.n_coef)
    fastmlp_part_range(s.n_params, part, n_parts,
                       chunk if chunk else LINE_BYTES // s.itemsize, &lo, &hi)
    if hi == lo:
        return
    if s.itemsize == 4:
        _flat_step_slice(s, lo, hi, <float> 0)
    else:
        _flat_step_slice(s, lo, hi, <double> 0)
    if chunk:
        c = lo
        while c < min(hi, s.n_coef):
            s.chunk_sums[c // chunk] = fastmlp_sum_squares_f32(
                <const float *> s.params + c, min(chunk, s.n_coef - c))
            c += chunk


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


# --- what the exported twins call (_train_api.pxi) ---------------------------

cdef inline void _api_gemm(
    int trans_a, int trans_b, int m, int n, int k, double alpha,
    const floating *a, int lda, const floating *b, int ldb, double beta,
    floating *c, int ldc,
) noexcept nogil:
    _gemm(trans_a != 0, trans_b != 0, m, n, k, <floating> alpha, a, lda, b, ldb,
          <floating> beta, c, ldc)


cdef inline void _api_gemm_bf16(
    int trans_a, int trans_b, int m, int n, int k, const floating *a, int lda,
    const floating *b, int ldb, floating *c, int ldc,
) noexcept nogil:
    # The trainer checks the CPU's support before a fit asks for this; it
    # fails only when its packing buffers cannot be had, and the float32
    # GEMM then stands in.
    if floating is float:
        if fastmlp_bf16_gemm(trans_a, trans_b, m, n, k, a, lda, b, ldb, c, ldc) == 0:
            return
    _gemm(trans_a != 0, trans_b != 0, m, n, k, <floating> 1, a, lda, b, ldb,
          <floating> 0, c, ldc)


cdef inline void _api_bias_activation(
    floating *z, const floating *b, floating *out, Py_ssize_t n_rows, Py_ssize_t n_cols,
    int code,
) noexcept nogil:
    cdef _RowPass rows = _RowPass(<char *> z, <const char *> b, <char *> out, n_rows,
                                  n_cols, sizeof(floating), code, False)
    _row_pass(&rows)


cdef inline void _api_derivative_multiply(
    const floating *a, floating *delta, Py_ssize_t n, int code,
) noexcept nogil:
    cdef _RowPass rows = _RowPass(<char *> delta, <const char *> a, NULL, n, 1,
                                  sizeof(floating), code, True)
    _row_pass(&rows)


cdef struct _DerivativeSums:
    const char *a
    char *delta
    char *sums
    Py_ssize_t n_rows
    Py_ssize_t n_cols
    Py_ssize_t itemsize
    int code


cdef inline void _derivative_sums_slice(
    _DerivativeSums *d, Py_ssize_t lo, Py_ssize_t hi, floating dtype,
) noexcept nogil:
    """Columns [lo, hi): each entry times its derivative, then added onto
    its column's sum, rows in order (column_sums' order of additions)."""
    derivative_sums_block(<const floating *> d.a, <floating *> d.delta, d.n_rows,
                          d.n_cols, lo, hi, d.code, <floating *> d.sums)


cdef void _derivative_sums_part(void *arg, int part, int n_parts) noexcept nogil:
    cdef _DerivativeSums *d = <_DerivativeSums *> arg
    cdef Py_ssize_t lo, hi
    fastmlp_part_range(d.n_cols, part, n_parts, LINE_BYTES // d.itemsize, &lo, &hi)
    if hi == lo:
        return
    if d.itemsize == 4:
        _derivative_sums_slice(d, lo, hi, <float> 0)
    else:
        _derivative_sums_slice(d, lo, hi, <double> 0)


cdef inline void _api_derivative_sums(
    const floating *a, floating *delta, Py_ssize_t n_rows, Py_ssize_t n_cols, int code,
    floating *sums,
) noexcept nogil:
    # The backward pass reads a hidden delta twice after its GEMM, for the
    # derivative and for the intercepts' gradient (its column sums); in one
    # pass it is read once (h(512,) b128: ~30 us a step in place). One pass
    # for scikit-learn's activations, whose derivative is one expression per
    # entry wherever the entry sits; the others run their vector loops
    # (_activations.h), then the sums. A single column NumPy sums pairwise.
    cdef _DerivativeSums d
    if not sklearns(code) or n_cols == 1:
        _api_derivative_multiply(a, delta, n_rows * n_cols, code)
        _column_sums(delta, n_rows, n_cols, sums)
        return
    d = _DerivativeSums(<const char *> a, <char *> delta, <char *> sums, n_rows, n_cols,
                        sizeof(floating), code)
    fastmlp_pool_dispatch(_derivative_sums_part, &d,
                          fastmlp_pool_parts(n_rows * n_cols, PARALLEL_MIN_ELEMENTS), 0)


cdef inline void _api_flat_step(
    int code, floating *params, const floating *grad, floating *state_a,
    floating *state_b, Py_ssize_t n_params, Py_ssize_t n_coef, double alpha,
    double sw_sum, double rate, const double *hyper,
) noexcept nogil:
    cdef _FlatStep step = _FlatStep(
        code, <char *> params, <const char *> grad, <char *> state_a,
        <char *> state_b, n_params, n_coef, sizeof(floating), alpha, sw_sum, rate, hyper,
        NULL)
    _flat_step(&step)


cdef inline double _api_flat_step_l2(
    int code, floating *params, const floating *grad, floating *state_a,
    floating *state_b, Py_ssize_t n_params, Py_ssize_t n_coef, double alpha,
    double sw_sum, double rate, const double *hyper,
) noexcept nogil:
    """_api_flat_step, then _l2_sum(params, n_coef) of the updated
    coefficients, the next step's L2 term; float32 sums them in the step's
    own pass, part by part (the same bits), float64 with its own DOT."""
    cdef double chunk_sums[FASTMLP_L2_MAX_CHUNKS]
    cdef double total = 0.0
    cdef Py_ssize_t c, chunk
    cdef _FlatStep step = _FlatStep(
        code, <char *> params, <const char *> grad, <char *> state_a,
        <char *> state_b, n_params, n_coef, sizeof(floating), alpha, sw_sum, rate, hyper,
        NULL)
    if floating is double:
        _flat_step(&step)
        return _l2_sum(params, n_coef)
    step.chunk_sums = chunk_sums
    _flat_step(&step)
    chunk = fastmlp_l2_chunk(n_coef)
    c = 0
    while c * chunk < n_coef:
        total += chunk_sums[c]
        c += 1
    return total


cdef inline void _api_dropout(
    const floating *x, floating *out, Py_ssize_t n, Py_ssize_t seed, Py_ssize_t step,
    Py_ssize_t layer, Py_ssize_t threshold, double scale,
) noexcept nogil:
    _dropout(<const char *> x, <char *> out, n, sizeof(floating), seed, step, layer,
             threshold, scale)


cdef inline double _api_l2_sum(const floating *params, Py_ssize_t n) noexcept nogil:
    return _l2_sum(params, n)


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


cdef api void transpose_f32(
    const float *src, Py_ssize_t rows, Py_ssize_t cols, float *dst,
) noexcept nogil:
    """dst (cols x rows) = src (rows x cols) transposed (dst OUT)."""
    fastmlp_transpose_f32(src, rows, cols, dst)


# The next minibatch's gather, posted for idle threads (_pool.h): a loop that
# owns the facility arms the gather of batch i + 1 during step i and finishes
# it at step i + 1. A loop that cannot own it gathers with gather_rows.

cdef api int idle_gather_acquire() noexcept nogil:
    """1 if this loop may arm idle gathers (one loop at a time), else 0."""
    return fastmlp_idle_acquire()


cdef api int idle_gather_arm(
    const char *src, Py_ssize_t row_bytes, const Py_ssize_t *rows,
    Py_ssize_t n_rows, char *dst,
) noexcept nogil:
    """Post dst[r] = src[rows[r]] as gather_rows would copy it; the owner
    only, after finishing its previous job. 0 if not posted (the caller
    gathers itself): also below PARALLEL_MIN_BYTES, where gather_rows
    copies it in the caller faster than a job's claims would (32 rows of
    20 float64: 0.2 us as a job, row by row)."""
    if n_rows * row_bytes < PARALLEL_MIN_BYTES:
        return 0
    return fastmlp_idle_arm_gather(src, row_bytes, rows, n_rows, dst)


cdef api void idle_gather_finish() noexcept nogil:
    """Copy what the idle threads left of the armed gather (on the pool when
    it is large enough) and wait until all its rows are in place."""
    fastmlp_idle_finish_gather(PARALLEL_MIN_BYTES)


cdef api void idle_gather_release() noexcept nogil:
    """Finish any armed gather and give the facility up."""
    fastmlp_idle_release()
