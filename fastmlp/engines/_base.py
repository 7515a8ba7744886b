"""What an engine must provide to the estimators.

An engine trains one network layout on one data set. The estimators own
everything per epoch (shuffling, schedules, early stopping, attributes) and
never branch on which engine runs; an engine owns everything per minibatch.
During a stochastic fit the trainer owns the parameters and the optimizer's
state, and gives them back when asked (host engines update the estimator's
own buffer in place; a GPU engine keeps them on the device and copies them
back into it):

    engine = get_engine("numpy")
    trainer = engine.trainer(network, X, Y, sample_weight)
    trainer.start(params, optimizer, dropout_seed)
    loss_sum = trainer.run_epoch(order, batch_size)
    params = trainer.parameters()      # the current weights, in params
    trainer.finish()                   # the optimizer's state back, too
    loss = trainer.loss_grad(x, grad)  # full batch, for L-BFGS
"""

from abc import ABC, abstractmethod
from dataclasses import dataclass

import numpy as np

from .._layout import ParamLayout
from .._operations import hidden_activation_names


@dataclass(frozen=True)
class Network:
    """The layout and loss of one multi-layer perceptron.

    Attributes
    ----------
    layer_units : tuple of int
        ``(n_features, *hidden_layer_sizes, n_outputs)``.
    activation : str or tuple of str
        Hidden activation (a name of ``_operations.HIDDEN_ACTIVATIONS``),
        or one per hidden layer.
    out_activation : str
        'identity', 'exp', 'logistic' or 'softmax'.
    loss : str
        'squared_error', 'poisson', 'log_loss' (softmax output) or
        'binary_log_loss' (logistic output).
    alpha : float
        L2 penalty; the penalty term is divided by the sample-weight sum.
    dtype : numpy.dtype
        float32 or float64: the dtype of data, parameters and buffers.
    dropout : float
        Inverted-dropout rate of every hidden layer's output in training
        (fastmlp/_dropout.py); 0 for none.
    matmul_precision : str or None
        The training GEMMs' arithmetic: None for the dtype's; an engine
        that has other modes names them in ``Trainer.matmul_precisions``.
    """

    layer_units: tuple
    activation: str
    out_activation: str
    loss: str
    alpha: float
    dtype: np.dtype
    dropout: float = 0.0
    matmul_precision: str = None

    @property
    def hidden_activations(self):
        """The activation of each hidden layer, by name."""
        return hidden_activation_names(self.activation, len(self.layer_units) - 2)

    @property
    def layout(self):
        return ParamLayout(self.layer_units)


class Trainer(ABC):
    """Training state for one fit: the data and preallocated buffers.

    ``X`` is (n_samples, n_features) dense or CSR/CSC, ``Y`` is
    (n_samples, n_outputs) in the network's dtype, ``sample_weight`` is None or
    (n_samples,). None of them is modified.
    """

    # The GEMM arithmetics this engine offers (Network.matmul_precision).
    matmul_precisions = (None,)

    def __init__(self, network, X, Y, sample_weight):
        if network.matmul_precision not in self.matmul_precisions:
            offered = [p for p in self.matmul_precisions if p is not None]
            raise ValueError(
                f"matmul_precision={network.matmul_precision!r} is not offered by "
                f"this backend; " + (f"it offers {offered}." if offered else
                                     "it multiplies in the data's dtype only.") +
                " 'tf32' needs backend='cuda'.")
        self.network = network
        self.X = X
        self.Y = Y
        self.sample_weight = sample_weight
        self.params = self.optimizer = None
        self.dropout_seed = 0

    def start(self, params, optimizer, dropout_seed=0):
        """Take over ``params`` (the flat buffer of ``ParamLayout``, which
        the estimator's coefs_ view) and ``optimizer`` for a stochastic fit;
        ``dropout_seed`` keys the dropout masks (fastmlp/_dropout.py)."""
        self.params, self.optimizer, self.dropout_seed = params, optimizer, dropout_seed

    def parameters(self):
        """The current parameters, written into the buffer ``start`` took,
        which is returned (host engines train it in place)."""
        return self.params

    def finish(self):
        """The end of a fit: the parameters and the optimizer's state are
        the estimator's again (host engines updated them in place)."""

    @abstractmethod
    def run_epoch(self, order, batch_size):
        """One pass over the data in minibatches, updating the parameters
        and the optimizer's state (its step count ``t`` included).

        Parameters
        ----------
        order : ndarray of intp or None
            The rows of X this epoch trains on, in order (minibatch ``j`` is
            ``order[j * batch_size:(j + 1) * batch_size]``); it may be a
            subset of the rows (early stopping holds some out). None means
            every row in its natural order.
        batch_size : int

        Returns
        -------
        float
            Sum over minibatches of (minibatch loss x minibatch size).
        """

    @abstractmethod
    def loss_grad(self, params, grad):
        """Full-batch loss at ``params``; writes its gradient into ``grad``."""


class Engine(ABC):
    """A family of trainers (numpy, cpu, cuda)."""

    name = None

    @classmethod
    def is_available(cls):
        """Whether this engine can run here (hardware, optional packages)."""
        return True

    @classmethod
    def unavailable_reason(cls):
        """Why this engine cannot run here, for its error message; None for
        the generic one (which lists the backends that can)."""
        return None

    @abstractmethod
    def trainer(self, network, X, Y, sample_weight):
        """A ``Trainer`` for ``network`` on this data."""
