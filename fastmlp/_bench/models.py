"""The models a row names: scikit-learn, fastmlp per engine, and PyTorch.

Row names are 'sklearn', 'fastmlp[<engine>]' for every engine available here,
and 'pytorch' (an eager CPU MLP trained with scikit-learn's recipe) when
PyTorch is installed. The factories build unfitted estimators for a row name;
``fit_quietly`` fits one without the ConvergenceWarning of a short fit.
"""

import math
import os
import warnings

import numpy as np

from .cases import BF16, TORCH, TORCH_BF16


def engine_names():
    """fastmlp engines available here, in the order of ``engines._ENGINES``;
    not the cuda engine in Numba's CUDA simulator (Python per GPU thread:
    only the cuda suite's --quick runs it, for the tests)."""
    from ..engines import _ENGINES
    from ..engines.cuda_engine import _simulated

    return [name for name, cls in _ENGINES.items() if cls.is_available()
            and not (name == "cuda" and _simulated())]


def torch_available():
    try:
        import torch  # noqa: F401
    except ImportError:
        return False
    return True


def available_models(torch=True):
    """Row names: 'sklearn', 'fastmlp[<engine>]' per engine, then 'pytorch'."""
    models = ["sklearn"] + [f"fastmlp[{name}]" for name in engine_names()]
    if torch and torch_available():
        models.append(TORCH)
    return models


def bf16_models(torch=True):
    """The bfloat16 rows this machine can run (float32 cases only): fastmlp's
    where the CPU has AMX or AVX512-BF16, PyTorch's autocast where it is
    installed."""
    from .._kernels import _train

    models = []
    if "cpu" in engine_names() and _train.bf16_support() is not None:
        models.append(BF16)
    if torch and torch_available():
        models.append(TORCH_BF16)
    return models


def cpu_description():
    """The CPU's model name and the vector and matrix extensions that matter
    here, with the bfloat16 kernel fastmlp runs on it: one line."""
    import platform

    from .._kernels import _train

    name, flags = platform.processor() or platform.machine(), set()
    try:
        with open("/proc/cpuinfo") as cpuinfo:
            for line in cpuinfo:
                key, _, value = line.partition(":")
                if key.strip() == "model name":
                    name = value.strip()
                elif key.strip() == "flags":
                    flags = set(value.split())
                    break
    except OSError:
        pass
    wanted = ("avx2", "fma", "avx512f", "avx512_vnni", "avx512_bf16", "amx_tile",
              "amx_bf16", "amx_int8")
    present = [flag for flag in wanted if flag in flags] or ["(not listed)"]
    return (f"CPU: {name}; extensions: {' '.join(present)}; fastmlp's bfloat16 "
            f"GEMMs: {_train.bf16_support() or 'none (no AMX nor AVX512-BF16)'}")


def _blas_threads():
    """Threads of the BLAS that NumPy uses (what the other models are given)."""
    from threadpoolctl import threadpool_info

    for pool in threadpool_info():
        if pool["user_api"] == "blas":
            return pool["num_threads"]
    return os.cpu_count() or 1


class TorchMLPClassifier:
    """The PyTorch eager CPU baseline, trained with scikit-learn's recipe.

    ``nn.Sequential`` of Linear/ReLU, softmax cross-entropy, Adam with
    scikit-learn's defaults (lr 1e-3, L2 ``alpha`` on the weights only, as
    ``alpha / batch_size`` of weight decay), Glorot-uniform initialisation,
    reshuffled minibatches, in the input's dtype, with as many threads as
    NumPy's BLAS. Only ``fit``, ``predict_proba``, ``predict`` and ``score``.
    """

    def __init__(self, hidden_layer_sizes=(100,), batch_size=200, max_iter=200,
                 learning_rate_init=1e-3, alpha=1e-4, random_state=0, autocast=False):
        self.hidden_layer_sizes = hidden_layer_sizes
        self.batch_size = batch_size
        self.max_iter = max_iter
        self.learning_rate_init = learning_rate_init
        self.alpha = alpha
        self.random_state = random_state
        # torch.autocast("cpu", torch.bfloat16) around the forward pass and
        # loss: PyTorch's bfloat16 GEMMs with float32 master weights.
        self.autocast = autocast

    def _autocast(self):
        import contextlib

        import torch

        if not self.autocast:
            return contextlib.nullcontext()
        return torch.autocast("cpu", dtype=torch.bfloat16)

    def fit(self, X, y):
        import torch

        torch.set_num_threads(_blas_threads())
        generator = torch.Generator().manual_seed(self.random_state)
        self.classes_, y_index = np.unique(y, return_inverse=True)
        X = self._tensor(X)
        Y = torch.from_numpy(y_index.astype(np.int64))
        units = (X.shape[1], *self.hidden_layer_sizes, len(self.classes_))
        layers = []
        for fan_in, fan_out in zip(units[:-1], units[1:]):
            linear = torch.nn.Linear(fan_in, fan_out, dtype=X.dtype)
            bound = math.sqrt(6.0 / (fan_in + fan_out))
            with torch.no_grad():
                linear.weight.uniform_(-bound, bound, generator=generator)
                linear.bias.uniform_(-bound, bound, generator=generator)
            layers += [linear, torch.nn.ReLU()]
        self.model_ = model = torch.nn.Sequential(*layers[:-1])
        linears = [m for m in model if isinstance(m, torch.nn.Linear)]
        optimizer = torch.optim.Adam(
            [
                {"params": [m.weight for m in linears],
                 "weight_decay": self.alpha / self.batch_size},
                {"params": [m.bias for m in linears], "weight_decay": 0.0},
            ],
            lr=self.learning_rate_init, betas=(0.9, 0.999), eps=1e-8,
        )
        loss_fn = torch.nn.CrossEntropyLoss()
        n_samples = X.shape[0]
        for _ in range(self.max_iter):
            order = torch.randperm(n_samples, generator=generator)
            for start in range(0, n_samples, self.batch_size):
                rows = order[start:start + self.batch_size]
                optimizer.zero_grad(set_to_none=True)
                with self._autocast():
                    loss = loss_fn(model(X[rows]), Y[rows])
                loss.backward()
                optimizer.step()
        return self

    def _tensor(self, X):
        import torch

        X = np.asarray(X)
        if X.dtype != np.float32:
            X = X.astype(np.float64, copy=False)
        return torch.from_numpy(np.ascontiguousarray(X))

    def predict_proba(self, X):
        import torch

        with torch.no_grad(), self._autocast():
            return torch.softmax(self.model_(self._tensor(X)).float(), dim=1).numpy()

    def predict(self, X):
        return self.classes_[np.argmax(self.predict_proba(X), axis=1)]

    def score(self, X, y):
        return float(np.mean(self.predict(X) == y))


def make_model(model, hidden_layer_sizes, batch_size, epochs, random_state=0,
               options=None):
    """An unfitted classifier for a row name, set to run exactly ``epochs``;
    ``options``: fastmlp parameters beyond scikit-learn's."""
    if model in (TORCH, TORCH_BF16):
        return TorchMLPClassifier(hidden_layer_sizes, batch_size, epochs,
                                  random_state=random_state, autocast=model == TORCH_BF16)
    if model == BF16:
        model, options = "fastmlp[cpu]", {**(options or {}), "matmul_precision": "bfloat16"}
    cls, engine = _estimator_class(model)
    return cls(
        hidden_layer_sizes=hidden_layer_sizes, batch_size=batch_size,
        max_iter=epochs, tol=0.0, n_iter_no_change=epochs + 1,
        random_state=random_state, **engine, **(options or {}),
    )


def _estimator_class(model, regression=False):
    """scikit-learn's or fastmlp's estimator class for a row name, and the
    parameters that pick fastmlp's engine."""
    if model == "sklearn":
        from sklearn import neural_network as module

        engine = {}
    elif model.startswith("fastmlp[") and model.endswith("]"):
        import fastmlp as module

        engine = {"backend": model[len("fastmlp["):-1]}
    else:
        raise ValueError(f"unknown model {model!r}; models here: {available_models()}")
    return (module.MLPRegressor if regression else module.MLPClassifier), engine


def make_default_model(model, regression, solver, random_state=0):
    """An estimator with default settings but the solver (no PyTorch row)."""
    cls, engine = _estimator_class(model, regression)
    return cls(solver=solver, random_state=random_state, **engine)


def classifier_layer_units(X, y, hidden_layer_sizes):
    """``(n_features, *hidden, n_outputs)`` of a classifier, as sklearn sizes it."""
    n_classes = len(np.unique(y))
    return (X.shape[1], *hidden_layer_sizes, 1 if n_classes == 2 else n_classes)


def fit_quietly(estimator, X, y):
    """``estimator.fit(X, y)`` without the ConvergenceWarning of a short fit."""
    from sklearn.exceptions import ConvergenceWarning

    with warnings.catch_warnings():
        # A fixed number of epochs, on purpose.
        warnings.simplefilter("ignore", ConvergenceWarning)
        return estimator.fit(X, y)
