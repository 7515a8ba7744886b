"""Engines: the code that runs minibatches for the estimators.

``get_engine(backend)`` resolves an estimator's ``backend`` parameter.
"""

from ._base import Engine, Network, Trainer
from .cpu_engine import CpuEngine
from .cuda_engine import CudaEngine
from .numpy_engine import NumpyEngine

# Fastest first: "auto" takes the first one that is available here.
_ENGINES = {"numpy": NumpyEngine, "cpu": CpuEngine, "cuda": CudaEngine}
# "auto" never picks the GPU (a user asks for it) nor its simulator.
_AUTO_ORDER = ("cpu", "numpy")
BACKENDS = ("auto", "numpy", "cpu", "cuda")


def get_engine(backend):
    """The engine for ``backend`` ('auto', 'numpy', 'cpu' or 'cuda')."""
    if backend == "auto":
        for name in _AUTO_ORDER:
            if _ENGINES[name].is_available():
                return _ENGINES[name]()
    cls = _ENGINES.get(backend)
    if cls is not None and cls.is_available():
        return cls()
    reason = None if cls is None else cls.unavailable_reason()
    if reason is None:
        available = [n for n, c in _ENGINES.items() if c.is_available()]
        reason = (f"backend={backend!r} is not available here; available backends: "
                  f"{['auto'] + available}.")
    raise ValueError(reason)


__all__ = ["Engine", "Network", "Trainer", "get_engine", "BACKENDS"]
