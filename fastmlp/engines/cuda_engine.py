"""The CUDA engine: the whole fit resident on an NVIDIA GPU.

X, the targets, the sample weights, the parameters, the optimizer's state
and every buffer are device arrays for the whole fit. Per epoch the host
sends only the epoch's row order (scikit-learn's shuffle, drawn by the
estimator) and the optimizer's rate and step count, and reads back only the
epoch's loss; the parameters come back when the estimator asks for them
(validation, early stopping, callbacks, the end of the fit). A kernel
first copies the rows of the epoch, in order, into a permuted copy of the
data, so each minibatch is a contiguous slice that the GEMMs read in place.

A step is: per layer a GEMM and a fused bias + activation (+ dropout)
kernel; for the output a fused activation + loss + delta kernel; the
minibatch's loss; per layer the weight-gradient GEMM, a column sum and,
below the top, the delta GEMM and a fused dropout + derivative kernel; one
fused gradient + optimizer kernel over the flat buffer; and a one-thread
kernel that counts the step. GEMMs run in cuBLAS, called through ctypes
(_cublas: a plain C call, legal under stream capture), everything else in
Numba CUDA kernels (_cuda_kernels).

Epochs after the first are captured once per fit as a CUDA graph and
replayed, one launch per epoch: no host work per step. (``CUDA_GRAPHS`` in
_tunables turns that off, for the eager comparison.)

Without a GPU, Numba's CUDA simulator (``NUMBA_ENABLE_CUDASIM=1``) runs the
same kernels in Python on host arrays, with NumPy's matmul for the GEMMs:
slow, and only for the tests, on tiny shapes.
"""

import contextlib
import importlib.util
import math
import warnings
import weakref

import numpy as np
import scipy.sparse as sp

from .. import _dropout, _tunables
from .._operations import ACTIVATION_CODES, HIDDEN_ACTIVATIONS, LOSS_CODES
from .._optimizers import KERNEL_SGD
from ._base import Engine, Trainer


def _simulated():
    """Whether Numba's CUDA simulator is on (NUMBA_ENABLE_CUDASIM=1)."""
    if importlib.util.find_spec("numba") is None:
        return False
    from numba import config

    return bool(config.ENABLE_CUDASIM)


def unavailable_reason():
    """Why backend='cuda' cannot run here, or None when it can."""
    if importlib.util.find_spec("numba_cuda") is None:
        return ("backend='cuda' needs the CUDA extra, which is not installed: "
                "pip install \"fastmlp[cuda]\" (numba-cuda, cuBLAS).")
    if _simulated():
        return None
    try:
        from numba import cuda

        if not cuda.is_available():
            return ("backend='cuda' found no usable NVIDIA GPU: numba.cuda.is_available() "
                    "is False (no device, or no driver).")
    except Exception as exc:          # a broken driver or toolkit
        return f"backend='cuda' cannot start CUDA: {exc}"
    try:
        from . import _cublas

        _cublas.library()
    except Exception as exc:
        return ("backend='cuda' needs cuBLAS (the nvidia-cublas wheel, or a CUDA "
                f"toolkit's): pip install \"fastmlp[cuda]\" ({exc}).")
    return None


class _Launcher:
    """Launch configurations: enough threads to fill a GPU, or, in the
    simulator, a few (each is a Python thread there)."""

    def __init__(self, simulated):
        self.simulated = simulated

    def flat(self, n):
        if self.simulated:
            return 1, 4
        return max(1, min(math.ceil(n / 256), 2048)), 256

    def rows(self, n):
        if self.simulated:
            return 1, 3
        return max(1, math.ceil(n / 128)), 128

    def grid2d(self, rows, cols):
        """(x over columns, y over rows), as permute reads them."""
        if self.simulated:
            return (1, 1), (2, 2)
        return ((max(1, min(math.ceil(cols / 32), 64)), max(1, min(math.ceil(rows / 8), 65535))),
                (32, 8))

    def reduction(self, n):
        if self.simulated:
            return 2, 4
        return max(1, min(math.ceil(n / 256), 1024)), 256


class _SimulatedDevice:
    """Host arrays as device memory; GEMMs through NumPy."""

    simulated = True

    def __init__(self):
        self.stream = 0

    def to_device(self, host):
        return np.array(host, copy=True, order="C")

    def empty(self, shape, dtype):
        # NaN-filled: an element a kernel forgets to write shows in the
        # results instead of passing as a zero.
        out = np.empty(shape, dtype)
        if out.dtype.kind == "f":
            out.fill(np.nan)
        return out

    def upload(self, device, host):
        device[...] = host

    def download(self, device, out=None):
        if out is None:
            return device.copy()
        out[...] = device
        return out

    def set_math_mode(self, precision):
        pass     # NumPy's matmul is exact: TF32 shows only on a GPU

    def gemm(self, A, B, C, trans_a=False, trans_b=False):
        np.matmul(A.T if trans_a else A, B.T if trans_b else B, out=C)

    def synchronize(self):
        pass

    def close(self):
        pass


class _GpuDevice:
    """Device arrays on one stream; GEMMs through cuBLAS on that stream."""

    simulated = False
    WORKSPACE_BYTES = 32 << 20

    def __init__(self):
        from numba import cuda

        from . import _cublas

        self._cuda, self._cublas = cuda, _cublas
        self.stream = cuda.stream()
        # A workspace of our own: cuBLAS may not allocate one during graph
        # capture.
        self._workspace = cuda.device_array(self.WORKSPACE_BYTES, np.uint8,
                                            stream=self.stream)
        self._handle = _cublas.Handle(int(self.stream.handle),
                                      self._pointer(self._workspace),
                                      self.WORKSPACE_BYTES)
        self._finalizer = weakref.finalize(self, self._handle.destroy)
        self._one = {np.dtype(t): np.ones(1, t) for t in (np.float32, np.float64)}
        self._zero = {np.dtype(t): np.zeros(1, t) for t in (np.float32, np.float64)}

    @staticmethod
    def _pointer(array):
        return array.__cuda_array_interface__["data"][0]

    def to_device(self, host):
        return self._cuda.to_device(np.ascontiguousarray(host), stream=self.stream)

    def empty(self, shape, dtype):
        return self._cuda.device_array(shape, dtype, stream=self.stream)

    def upload(self, device, host):
        device.copy_to_device(np.ascontiguousarray(host), stream=self.stream)

    def download(self, device, out=None):
        host = device.copy_to_host(stream=self.stream)
        self.stream.synchronize()
        if out is None:
            return host
        out[...] = host.reshape(out.shape)
        return out

    def set_math_mode(self, precision):
        modes = {None: self._cublas.CUBLAS_DEFAULT_MATH,
                 "tf32": self._cublas.CUBLAS_TF32_TENSOR_OP_MATH}
        self._handle.set_math_mode(modes[precision])

    def gemm(self, A, B, C, trans_a=False, trans_b=False):
        """C = op(A) @ op(B), all row-major: cuBLAS (column-major) computes
        C^T = op(B)^T op(A)^T on the same memory."""
        m, n = C.shape
        k = A.shape[0] if trans_a else A.shape[1]
        t, no = self._cublas.CUBLAS_OP_T, self._cublas.CUBLAS_OP_N
        dtype = C.dtype
        self._handle.gemm(dtype == np.float64, t if trans_b else no, t if trans_a else no,
                          n, m, k, self._one[dtype].ctypes.data,
                          self._pointer(B), B.shape[1], self._pointer(A), A.shape[1],
                          self._zero[dtype].ctypes.data, self._pointer(C), n)

    def capture(self, issue):
        """A CUDA graph of what ``issue()`` launches on the stream,
        instantiated (cuBLAS and Numba's launches both go to the stream).
        Numba's deferred frees wait meanwhile: a free is illegal during a
        capture."""
        from cuda.bindings import driver

        handle = int(self.stream.handle)
        with self._cuda.defer_cleanup():
            _check(driver.cuStreamBeginCapture(
                handle, driver.CUstreamCaptureMode.CU_STREAM_CAPTURE_MODE_THREAD_LOCAL))
            try:
                issue()
            finally:
                graph = _check(driver.cuStreamEndCapture(handle))
        try:
            graph_exec = _check(driver.cuGraphInstantiate(graph, 0))
        except Exception:
            driver.cuGraphDestroy(graph)
            raise
        return graph, graph_exec

    def replay(self, graph):
        from cuda.bindings import driver

        _check(driver.cuGraphLaunch(graph[1], int(self.stream.handle)))

    def release(self, graph):
        from cuda.bindings import driver

        driver.cuGraphExecDestroy(graph[1])
        driver.cuGraphDestroy(graph[0])

    def synchronize(self):
        self.stream.synchronize()

    def close(self):
        self._finalizer()


@contextlib.contextmanager
def _quiet_launches():
    """Numba warns of a grid too small to fill the GPU; the one-thread
    launches (the loss, the step count) and small networks are so on
    purpose."""
    with warnings.catch_warnings():
        warnings.filterwarnings(
            "ignore", message=r"Grid size \d+ will likely result in GPU under-utilization")
        yield


def _check(result):
    """cuda.bindings' (error, value...) tuples: the value, or an error."""
    from cuda.bindings import driver

    error, *values = result
    if error != driver.CUresult.CUDA_SUCCESS:
        raise RuntimeError(f"CUDA driver call failed: {error!r}")
    return values[0] if len(values) == 1 else tuple(values)


class CudaTrainer(Trainer):
    """One fit's device memory and launches."""

    matmul_precisions = (None, "tf32")

    def __init__(self, network, X, Y, sample_weight, device):
        super().__init__(network, X, Y, sample_weight)
        from ._cuda_kernels import kernels

        dtype = network.dtype
        self._device = device
        device.set_math_mode(network.matmul_precision)
        self._launch = _Launcher(device.simulated)
        self._k = kernels(np.dtype(dtype))
        layout = self._layout = network.layout
        self._n_coef = layout.coef_size()
        if sp.issparse(X):
            X = X.toarray()
        self._X = device.to_device(np.asarray(X, dtype=dtype))
        self._Y = device.to_device(np.asarray(Y, dtype=dtype))
        self._weighted = sample_weight is not None
        self._sw = device.to_device(np.asarray(sample_weight if self._weighted
                                               else np.ones(1), dtype=dtype))
        hidden = network.hidden_activations
        self._hidden_codes = [ACTIVATION_CODES[name] for name in hidden]
        self._keeps_pre = [HIDDEN_ACTIVATIONS[name].needs_preactivation for name in hidden]
        self._out_code = ACTIVATION_CODES[network.out_activation]
        self._loss_code = LOSS_CODES[network.loss]
        n_out = network.layer_units[-1]
        self._loss_factor = 0.5 / n_out if network.loss == "squared_error" else 1.0
        self._dummy = device.empty((1, 1), dtype)
        self._grad = device.empty(layout.size, dtype)
        # Views made once: a step launches on them without Python slicing.
        self._coef_grads = layout.coef_views(self._grad)
        self._intercept_grads = layout.intercept_views(self._grad)
        self._partials = device.empty(self._launch.reduction(self._n_coef)[0], np.float64)
        self._sw_sum = device.empty(1, dtype)
        self._loss_sum = device.empty(1, np.float64)
        self._t = device.empty(1, np.int64)
        self._rate = device.empty(1, np.float64)
        self._buffers = {}          # n_rows -> per-layer buffers
        self._epoch_data = None     # (order buffer, Xp, Yp, swp) of the shuffled epochs
        self._graph = None          # (key, graph) of the captured epoch
        self._graphs_work = True
        self._epochs = 0
        self.graph_epochs = 0       # epochs run by replaying a graph
        self._params = self._state = self._hyper = None
        self._code = 0
        # (on, seed, threshold, scale) of the dropout kernels: off until
        # start() says otherwise (L-BFGS never drops out).
        self._dropout = (False, np.uint64(0), np.uint64(0), dtype.type(1))

    @property
    def stream(self):
        """The stream every launch of this fit goes to (0 in the simulator)."""
        return self._device.stream

    @property
    def simulated(self):
        return self._device.simulated

    # --------------------------------------------------------------- fit

    def start(self, params, optimizer, dropout_seed=0):
        super().start(params, optimizer, dropout_seed)
        device = self._device
        self._set_params(device.to_device(params))
        code, _, state_a, state_b, hyper, _ = optimizer.kernel_state()
        self._code = code
        if state_b is state_a:
            # One state array (SGD's velocity in state_a, RMSprop's v in
            # state_b): the kernel's other argument is scratch it never
            # writes. (One array passed twice would be two copies in the
            # simulator, the last written back winning.)
            state = device.to_device(state_a)
            scratch = device.empty(state_a.shape, state_a.dtype)
            self._state = (state, scratch) if code == KERNEL_SGD else (scratch, state)
            self._state_copies = [(state, state_a)]
        else:
            self._state = (device.to_device(state_a), device.to_device(state_b))
            self._state_copies = list(zip(self._state, (state_a, state_b)))
        # SGD's hyperparameters are two, Adam's three or four: the kernels
        # read up to four.
        padded = np.zeros(4)
        padded[:len(hyper)] = hyper
        self._hyper = device.to_device(padded)
        p = self.network.dropout
        if p > 0:
            self._dropout = (True, np.uint64(dropout_seed & (2**64 - 1)),
                             np.uint64(_dropout.threshold(p)),
                             self.network.dtype.type(1.0 / (1.0 - p)))

    def _set_params(self, params):
        """The device's parameter buffer, and its per-layer views."""
        self._params = params
        self._coefs = self._layout.coef_views(params)
        self._intercepts = self._layout.intercept_views(params)

    def run_epoch(self, order, batch_size):
        device, optimizer = self._device, self.optimizer
        _, rate, _, _, _, t = optimizer.kernel_state()
        device.upload(self._rate, np.array([rate], np.float64))
        device.upload(self._t, np.array([t], np.int64))
        device.upload(self._loss_sum, np.zeros(1, np.float64))
        n_samples = self.X.shape[0] if order is None else len(order)
        if order is not None:
            self._upload_order(order)
        plan = self._epoch_plan(order is not None, n_samples, batch_size)
        key = (order is not None, n_samples, batch_size)
        with _quiet_launches():
            if (_tunables.CUDA_GRAPHS and self._graphs_work and not device.simulated
                    and self._epochs > 0):
                if self._graph is None or self._graph[0] != key:
                    self._release_graph()
                    self._capture(key, plan, n_samples, batch_size)
                if self._graph is not None:
                    device.replay(self._graph[1])
                    self.graph_epochs += 1
                else:
                    plan()
            else:
                plan()
        self._epochs += 1
        total = float(device.download(self._loss_sum)[0])
        optimizer.steps_taken(t + math.ceil(n_samples / batch_size))
        return total

    def _capture(self, key, plan, n_samples, batch_size):
        """Capture the epoch's launches as a graph (self._graph), or warn
        once and launch eagerly from then on: a captured epoch never ran, so
        running it eagerly instead is the same epoch."""
        # Nothing may be allocated during a capture.
        for rows in {batch_size, n_samples % batch_size} - {0}:
            self._layer_buffers(rows)
            self._rowloss(rows)
        try:
            self._graph = (key, self._device.capture(plan))
        except Exception as exc:
            self._graphs_work = False
            warnings.warn(f"fastmlp's CUDA engine could not capture an epoch as a CUDA "
                          f"graph ({exc}); it launches each kernel instead (slower, "
                          f"same results).", RuntimeWarning, stacklevel=4)

    def _upload_order(self, order):
        device = self._device
        n = len(order)
        if self._epoch_data is None or self._epoch_data[0].shape[0] != n:
            dtype = self.network.dtype
            self._epoch_data = (
                device.empty(n, np.int64),
                device.empty((n, self.X.shape[1]), dtype),
                device.empty((n, self.Y.shape[1]), dtype),
                device.empty(n if self._weighted else 1, dtype),
            )
        device.upload(self._epoch_data[0], np.asarray(order, dtype=np.int64))

    def _epoch_plan(self, shuffled, n_samples, batch_size):
        """A function launching one epoch's work (every launch on the
        stream, so that a graph can capture it)."""
        def plan():
            if shuffled:
                d_order, X, Y, sw = self._epoch_data
                blocks, threads = self._launch.grid2d(n_samples, self.X.shape[1])
                self._k.permute[blocks, threads, self._device.stream](
                    d_order, self._X, self._Y, self._sw, self._weighted, X, Y, sw)
            else:
                X, Y, sw = self._X, self._Y, self._sw
            for start in range(0, n_samples, batch_size):
                stop = min(start + batch_size, n_samples)
                self._step(X[start:stop], Y[start:stop],
                           sw[start:stop] if self._weighted else sw)
        return plan

    def _layer_buffers(self, rows):
        """Per layer: (output, pre-activation or None, derivative source,
        delta), for minibatches of ``rows`` rows."""
        if rows not in self._buffers:
            device, dtype = self._device, self.network.dtype
            units = self.network.layer_units
            dropout = self.network.dropout > 0
            layers = []
            for i in range(1, len(units)):
                out = device.empty((rows, units[i]), dtype)
                hidden = i < len(units) - 1
                pre = device.empty((rows, units[i]), dtype) \
                    if hidden and self._keeps_pre[i - 1] else None
                src = pre if pre is not None else (
                    device.empty((rows, units[i]), dtype) if hidden and dropout else out)
                layers.append((out, pre, src, device.empty((rows, units[i]), dtype)))
            self._buffers[rows] = layers
        return self._buffers[rows]

    def _forward(self, X, layers):
        """The forward pass of X's rows: the hidden layers' outputs (dropped
        out when dropout is on) into ``layers``; returns the output block."""
        device, k, launch = self._device, self._k, self._launch
        coefs, intercepts = self._coefs, self._intercepts
        on, seed, threshold, scale = self._dropout
        below = X
        for i, (out, pre, src, _) in enumerate(layers[:-1]):
            device.gemm(below, coefs[i], out)
            blocks, threads = launch.flat(out.size)
            k.hidden_forward[blocks, threads, device.stream](
                out, intercepts[i], self._hidden_codes[i],
                self._dummy if pre is None else pre, pre is not None,
                # (No array twice: the simulator copies each argument in
                # and back out, and the last copy back would win.)
                src if src is not out and src is not pre else self._dummy,
                on, seed, self._t, i,
                threshold, scale)
            below = out
        out = layers[-1][0]
        device.gemm(below, coefs[-1], out)
        return out

    def _loss_and_raw_gradient(self, X, Y, sw):
        """Forward and backward passes over (X, Y, sw) at the device's
        parameters: the minibatch's loss added to the loss sum, its weight
        sum set, and the raw gradient sums (without the L2 term and
        divisor) in the gradient buffer."""
        device, k, launch = self._device, self._k, self._launch
        params, coefs, intercepts = self._params, self._coefs, self._intercepts
        rows = X.shape[0]
        layers = self._layer_buffers(rows)
        out = self._forward(X, layers)
        delta = layers[-1][3]
        rowloss = self._rowloss(rows)
        blocks, threads = launch.rows(rows)
        k.output_delta[blocks, threads, device.stream](
            out, intercepts[-1], self._out_code, self._loss_code, Y, sw,
            self._weighted, delta, rowloss)
        if self.network.alpha > 0:
            blocks, threads = launch.reduction(self._n_coef)
            k.sum_squares[blocks, threads, device.stream](params, self._n_coef,
                                                          self._partials)
            n_partials = blocks
        else:
            n_partials = 0
        k.finish_loss[1, 1, device.stream](
            rowloss, sw, self._weighted, rows, self._loss_factor, self._partials,
            n_partials, self.network.alpha, self._sw_sum, self._loss_sum)

        coef_grads, intercept_grads = self._coef_grads, self._intercept_grads
        on, seed, threshold, scale = self._dropout
        for i in range(len(layers) - 1, -1, -1):
            below = X if i == 0 else layers[i - 1][0]
            device.gemm(below, delta, coef_grads[i], trans_a=True)
            blocks, threads = launch.flat(delta.shape[1])
            k.column_sums[blocks, threads, device.stream](delta, intercept_grads[i])
            if i > 0:
                _, _, src, lower = layers[i - 1]
                device.gemm(delta, coefs[i], lower, trans_b=True)
                blocks, threads = launch.flat(lower.size)
                k.hidden_backward[blocks, threads, device.stream](
                    lower, src, self._hidden_codes[i - 1], on, seed, self._t, i - 1,
                    threshold, scale)
                delta = lower

    def _rowloss(self, rows):
        key = ("rowloss", rows)
        if key not in self._buffers:
            self._buffers[key] = self._device.empty(rows, np.float64)
        return self._buffers[key]

    def _step(self, X, Y, sw):
        device, k = self._device, self._k
        self._loss_and_raw_gradient(X, Y, sw)
        state_a, state_b = self._state
        blocks, threads = self._launch.flat(self._params.size)
        k.optimizer_step[blocks, threads, device.stream](
            self._code, self._params, self._grad, state_a, state_b, self._n_coef,
            self.network.alpha, self._sw_sum, self._rate, self._hyper, self._t)
        k.advance[1, 1, device.stream](self._t)

    def parameters(self):
        return self._device.download(self._params, self.params)

    def finish(self):
        device = self._device
        self.parameters()
        for state, host in self._state_copies:
            device.download(state, host)
        self._release_graph()

    def _release_graph(self):
        if self._graph is not None:
            self._device.release(self._graph[1])
            self._graph = None

    # ------------------------------------------------------------ L-BFGS

    def loss_grad(self, params, grad):
        device, k = self._device, self._k
        if self._params is None:
            self._set_params(device.to_device(params))
        else:
            device.upload(self._params, params)
        device.upload(self._loss_sum, np.zeros(1, np.float64))
        device.upload(self._t, np.zeros(1, np.int64))
        with _quiet_launches():
            self._loss_and_raw_gradient(self._X, self._Y, self._sw)
            blocks, threads = self._launch.flat(self._params.size)
            k.full_gradient[blocks, threads, device.stream](
                self._params, self._grad, self._n_coef, self.network.alpha, self._sw_sum)
        device.download(self._grad, grad)
        return float(device.download(self._loss_sum)[0]) / self.X.shape[0]


class CudaEngine(Engine):
    """Numba CUDA kernels over cuBLAS GEMMs, the fit resident on the GPU
    (or in Numba's CUDA simulator, for the tests)."""

    name = "cuda"

    @classmethod
    def is_available(cls):
        return unavailable_reason() is None

    @classmethod
    def unavailable_reason(cls):
        return unavailable_reason()

    def __init__(self):
        self._device = None

    def trainer(self, network, X, Y, sample_weight):
        device = _SimulatedDevice() if _simulated() else _GpuDevice()
        return CudaTrainer(network, X, Y, sample_weight, device)
