"""Numba training loops of the cpu engine: one call runs a slice of an epoch.

Design: the loops only orchestrate. They call the Cython kernels (minibatch
row gather, GEMM through NumPy's BLAS, fused bias + activation, fused output
+ loss + delta, fused derivative multiply + column sums, fused L2 + optimizer
step) on raw pointers into preallocated buffers; no Python runs per
minibatch and nothing is allocated per minibatch. Every
buffer of the network lives in one workspace array, addressed by element
offsets computed once per fit (see ``CpuTrainer``). Each kernel is chosen by
dtype at run time (``single``), so each loop compiles once per dtype.

A call runs a slice of an epoch's minibatches, not the whole epoch: Python
can only act on Ctrl-C between calls, so ``CpuTrainer`` sizes the slices to
a few tens of milliseconds (``_tunables.SLICE_SECONDS``). The running loss
sum and Adam's step count go in and out, so the arithmetic is the same as
in one call.
"""

from .._numba_config import jit
from .._operations import ACTIVATION_CODES
from .._optimizers import step_rate
from . import _cython_kernels as K

_IDENTITY = ACTIVATION_CODES["identity"]
_step_rate = jit(step_rate)


@jit
def _gemm(single, bf16, trans_a, trans_b, m, n, k, a, lda, b, ldb, c, ldc):
    """c = op(a) @ op(b), row-major, all pointers; with ``bf16`` (float32
    only), a's and b's entries rounded to bfloat16, summed in float32."""
    if single and bf16:
        K.gemm_bf16_f32(trans_a, trans_b, m, n, k, a, lda, b, ldb, c, ldc)
    elif single:
        K.gemm_f32(trans_a, trans_b, m, n, k, 1.0, a, lda, b, ldb, 0.0, c, ldc)
    else:
        K.gemm_f64(trans_a, trans_b, m, n, k, 1.0, a, lda, b, ldb, 0.0, c, ldc)


@jit
def _bias_activation(single, z, b, out, n_rows, n_cols, code):
    """out = act(z + b); z keeps z + b unless out is z."""
    if single:
        K.bias_activation_f32(z, b, out, n_rows, n_cols, code)
    else:
        K.bias_activation_f64(z, b, out, n_rows, n_cols, code)


@jit
def _output_loss_delta(single, z, y, sw, n_rows, n_cols, out_code, loss_code, delta):
    if single:
        return K.output_loss_delta_f32(z, y, sw, n_rows, n_cols, out_code, loss_code, delta)
    return K.output_loss_delta_f64(z, y, sw, n_rows, n_cols, out_code, loss_code, delta)


@jit
def _column_sums(single, a, n_rows, n_cols, out):
    if single:
        K.column_sums_f32(a, n_rows, n_cols, out)
    else:
        K.column_sums_f64(a, n_rows, n_cols, out)


@jit
def _derivative_sums(single, a, delta, n_rows, n_cols, code, sums):
    """delta *= act'(z) (from ``a``, the output or the pre-activation), then
    sums = delta's column sums, in one pass where the kernel can."""
    if single:
        K.derivative_sums_f32(a, delta, n_rows, n_cols, code, sums)
    else:
        K.derivative_sums_f64(a, delta, n_rows, n_cols, code, sums)


@jit
def _dropout(single, x, out, n, seed, step, layer, threshold, scale):
    """out = x * scale where the mask keeps an element, else 0."""
    if single:
        K.dropout_f32(x, out, n, seed, step, layer, threshold, scale)
    else:
        K.dropout_f64(x, out, n, seed, step, layer, threshold, scale)


@jit
def _weight_sum(single, sw, n):
    """sw[0..n).sum() in NumPy's order (Numba's .sum() adds in another)."""
    if single:
        return K.weight_sum_f32(sw, n)
    return K.weight_sum_f64(sw, n)


@jit
def _loss_gradient(
    a0, x_trans, ldx, y, sw, sw_sum, n_rows, params, grad, work, units, act_off,
    pre_off, drop_off, delta_off, wt_off, coef_off, icpt_off, hidden_codes, out_code,
    loss_code, alpha, seed, step, threshold, scale, bf16, l2,
):
    """Loss (L2 term included) of one batch; its raw gradient goes to grad.

    ``a0``, ``y`` and ``sw`` point at the batch's n_rows rows of inputs,
    targets and sample weights (``sw`` = 0: unweighted; ``sw_sum`` is their
    sum, or n_rows). The inputs are rows ``ldx`` apart, or with ``x_trans``
    columns ``ldx`` apart (an F-ordered X, multiplied in place as NumPy
    multiplies it, so with its bits). The raw gradient is ``A^T delta`` for
    coefficients and the column sums of ``delta`` for intercepts, before the
    L2 term and the division by ``sw_sum``, which the optimizer kernels fuse
    into the step.

    Hidden layer i applies ``hidden_codes[i]``; where ``pre_off[i]`` >= 0 its
    pre-activation is kept there, for a derivative that needs it; where
    ``drop_off[i]`` >= 0 its dropped-out output goes there (the next layer's
    input), with the mask of (``seed``, ``step``, i) at ``threshold`` and
    ``scale`` = 1 / (1 - p); backward, its delta takes the same mask.
    Where ``wt_off[i]`` >= 0 (float32), layer i's weights are transposed
    there for the product delta @ W^T.
    ``bf16``: the GEMMs take bfloat16 inputs (matmul_precision="bfloat16").
    ``l2``: the coefficients' sum of squares where the caller has it (the
    float32 optimizer step returns it for the next step), or -1.
    """
    single = params.itemsize == 4
    size = params.itemsize
    p = params.ctypes.data
    g = grad.ctypes.data
    w = work.ctypes.data
    n_layers = units.shape[0] - 1

    a = a0
    for i in range(n_layers):
        out = w + act_off[i + 1] * size
        hidden = i < n_layers - 1
        z = w + pre_off[i] * size if hidden and pre_off[i] >= 0 else out
        # The layer's input: X as given (rows or columns ldx apart), then
        # the previous layer's rows.
        a_trans, lda = (x_trans, ldx) if i == 0 else (0, units[i])
        _gemm(single, bf16, a_trans, 0, n_rows, units[i + 1], units[i], a, lda,
              p + coef_off[i] * size, units[i + 1], z, units[i + 1])
        code = hidden_codes[i] if hidden else _IDENTITY
        _bias_activation(single, z, p + icpt_off[i] * size, out, n_rows, units[i + 1],
                         code)
        a = out
        if hidden and drop_off[i] >= 0:
            a = w + drop_off[i] * size
            _dropout(single, out, a, n_rows * units[i + 1], seed, step, i, threshold,
                     scale)
    delta = w + delta_off[n_layers - 1] * size
    loss = _output_loss_delta(single, a, y, sw, n_rows, units[n_layers],
                              out_code, loss_code, delta)
    if alpha != 0:
        if l2 < 0 and single:
            # All coefficients at once, in the chunks the step sums.
            l2 = K.l2_sum_f32(p, icpt_off[0])
        elif l2 < 0:
            l2 = 0.0
            for i in range(n_layers):     # layer by layer, as scikit-learn adds
                l2 += K.l2_sum_f64(p + coef_off[i] * size, units[i] * units[i + 1])
        loss += (0.5 * alpha) * l2 / sw_sum

    for i in range(n_layers - 1, -1, -1):
        # A^T: for an F-ordered X, its transpose is row-major, ldx apart.
        a, a_trans, lda = (a0, x_trans, ldx) if i == 0 else (w + act_off[i] * size, 0, units[i])
        dropped = i > 0 and drop_off[i - 1] >= 0
        a_in = w + drop_off[i - 1] * size if dropped else a   # what layer i took
        _gemm(single, bf16, 1 - a_trans, 0, units[i], units[i + 1], n_rows, a_in, lda, delta,
              units[i + 1], g + coef_off[i] * size, units[i + 1])
        if i == n_layers - 1:
            # (A hidden layer's intercept gradient, its delta's column sums,
            # came with the delta, below.)
            _column_sums(single, delta, n_rows, units[i + 1], g + icpt_off[i] * size)
        if i > 0:
            previous = w + delta_off[i - 1] * size
            if wt_off[i] >= 0:
                # float32: delta @ W^T as a plain product (see
                # TRANSPOSED_WEIGHTS_MAX in _tunables).
                wt = w + wt_off[i] * size
                K.transpose_f32(p + coef_off[i] * size, units[i], units[i + 1], wt)
                _gemm(single, bf16, 0, 0, n_rows, units[i], units[i + 1], delta,
                      units[i + 1], wt, units[i], previous, units[i])
            else:
                _gemm(single, bf16, 0, 1, n_rows, units[i], units[i + 1], delta,
                      units[i + 1], p + coef_off[i] * size, units[i + 1], previous,
                      units[i])
            if dropped:
                _dropout(single, previous, previous, n_rows * units[i], seed, step, i - 1,
                         threshold, scale)
            # From the pre-activation where kept, else from the output; the
            # column sums of the product are layer i - 1's intercept gradient.
            source = w + pre_off[i - 1] * size if pre_off[i - 1] >= 0 else a
            _derivative_sums(single, source, previous, n_rows, units[i],
                             hidden_codes[i - 1], g + icpt_off[i - 1] * size)
            delta = previous
    return loss


@jit
def run_epoch(
    X, x_trans, Y, sw, order, batch_size, first_batch, stop_batch, total, params, grad,
    work, xb, yb, swb, units, act_off, pre_off, drop_off, delta_off, wt_off, coef_off,
    icpt_off, hidden_codes, out_code, loss_code, alpha, kind, learning_rate, hyper, t,
    state_a, state_b, seed, threshold, scale, bf16,
):
    """Train minibatches ``first_batch`` to ``stop_batch`` (exclusive) of an
    epoch; returns (``total`` + their sum of batch loss x size, t).

    ``order`` holds the rows to train on (an empty array: all rows of X in
    their order, read in place). With ``x_trans``, ``X`` is the transpose
    of an F-ordered X (read in place; never with ``order``, whose rows are
    gathered from a C-ordered X). ``sw`` is empty when unweighted. The
    optimizer arrives as its ``kernel_state()``: ``kind`` (its step kernel's
    code), ``learning_rate``, ``state_a``, ``state_b``, ``hyper`` and the
    step count ``t``, which each step advances; ``step_rate`` forms each
    step's rate (Adam's bias correction, in the optimizer module). ``xb``
    holds two minibatches of gathered rows (see the loop). Dropout
    (``drop_off``, ``seed``, ``threshold``, ``scale``: see _loss_gradient)
    draws each batch's masks at the step that batch makes, ``t + 1``.
    """
    single = params.itemsize == 4
    size = params.itemsize
    weighted = sw.shape[0] > 0
    gathered = order.shape[0] > 0
    n_features = X.shape[0] if x_trans else X.shape[1]
    ldx = X.shape[1]
    n_samples = order.shape[0] if gathered else X.shape[1 if x_trans else 0]
    n_outputs = Y.shape[1]
    n_params = params.shape[0]
    n_coef = icpt_off[0]
    # Gathered minibatches alternate between xb's two buffers: while a step
    # trains on one, the threads that would spin idle fill the other with
    # the next minibatch's rows (K.idle_gather_*), and that step only
    # finishes the gather. Without the facility (another loop owns it),
    # each step gathers its own rows.
    row_bytes = n_features * size
    # float32: the step returns the updated coefficients' L2 sum, the next
    # batch's L2 term (summed in the step's own pass); -1: not known.
    l2 = -1.0
    idle = gathered and first_batch < stop_batch and K.idle_gather_acquire() == 1
    armed = False
    for batch in range(first_batch, stop_batch):
        start = batch * batch_size
        stop = min(start + batch_size, n_samples)
        n_rows = stop - start
        sw_sum = float(n_rows)
        sw_ptr = 0
        if gathered:
            rows = order.ctypes.data + start * order.itemsize
            a0 = xb[(batch - first_batch) % 2].ctypes.data
            if armed:
                K.idle_gather_finish()
            else:
                K.gather_rows(X.ctypes.data, row_bytes, rows, n_rows, a0)
            armed = False
            if idle and batch + 1 < stop_batch:
                armed = K.idle_gather_arm(
                    X.ctypes.data, row_bytes, rows + n_rows * order.itemsize,
                    min(batch_size, n_samples - stop),
                    xb[(batch + 1 - first_batch) % 2].ctypes.data) == 1
            K.gather_rows(Y.ctypes.data, n_outputs * size, rows, n_rows, yb.ctypes.data)
            if weighted:
                K.gather_rows(sw.ctypes.data, size, rows, n_rows, swb.ctypes.data)
            a_trans, lda = 0, n_features
            y = yb.ctypes.data
            if weighted:
                sw_sum = _weight_sum(single, swb.ctypes.data, n_rows)
                sw_ptr = swb.ctypes.data
        else:
            a0 = X.ctypes.data + start * (1 if x_trans else n_features) * size
            a_trans, lda = x_trans, ldx
            y = Y.ctypes.data + start * n_outputs * size
            if weighted:
                sw_ptr = sw.ctypes.data + start * size
                sw_sum = _weight_sum(single, sw_ptr, n_rows)
        if sw_sum == 0:
            if idle:
                K.idle_gather_release()
            # scikit-learn's loss (numpy.average) refuses such a batch.
            raise ZeroDivisionError("Weights sum to zero, can't be normalized")
        loss = _loss_gradient(
            a0, a_trans, lda, y, sw_ptr, sw_sum, n_rows, params, grad, work, units,
            act_off, pre_off, drop_off, delta_off, wt_off, coef_off, icpt_off,
            hidden_codes, out_code, loss_code, alpha, seed, t + 1, threshold, scale, bf16,
            l2,
        )
        t += 1
        rate = _step_rate(kind, learning_rate, hyper, t)
        if single and alpha != 0:
            l2 = K.flat_step_l2_f32(kind, params.ctypes.data, grad.ctypes.data,
                                    state_a.ctypes.data, state_b.ctypes.data, n_params,
                                    n_coef, alpha, sw_sum, rate, hyper.ctypes.data)
        elif single:
            K.flat_step_f32(kind, params.ctypes.data, grad.ctypes.data, state_a.ctypes.data,
                            state_b.ctypes.data, n_params, n_coef, alpha, sw_sum, rate,
                            hyper.ctypes.data)
        else:
            K.flat_step_f64(kind, params.ctypes.data, grad.ctypes.data, state_a.ctypes.data,
                            state_b.ctypes.data, n_params, n_coef, alpha, sw_sum, rate,
                            hyper.ctypes.data)
        total += loss * n_rows
    if idle:
        K.idle_gather_release()
    return total, t


@jit
def full_loss_gradient(
    X, x_trans, Y, sw, params, grad, work, units, act_off, pre_off, drop_off, delta_off,
    wt_off, coef_off, icpt_off, hidden_codes, out_code, loss_code, alpha, bf16,
):
    """Loss and finished gradient over all rows of X (for L-BFGS, without
    dropout); X as in run_epoch."""
    weighted = sw.shape[0] > 0
    n_rows = X.shape[1 if x_trans else 0]
    single = params.itemsize == 4
    sw_sum = _weight_sum(single, sw.ctypes.data, n_rows) if weighted else float(n_rows)
    if sw_sum == 0:
        raise ZeroDivisionError("Weights sum to zero, can't be normalized")
    loss = _loss_gradient(
        X.ctypes.data, x_trans, X.shape[1], Y.ctypes.data,
        sw.ctypes.data if weighted else 0, sw_sum, n_rows, params, grad, work, units,
        act_off, pre_off, drop_off, delta_off, wt_off, coef_off, icpt_off, hidden_codes,
        out_code, loss_code, alpha, 0, 0, 0, 1.0, bf16, -1.0,
    )
    n_coef = icpt_off[0]
    for i in range(n_coef):
        grad[i] = (grad[i] + alpha * params[i]) / sw_sum
    for i in range(n_coef, params.shape[0]):
        grad[i] = grad[i] / sw_sum
    return loss
