"""The CUDA engine's kernels (Numba CUDA), one set per dtype.

Each kernel runs grid-stride loops, so it is correct for any launch
configuration: the device launches enough threads to fill the GPU, the
simulator a handful (it runs every thread in Python), which also exercises
the loops on ragged shapes. Scalars that change during a fit (the step
count, the rates, a minibatch's weight sum, the epoch's loss) live in small
device arrays, so a captured CUDA graph replays the same launches each
epoch. The per-element arithmetic is _cuda_math's.
"""

import functools
import math

import numpy as np
from numba import cuda

from .._operations import ACTIVATION_CODES
from .._optimizers import KERNEL_RMSPROP, KERNEL_SGD
from ._cuda_math import make_math

SOFTMAX = ACTIVATION_CODES["softmax"]
# Threads of one block of the reductions (a power of two; the device's
# launches use it, the simulator fewer).
REDUCE_THREADS = 256


@functools.lru_cache(maxsize=None)
def kernels(dtype):
    """The kernels for float32 or float64 data (compiled on first launch)."""
    m = make_math(np.dtype(dtype), cuda.jit(device=True))
    T = m.T
    zero, one = m.dtype.type(0), m.dtype.type(1)
    # Kernels call the device functions through closure variables: Numba
    # cannot type an attribute of a Python object (``m.activate``) on the
    # device. (Names unlike the kernels' own and their locals.)
    activate, derivative, loss_term = m.activate, m.derivative, m.loss_term
    layer_key, kept = m.layer_key, m.kept
    rate_of, param_step = m.step_rate, m.optimizer_step

    @cuda.jit(device=True)
    def mask_key(dropout, seed, t, layer):
        """The key of layer's dropout mask at step t[0] + 1, one derivation
        for the forward and the backward pass (without dropout: seed, a
        uint64 like it)."""
        return layer_key(seed, t[0] + 1, layer) if dropout else seed

    @cuda.jit(device=True)
    def cell(k, units):
        """(row, column) of entry k of a row-major block ``units`` wide."""
        r = k // units
        return r, k - r * units

    @cuda.jit
    def permute(order, X, Y, sw, weighted, Xp, Yp, swp):
        """Rows ``order`` of X, Y (and sw) into Xp, Yp (swp), in order."""
        # x runs along the columns: a warp reads a row's neighbours.
        c0, r0 = cuda.grid(2)
        cs, rs = cuda.gridsize(2)
        for r in range(r0, order.size, rs):
            src = order[r]
            for c in range(c0, X.shape[1], cs):
                Xp[r, c] = X[src, c]
            for c in range(c0, Y.shape[1], cs):
                Yp[r, c] = Y[src, c]
            if weighted and c0 == 0:
                swp[r] = sw[src]

    @cuda.jit
    def hidden_forward(Z, b, code, pre, keep_pre, src, dropout, seed, t, layer,
                       threshold, scale):
        """Z = act(Z + b) in place; pre = Z + b where kept. With dropout,
        src = act(Z + b) (for the derivative) and Z its dropped-out copy:
        the mask of step t[0] + 1 (_dropout)."""
        rows, units = Z.shape
        key = mask_key(dropout, seed, t, layer)
        for k in range(cuda.grid(1), rows * units, cuda.gridsize(1)):
            r, c = cell(k, units)
            z = Z[r, c] + b[c]
            if keep_pre:
                pre[r, c] = z
            a = activate(code, z)
            if dropout:
                if not keep_pre:
                    src[r, c] = a
                a = a * scale if kept(key, k, threshold) else zero
            Z[r, c] = a

    @cuda.jit
    def output_delta(Z, b, act, loss, Y, sw, weighted, delta, rowloss):
        """Per row: the output activation of Z + b in place, delta =
        (P - Y) w, and rowloss = w x the row's loss terms (float64)."""
        start, stride = cuda.grid(1), cuda.gridsize(1)
        rows, outputs = Z.shape
        for r in range(start, rows, stride):
            if act == SOFTMAX:
                top = Z[r, 0] + b[0]
                for c in range(outputs):
                    z = Z[r, c] + b[c]
                    Z[r, c] = z
                    top = max(top, z)
                total = zero
                for c in range(outputs):
                    e = math.exp(Z[r, c] - top)
                    Z[r, c] = e
                    total += e
                for c in range(outputs):
                    Z[r, c] = Z[r, c] / total
            else:
                for c in range(outputs):
                    Z[r, c] = activate(act, Z[r, c] + b[c])
            w = sw[r] if weighted else one
            terms = 0.0
            for c in range(outputs):
                p = Z[r, c]
                terms += loss_term(loss, np.float64(Y[r, c]), p)
                d = p - Y[r, c]
                delta[r, c] = d * w if weighted else d
            rowloss[r] = terms * np.float64(w)

    @cuda.jit
    def sum_squares(params, n_coef, partials):
        """partials[block] = the block's share of sum(params[:n_coef]^2),
        in float64 (a tree in shared memory: deterministic)."""
        shared = cuda.shared.array(REDUCE_THREADS, np.float64)
        tid = cuda.threadIdx.x
        acc = 0.0
        for k in range(cuda.grid(1), n_coef, cuda.gridsize(1)):
            w = np.float64(params[k])
            acc += w * w
        shared[tid] = acc
        cuda.syncthreads()
        half = cuda.blockDim.x // 2
        while half > 0:
            if tid < half:
                shared[tid] += shared[tid + half]
            cuda.syncthreads()
            half //= 2
        if tid == 0:
            partials[cuda.blockIdx.x] = shared[0]

    @cuda.jit
    def finish_loss(rowloss, sw, weighted, rows, factor, partials, n_partials, alpha,
                    sw_sum, loss_sum):
        """One thread: the minibatch's loss (its data loss, plus the L2
        term from ``partials``) added, times its rows, to loss_sum[0];
        sw_sum[0] = its weight sum (the gradient's divisor)."""
        if cuda.grid(1) != 0:
            return
        data, weights = 0.0, zero
        for r in range(rows):
            data += rowloss[r]
            if weighted:
                weights += sw[r]
        if not weighted:
            weights = T(rows)
        l2 = 0.0
        for i in range(n_partials):
            l2 += partials[i]
        divisor = np.float64(weights)
        loss = factor * (data / divisor) + (0.5 * alpha) * l2 / divisor
        loss_sum[0] += loss * rows
        sw_sum[0] = weights

    @cuda.jit
    def column_sums(delta, out):
        """out[c] = sum over rows of delta[:, c] (an intercept's gradient)."""
        rows, cols = delta.shape
        for c in range(cuda.grid(1), cols, cuda.gridsize(1)):
            total = zero
            for r in range(rows):
                total += delta[r, c]
            out[c] = total

    @cuda.jit
    def hidden_backward(D, src, code, dropout, seed, t, layer, threshold, scale):
        """D (delta @ W^T) through the layer's dropout mask and its
        activation's derivative, in place."""
        rows, units = D.shape
        key = mask_key(dropout, seed, t, layer)
        for k in range(cuda.grid(1), rows * units, cuda.gridsize(1)):
            r, c = cell(k, units)
            d = D[r, c]
            if dropout:
                d = d * scale if kept(key, k, threshold) else zero
            D[r, c] = derivative(code, src[r, c], d)

    @cuda.jit
    def optimizer_step(code, params, grad, state_a, state_b, n_coef, alpha, sw_sum,
                       rate, hyper, t):
        """The gradient (raw sums in grad: + alpha W for coefficients, over
        the weight sum) and the optimizer's step of t[0] + 1, in place."""
        step_rate = rate_of(code, rate[0], hyper[0], hyper[1], t[0] + 1)
        a_l2 = T(alpha)
        divisor = sw_sum[0]
        for k in range(cuda.grid(1), params.size, cuda.gridsize(1)):
            coefficient = k < n_coef
            g = (grad[k] + a_l2 * params[k]) / divisor if coefficient \
                else grad[k] / divisor
            p, a, b = param_step(code, params[k], g, state_a[k], state_b[k],
                                       step_rate, hyper, coefficient)
            params[k] = p
            # SGD keeps its one state in state_a, RMSprop in state_b.
            if code != KERNEL_RMSPROP:
                state_a[k] = a
            if code != KERNEL_SGD:
                state_b[k] = b

    @cuda.jit
    def full_gradient(params, grad, n_coef, alpha, sw_sum):
        """L-BFGS's gradient from the raw sums in grad, in place."""
        a_l2 = T(alpha)
        divisor = sw_sum[0]
        for k in range(cuda.grid(1), params.size, cuda.gridsize(1)):
            if k < n_coef:
                grad[k] = (grad[k] + a_l2 * params[k]) / divisor
            else:
                grad[k] = grad[k] / divisor

    @cuda.jit
    def advance(t):
        """The step is taken: t[0] += 1."""
        if cuda.grid(1) == 0:
            t[0] += 1

    return _Kernels(permute=permute, hidden_forward=hidden_forward,
                    output_delta=output_delta, sum_squares=sum_squares,
                    finish_loss=finish_loss, column_sums=column_sums,
                    hidden_backward=hidden_backward, optimizer_step=optimizer_step,
                    full_gradient=full_gradient, advance=advance)


class _Kernels:
    def __init__(self, **kernels):
        self.__dict__.update(kernels)
