# The output layer's loss and delta, the data loss in NumPy's order of
# additions, and the column sums of the backward pass: fused kernels over
# ``floating``, included by _train.pyx.

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


cdef extern from "_vector.h" nogil:
    void fastmlp_clipped_logs_f32(const float *p, double *out, Py_ssize_t n)


# A float32 log loss takes its logs this many terms at a time: at least two
# rows of a pairwise leaf (at most FASTMLP_PW_BLOCKSIZE columns).
cdef enum:
    _LOG_CHUNK = 256


cdef void _log_loss_sums_f32(
    const float *p, const float *y, const float *sw, Py_ssize_t n_rows,
    Py_ssize_t n_cols, Py_ssize_t lo, Py_ssize_t n, double *out,
) noexcept nogil:
    """out[j] += xlogy(y, clip(p)) * w down the rows of columns lo .. lo + n
    (n at most FASTMLP_PW_BLOCKSIZE), as _column_means adds them, with the
    clips and logs of a chunk of rows taken in one vectorized pass
    (fastmlp_clipped_logs_f32; its logs are within 2 ulp of libm's: a
    float32 model's loss is double arithmetic on its float32 outputs, not
    scikit-learn's bits). Every entry takes its term: where y is 0 and p no
    NaN, y * log(pc) * w is a zero, which leaves the sum as it is (see
    _column_means), and choosing the entries to keep branched on each row's
    class, mispredicted once a row."""
    cdef double logs[_LOG_CHUNK]
    cdef Py_ssize_t i = 0, j, r, rows, chunk
    cdef const float *yr
    cdef double total
    if n == 0:
        return
    chunk = _LOG_CHUNK // n
    while i < n_rows:
        rows = min(chunk, n_rows - i)
        if n == n_cols:
            fastmlp_clipped_logs_f32(p + i * n_cols, logs, rows * n)
        else:
            for r in range(rows):
                fastmlp_clipped_logs_f32(p + (i + r) * n_cols + lo, logs + r * n, n)
        for j in range(n):
            total = out[j]
            yr = y + i * n_cols + lo + j
            if sw == NULL:
                for r in range(rows):
                    total += yr[r * n_cols] * logs[r * n + j]
            else:
                for r in range(rows):
                    total += (yr[r * n_cols] * logs[r * n + j]) * <double> sw[i + r]
            out[j] = total
        i += rows


cdef void _binary_log_terms_f32(
    const float *p, const float *y, const float *sw, Py_ssize_t n, double *out,
) noexcept nogil:
    """out[i] = (xlogy(y, pc) + xlogy(1 - y, 1 - pc)) * w for n <=
    FASTMLP_PW_BLOCKSIZE rows of a float32 logistic output, the logs of pc
    and of 1 - pc each taken in one vectorized pass (as _log_loss_sums_f32
    takes them). Where y is 0 or 1, the other term is a zero times a
    (nonzero) log: a signed zero, which leaves the sum as xlogy's 0 does."""
    cdef double logs[FASTMLP_PW_BLOCKSIZE]
    cdef double logs_rest[FASTMLP_PW_BLOCKSIZE]
    cdef float rest[FASTMLP_PW_BLOCKSIZE]
    cdef float one = 1, eps = _eps(one)
    cdef double target
    cdef Py_ssize_t i
    fastmlp_clipped_logs_f32(p, logs, n)
    for i in range(n):
        rest[i] = one - _clip(p[i], eps, one - eps)
    fastmlp_clipped_logs_f32(rest, logs_rest, n)
    for i in range(n):
        target = y[i]
        out[i] = target * logs[i] + (1.0 - target) * logs_rest[i]
    if sw != NULL:
        for i in range(n):
            out[i] = out[i] * <double> sw[i]


cdef inline void _row_terms(
    const floating *p, const floating *y, const floating *sw, Py_ssize_t lo,
    Py_ssize_t n, int loss_code, double *out,
) noexcept nogil:
    """out[i] = loss term of row lo + i of a single column, times its weight
    (np.multiply(terms, weights), in double)."""
    cdef Py_ssize_t i
    p += lo
    y += lo
    if floating is float and loss_code == LOSS_BINARY_LOG:
        _binary_log_terms_f32(p, y, NULL if sw == NULL else sw + lo, n, out)
        return
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
    if loss_code == LOSS_LOG:
        # xlogy(0, pc) is 0 unless pc is NaN, and adding a zero (of either
        # sign) leaves a column's sum as it is (the sums never hold -0:
        # they start at +0 and the other terms are nonzero). So float64
        # takes a term for the targets' nonzero entries and NaN outputs
        # only: one log per row for one-hot targets, none of the clips of
        # the others; float32 takes every term, its logs in vector passes.
        # (Unweighted, w = 1: a product by 1 is exact.)
        if floating is float:
            _log_loss_sums_f32(p, y, sw, n_rows, n_cols, lo, n, out)
        else:
            for i in range(n_rows):
                pr = p + i * n_cols + lo
                yr = y + i * n_cols + lo
                w = 1 if sw == NULL else sw[i]
                for j in range(n):
                    if yr[j] != 0 or pr[j] != pr[j]:
                        out[j] += loss_term(yr[j], pr[j], LOSS_LOG) * w
        for j in range(n):
            out[j] /= scale
        return
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


# --- what the exported twins call (_train_api.pxi) ---------------------------

cdef inline double _api_output_loss_delta(
    floating *z, const floating *y, const floating *sw, Py_ssize_t n_rows,
    Py_ssize_t n_cols, int out_code, int loss_code, floating *delta,
) noexcept nogil:
    return _output_loss_delta(z, y, sw, n_rows, n_cols, out_code, loss_code, delta)


cdef inline void _api_column_sums(
    const floating *a, Py_ssize_t n_rows, Py_ssize_t n_cols, floating *out,
) noexcept nogil:
    _column_sums(a, n_rows, n_cols, out)


cdef inline double _api_weight_sum(const floating *sw, Py_ssize_t n) noexcept nogil:
    return pairwise_sum(sw, n, 1)
