"""The fast CPU engine: Numba epoch loops over the Cython kernels.

Importing this module is cheap; Numba and the compiled loops load on the
first fit (``CpuTrainer``), so ``import fastmlp`` and predicting from a
pickled model never wait for a JIT.
"""

import importlib.util
import math
import time

import numpy as np
import scipy.sparse as sp

from .. import _dropout
from .._tunables import SLICE_SECONDS, TRANSPOSED_WEIGHTS_MAX
from .._operations import ACTIVATION_CODES, HIDDEN_ACTIVATIONS, LOSS_CODES
from ._base import Engine, Trainer
from .numpy_engine import NumpyTrainer


class CpuTrainer(Trainer):
    """Buffers, offsets and codes of one fit, handed to the Numba loops."""

    matmul_precisions = (None, "bfloat16")

    def __init__(self, network, X, Y, sample_weight):
        dtype = network.dtype
        # Data in the training dtype is used in place when C-ordered, and
        # when F-ordered (np.asarray of a DataFrame) too: scikit-learn
        # multiplies such an X as it is (lbfgs, unshuffled minibatches), and
        # BLAS adds in another order for it than for a C copy. Shuffled
        # minibatches are C copies in scikit-learn, gathered here from one.
        X = X.astype(dtype, copy=False)
        if X.flags.f_contiguous and not X.flags.c_contiguous:
            self._x_columns = X.T     # row-major, read with x_trans
        else:
            self._x_columns = None
            X = np.ascontiguousarray(X)
        Y = np.ascontiguousarray(Y, dtype=dtype)
        sw = (np.empty(0, dtype) if sample_weight is None
              else np.ascontiguousarray(sample_weight, dtype=dtype))
        super().__init__(network, X, Y, sample_weight)
        self._sw = sw
        self._bf16 = network.matmul_precision == "bfloat16"
        from .._kernels import _train

        if self._bf16 and _train.bf16_support() is None:
            raise ValueError(
                "matmul_precision='bfloat16' needs a CPU with AMX (AMX-TILE and "
                "AMX-BF16, with Linux granting the tile data) or AVX512-BF16; this "
                "CPU has neither. Use matmul_precision=None, or backend='numpy' to "
                "emulate it (slowly).")

        from . import _cpu_loops

        self._loops = _cpu_loops
        layout = network.layout
        self._units = np.asarray(network.layer_units, dtype=np.intp)
        self._coef_off = np.array([s.start for s in layout.coef_slices], dtype=np.intp)
        self._icpt_off = np.array([s.start for s in layout.intercept_slices], dtype=np.intp)
        hidden = network.hidden_activations
        self._codes = (
            np.array([ACTIVATION_CODES[name] for name in hidden], dtype=np.intc),
            ACTIVATION_CODES[network.out_activation],
            LOSS_CODES[network.loss],
        )
        # The hidden layers whose derivative needs the pre-activation.
        self._keeps_pre = [HIDDEN_ACTIVATIONS[name].needs_preactivation for name in hidden]
        self._grad = np.empty(layout.size, dtype=dtype)
        self._batch = None     # (batch_size, workspace, offsets, xb, yb, swb)
        # Minibatches per loop call, grown or shrunk towards SLICE_SECONDS a
        # call; one at first, so even the first call returns quickly.
        self._slice = 1
        self._full = None      # (workspace, offsets) for L-BFGS
        self._x_rows = None    # a C copy of an F-ordered X, to gather from

    def _workspace(self, n_rows, dropout=False):
        """One buffer for every layer's activations, kept pre-activations,
        dropped-out outputs and deltas of n_rows rows: (buffer, offsets),
        the offsets as the loops take them (act_off, pre_off, drop_off,
        delta_off, wt_off; pre_off and drop_off -1 where a hidden layer
        keeps none, wt_off -1 where a layer's weights are not transposed).
        ``dropout``: whether the hidden layers' dropped outputs get room."""
        units = self._units
        n_layers = len(units) - 1
        act_off = np.zeros(n_layers + 1, dtype=np.intp)
        pre_off = np.full(n_layers, -1, dtype=np.intp)
        drop_off = np.full(n_layers, -1, dtype=np.intp)
        delta_off = np.zeros(n_layers, dtype=np.intp)
        total = 0
        for i in range(1, n_layers + 1):
            act_off[i] = total
            total += n_rows * units[i]
        for i, keeps in enumerate(self._keeps_pre):
            if keeps:
                pre_off[i] = total
                total += n_rows * units[i + 1]
        for i in range(n_layers - 1 if dropout else 0):
            drop_off[i] = total
            total += n_rows * units[i + 1]
        for i in range(n_layers):
            delta_off[i] = total
            total += n_rows * units[i + 1]
        # Room for one layer's weights transposed at a time (float32 below
        # TRANSPOSED_WEIGHTS_MAX entries; not layer 0, whose input takes no
        # gradient).
        wt_off = np.full(n_layers, -1, dtype=np.intp)
        if self.network.dtype == np.float32 and not self._bf16:
            room = 0
            for i in range(1, n_layers):
                size = units[i] * units[i + 1]
                if size <= TRANSPOSED_WEIGHTS_MAX:
                    wt_off[i] = total
                    room = max(room, size)
            total += room
        return (np.empty(total, dtype=self.network.dtype),
                (act_off, pre_off, drop_off, delta_off, wt_off))

    def _x(self, gathered):
        """(X as the loops read it, x_trans): X's rows, or the transpose of
        an F-ordered X read in place unless rows are to be gathered."""
        if self._x_columns is None:
            return self.X, 0
        if not gathered:
            return self._x_columns, 1
        if self._x_rows is None:
            self._x_rows = np.ascontiguousarray(self.X)
        return self._x_rows, 0

    def run_epoch(self, order, batch_size):
        params, optimizer = self.params, self.optimizer
        p = self.network.dropout
        if self._batch is None or self._batch[0] != batch_size:
            dtype = self.network.dtype
            self._batch = (
                batch_size,
                *self._workspace(batch_size, dropout=p > 0),
                np.empty((2, batch_size, self.X.shape[1]), dtype),   # see run_epoch
                np.empty((batch_size, self.Y.shape[1]), dtype),
                np.empty(batch_size if self.sample_weight is not None else 0, dtype),
            )
        _, work, offsets, xb, yb, swb = self._batch
        order = (np.empty(0, np.intp) if order is None
                 else np.ascontiguousarray(order, dtype=np.intp))
        hidden, out, loss = self._codes
        kind, rate, state_a, state_b, hyper, t = optimizer.kernel_state()
        n_samples = len(order) if len(order) else self.X.shape[0]
        n_batches = math.ceil(n_samples / batch_size)
        X, x_trans = self._x(len(order) > 0)
        total, done = 0.0, 0
        while done < n_batches:
            stop = min(done + self._slice, n_batches)
            started = time.perf_counter()
            total, t = self._loops.run_epoch(
                X, x_trans, self.Y, self._sw, order, batch_size, done, stop, total,
                params, self._grad, work, xb, yb, swb, self._units, *offsets,
                self._coef_off, self._icpt_off, hidden, out, loss,
                self.network.alpha, kind, rate, hyper, t, state_a, state_b,
                self.dropout_seed, _dropout.threshold(p), 1.0 / (1.0 - p), self._bf16,
            )
            self._resize_slice(stop - done, time.perf_counter() - started)
            done = stop
            # Kept current per call: a Ctrl-C between calls ends the fit
            # with the state of the steps taken.
            optimizer.steps_taken(t)
        return total

    def _resize_slice(self, n_batches, seconds):
        """Aim the next call at SLICE_SECONDS, growing at most 64x at once
        (a call's own overhead, ~15 us of this wrapper and Numba's dispatch,
        makes a one-minibatch call look slow, never fast: 8x took a small
        network's first epoch 4 calls)."""
        wanted = n_batches * SLICE_SECONDS / max(seconds, 1e-6)
        self._slice = max(1, min(int(wanted), 64 * n_batches))

    def loss_grad(self, params, grad):
        if self._full is None:
            self._full = self._workspace(self.X.shape[0])
        work, offsets = self._full
        hidden, out, loss = self._codes
        X, x_trans = self._x(False)
        return self._loops.full_loss_gradient(
            X, x_trans, self.Y, self._sw, params, grad, work, self._units, *offsets,
            self._coef_off, self._icpt_off, hidden, out, loss,
            self.network.alpha, self._bf16,
        )


class CpuEngine(Engine):
    """Cython kernels under Numba loops; sparse input trains on the reference."""

    name = "cpu"

    @classmethod
    def is_available(cls):
        return (
            importlib.util.find_spec("numba") is not None
            and importlib.util.find_spec("fastmlp._kernels._train") is not None
        )

    def trainer(self, network, X, Y, sample_weight):
        if sp.issparse(X):
            return NumpyTrainer(network, X, Y, sample_weight)
        return CpuTrainer(network, X, Y, sample_weight)
