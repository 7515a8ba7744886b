# Python shims over the exported kernels, for the tests only: they check
# shapes and codes, then call the same C entry points the Numba loops call.
# Included by _train.pyx.

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


def gemm_bf16(bint trans_a, bint trans_b, const float[:, ::1] a,
              const float[:, ::1] b, float[:, ::1] c):
    """``c = op(a) @ op(b)`` with bfloat16 inputs and float32 sums (a, b IN;
    c OUT)."""
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
    cdef int lda = max(<int> a.shape[1], 1)
    cdef int ldb = max(<int> b.shape[1], 1)
    with nogil:
        gemm_bf16_f32(trans_a, trans_b, m, n, k, &a[0, 0], lda, &b[0, 0], ldb,
                      &c[0, 0], n)


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
    # (The loops take it fused with the column sums: derivative_sums.)
    with nogil:
        _api_derivative_multiply(&a[0, 0], &delta[0, 0], n, code)


def derivative_sums(const floating[:, ::1] a, floating[:, ::1] delta, int code,
                    floating[::1] sums):
    """In place: ``delta *= act'(z)`` as derivative_multiply; then ``sums =
    delta.sum(axis=0)`` as column_sums (sums OUT)."""
    _check_code(code, HIDDEN_DERIVATIVE_CODES, "hidden activation")
    if a.shape[0] != delta.shape[0] or a.shape[1] != delta.shape[1]:
        raise ValueError(
            f"activation {a.shape[0], a.shape[1]} and delta "
            f"{delta.shape[0], delta.shape[1]} differ in shape")
    if sums.shape[0] != delta.shape[1]:
        raise ValueError(
            f"sums has {sums.shape[0]} entries for {delta.shape[1]} columns")
    if delta.shape[1] == 0:
        return
    with nogil:
        if floating is float:
            derivative_sums_f32(&a[0, 0], &delta[0, 0], delta.shape[0], delta.shape[1],
                                code, &sums[0])
        else:
            derivative_sums_f64(&a[0, 0], &delta[0, 0], delta.shape[0], delta.shape[1],
                                code, &sums[0])


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


def _check_step(int code, Py_ssize_t n, Py_ssize_t n_coef, sizes, hyper):
    if code < 0 or code >= len(STEP_NAMES):
        raise ValueError(f"unknown optimizer code {code}")
    if hyper.shape[0] < FASTMLP_STEP_N_HYPER[code]:
        raise ValueError(f"{STEP_NAMES[code]} takes {FASTMLP_STEP_N_HYPER[code]} "
                         f"hyperparameters, got {hyper.shape[0]}")
    _check_flat(n, n_coef, sizes)


def flat_step(int code, floating[::1] params, const floating[::1] grad,
              floating[::1] state_a, floating[::1] state_b, Py_ssize_t n_coef,
              double alpha, double sw_sum, double rate,
              const double[::1] hyper):
    """Fused L2 + 1/sw_sum + the step of optimizer ``code`` (params and the
    states IN/OUT; grad IN), as the engines call it with an optimizer's
    kernel_state()."""
    cdef Py_ssize_t n = params.shape[0]
    _check_step(code, n, n_coef, [("grad", grad.shape[0]), ("state_a", state_a.shape[0]),
                                  ("state_b", state_b.shape[0])], hyper)
    if n == 0:
        return
    with nogil:
        if floating is float:
            flat_step_f32(code, &params[0], &grad[0], &state_a[0], &state_b[0], n,
                          n_coef, alpha, sw_sum, rate, &hyper[0])
        else:
            flat_step_f64(code, &params[0], &grad[0], &state_a[0], &state_b[0], n,
                          n_coef, alpha, sw_sum, rate, &hyper[0])


def flat_step_l2(int code, floating[::1] params, const floating[::1] grad,
                 floating[::1] state_a, floating[::1] state_b, Py_ssize_t n_coef,
                 double alpha, double sw_sum, double rate,
                 const double[::1] hyper):
    """flat_step, then the updated coefficients' l2_sum(params, n_coef)."""
    cdef Py_ssize_t n = params.shape[0]
    cdef double l2 = 0.0
    _check_step(code, n, n_coef, [("grad", grad.shape[0]), ("state_a", state_a.shape[0]),
                                  ("state_b", state_b.shape[0])], hyper)
    if n == 0:
        return l2
    with nogil:
        if floating is float:
            l2 = flat_step_l2_f32(code, &params[0], &grad[0], &state_a[0], &state_b[0],
                                  n, n_coef, alpha, sw_sum, rate, &hyper[0])
        else:
            l2 = flat_step_l2_f64(code, &params[0], &grad[0], &state_a[0], &state_b[0],
                                  n, n_coef, alpha, sw_sum, rate, &hyper[0])
    return l2


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
