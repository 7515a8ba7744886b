"""Stochastic optimizers over the flat parameter buffer, one table.

An optimizer is one object: its hyperparameters, its learning-rate schedule
(updated once per epoch by the estimator), its state arrays (each the size
of the flat parameter buffer) and its per-step scalars. ``step`` is the
plain NumPy update: the reference that the numpy engine runs and that the
fast engines' fused kernels are tested against. Its arithmetic follows
scikit-learn's operation by operation, so that in float64 both produce the
same bits.

``OPTIMIZERS`` is the single source of the stochastic solvers' names (the
estimators' ``solver`` constraint and the tests parametrize over it), each
with its kernel code: the index of its name in ``FASTMLP_STEP_NAMES``
(kernels/_vector.h), which ``check_step_codes`` compares when the kernels
load. A fast engine takes ``kernel_state()``, the same tuple from every
optimizer, runs ``step_rate`` per step (jitted) and hands back the step
count (``steps_taken``): it never asks which optimizer it runs.
"""

from numbers import Real

import numpy as np
from sklearn.utils._param_validation import Interval

# The step kernels' codes: the order of FASTMLP_STEP_NAMES in _vector.h.
KERNEL_ADAM, KERNEL_SGD, KERNEL_RMSPROP, KERNEL_ADAMW = 0, 1, 2, 3


def step_rate(code, rate, hyper, t):
    """The rate a step kernel takes at step ``t`` (1-based), from the
    ``rate`` and ``hyper`` of ``kernel_state()``: for Adam, the bias
    corrections folded in as scikit-learn folds them; for the others the
    rate as given. The one definition of each: the optimizers run it in
    Python and the cpu engine's loops run it jitted (float powers, as
    Python's; Numba's power by an integer would multiply)."""
    if code == KERNEL_ADAM or code == KERNEL_ADAMW:
        beta_1, beta_2 = hyper[0], hyper[1]
        return rate * np.sqrt(1 - beta_2 ** float(t)) / (1 - beta_1 ** float(t))
    return rate


class Optimizer:
    """What every optimizer offers the estimators and the engines."""

    name = None      # the solver's name
    code = None      # the step kernel's code
    # The estimators' parameters this optimizer adds to scikit-learn's, with
    # their constraints (merged into both estimators' constraints).
    parameter_constraints = {}

    def __init__(self, learning_rate_init):
        self.learning_rate_init = learning_rate_init
        self.learning_rate = float(learning_rate_init)
        self.t = 0            # steps taken

    @classmethod
    def from_estimator(cls, estimator, n_params, n_coef, dtype):
        """The optimizer with ``estimator``'s hyperparameters, over a flat
        buffer of ``n_params`` entries whose first ``n_coef`` are the
        coefficients (the rest are intercepts)."""
        raise NotImplementedError

    def state_arrays(self):
        """The state arrays, two (the kernels' state_a and state_b; one
        array twice where there is one)."""
        raise NotImplementedError

    def hyperparameters(self):
        """The step kernel's scalars, in the order its code reads them."""
        raise NotImplementedError

    def fits(self, solver, params):
        """Whether this state can go on updating ``params`` for ``solver``."""
        state = self.state_arrays()[0]
        return solver == self.name and state.shape == params.shape \
            and state.dtype == params.dtype

    def kernel_state(self):
        """What a fused step kernel takes, the same for every optimizer:
        (code, rate, state_a, state_b, hyperparameters as float64, step
        count). ``step_rate`` forms each step's rate from it."""
        state_a, state_b = self.state_arrays()
        return (self.code, float(self.kernel_rate()), state_a, state_b,
                np.array(self.hyperparameters(), dtype=np.float64), self.t)

    def kernel_rate(self):
        return self.learning_rate

    def steps_taken(self, t):
        """A kernel ran steps up to count ``t``; so an interrupted fit keeps
        the state of its steps."""
        self.t = t

    def iteration_ends(self, time_step):
        """The per-epoch schedule; ``time_step`` is samples seen so far."""

    def trigger_stopping(self, msg, verbose):
        """Return True to stop when the loss stalls."""
        if verbose:
            print(msg + " Stopping.")
        return True


class SGD(Optimizer):
    """Minibatch SGD with (Nesterov) momentum and a learning-rate schedule."""

    name = "sgd"
    code = KERNEL_SGD

    def __init__(
        self, n_params, dtype, learning_rate_init, lr_schedule, momentum,
        nesterov, power_t,
    ):
        super().__init__(learning_rate_init)
        self.lr_schedule = lr_schedule
        self.momentum = momentum
        self.nesterov = nesterov
        self.power_t = power_t
        self.velocity = np.zeros(n_params, dtype=dtype)

    @classmethod
    def from_estimator(cls, estimator, n_params, n_coef, dtype):
        return cls(n_params, dtype, estimator.learning_rate_init, estimator.learning_rate,
                   estimator.momentum, estimator.nesterovs_momentum, estimator.power_t)

    def state_arrays(self):
        return self.velocity, self.velocity

    def hyperparameters(self):
        return (self.momentum, float(self.nesterov))

    def step(self, params, grad):
        """Update ``params`` in place from ``grad`` (both flat)."""
        self.t += 1
        scaled_grad = self.learning_rate * grad
        self.velocity *= self.momentum
        self.velocity -= scaled_grad
        if self.nesterov:
            update = self.momentum * self.velocity
            update -= scaled_grad
            params += update
        else:
            params += self.velocity

    def iteration_ends(self, time_step):
        if self.lr_schedule == "invscaling":
            self.learning_rate = (
                float(self.learning_rate_init) / (time_step + 1) ** self.power_t
            )

    def trigger_stopping(self, msg, verbose):
        """The adaptive schedule divides the rate by 5 instead of stopping."""
        if self.lr_schedule != "adaptive":
            return super().trigger_stopping(msg, verbose)
        if self.learning_rate <= 1e-6:
            if verbose:
                print(msg + " Learning rate too small. Stopping.")
            return True
        self.learning_rate /= 5.0
        if verbose:
            print(msg + " Setting learning rate to %f" % self.learning_rate)
        return False


class Adam(Optimizer):
    """Adam (Kingma and Ba, 2014) with bias correction folded into the rate."""

    name = "adam"
    code = KERNEL_ADAM

    def __init__(
        self, n_params, dtype, learning_rate_init, beta_1, beta_2, epsilon
    ):
        super().__init__(learning_rate_init)
        self.beta_1 = beta_1
        self.beta_2 = beta_2
        self.epsilon = epsilon
        self.m = np.zeros(n_params, dtype=dtype)
        self.v = np.zeros(n_params, dtype=dtype)

    @classmethod
    def from_estimator(cls, estimator, n_params, n_coef, dtype):
        return cls(n_params, dtype, estimator.learning_rate_init, estimator.beta_1,
                   estimator.beta_2, estimator.epsilon)

    def state_arrays(self):
        return self.m, self.v

    def hyperparameters(self):
        return (self.beta_1, self.beta_2, self.epsilon)

    def kernel_rate(self):
        # step_rate corrects it per step.
        return self.learning_rate_init

    def corrected_rate(self, t):
        """The step size at step ``t`` (1-based), bias corrections included."""
        return float(step_rate(self.code, self.learning_rate_init,
                               self.hyperparameters(), t))

    def steps_taken(self, t):
        self.t = t
        if t:
            self.learning_rate = self.corrected_rate(t)

    def step(self, params, grad):
        """Update ``params`` in place from ``grad`` (both flat)."""
        self.t += 1
        self.m *= self.beta_1
        self.m += (1 - self.beta_1) * grad
        self.v *= self.beta_2
        self.v += (1 - self.beta_2) * (grad * grad)
        self.learning_rate = self.corrected_rate(self.t)
        denom = np.sqrt(self.v)
        denom += self.epsilon
        update = -self.learning_rate * self.m
        update /= denom
        params += update


class RMSprop(Optimizer):
    """RMSprop (Hinton's lecture 6e; Keras' and PyTorch's form):
    ``v = rho v + (1 - rho) g^2; p -= lr g / (sqrt(v) + epsilon)``, at the
    constant rate ``learning_rate_init``."""

    name = "rmsprop"
    code = KERNEL_RMSPROP
    parameter_constraints = {"rho": [Interval(Real, 0, 1, closed="left")]}

    def __init__(self, n_params, dtype, learning_rate_init, rho, epsilon):
        super().__init__(learning_rate_init)
        self.rho = rho
        self.epsilon = epsilon
        self.v = np.zeros(n_params, dtype=dtype)

    @classmethod
    def from_estimator(cls, estimator, n_params, n_coef, dtype):
        return cls(n_params, dtype, estimator.learning_rate_init, estimator.rho,
                   estimator.epsilon)

    def state_arrays(self):
        return self.v, self.v

    def hyperparameters(self):
        return (self.rho, self.epsilon)

    def step(self, params, grad):
        """Update ``params`` in place from ``grad`` (both flat)."""
        self.t += 1
        self.v *= self.rho
        self.v += (1 - self.rho) * (grad * grad)
        denom = np.sqrt(self.v)
        denom += self.epsilon
        update = -self.learning_rate * grad
        update /= denom
        params += update


class AdamW(Adam):
    """AdamW (Loshchilov and Hutter, 2019): the coefficients (not the
    intercepts) first decay, ``p -= learning_rate_init weight_decay p``,
    then exactly Adam's step, from the gradient at the undecayed weights."""

    name = "adamw"
    code = KERNEL_ADAMW
    parameter_constraints = {"weight_decay": [Interval(Real, 0, None, closed="left")]}

    def __init__(self, n_params, n_coef, dtype, learning_rate_init, beta_1, beta_2,
                 epsilon, weight_decay):
        super().__init__(n_params, dtype, learning_rate_init, beta_1, beta_2, epsilon)
        self.n_coef = n_coef
        self.weight_decay = weight_decay

    @classmethod
    def from_estimator(cls, estimator, n_params, n_coef, dtype):
        return cls(n_params, n_coef, dtype, estimator.learning_rate_init,
                   estimator.beta_1, estimator.beta_2, estimator.epsilon,
                   estimator.weight_decay)

    def hyperparameters(self):
        # The decay's factor formed once, in double, as the step uses it.
        return (self.beta_1, self.beta_2, self.epsilon,
                self.learning_rate_init * self.weight_decay)

    def step(self, params, grad):
        """Update ``params`` in place from ``grad`` (both flat)."""
        coefs = params[:self.n_coef]
        coefs -= (self.learning_rate_init * self.weight_decay) * coefs
        super().step(params, grad)


# The stochastic solvers by name.
OPTIMIZERS = {o.name: o for o in (SGD, Adam, RMSprop, AdamW)}


def make_optimizer(estimator, n_params, n_coef, dtype):
    """The optimizer that ``estimator``'s hyperparameters ask for."""
    return OPTIMIZERS[estimator.solver].from_estimator(estimator, n_params, n_coef, dtype)


def parameter_constraints():
    """The parameters the optimizers add, with their constraints."""
    return {name: constraint for optimizer in OPTIMIZERS.values()
            for name, constraint in optimizer.parameter_constraints.items()}


def check_step_codes(kernel_names):
    """Refuse step kernels whose codes are not the table's: ``kernel_names``
    is the kernels' list of names, in code order. Raises ImportError."""
    ours = {o.name: o.code for o in OPTIMIZERS.values()}
    theirs = {name: code for code, name in enumerate(kernel_names)}
    if ours != theirs:
        raise ImportError("fastmlp's compiled step kernels do not match "
                          f"fastmlp/_optimizers.py (rebuild them): table {ours}, "
                          f"kernels {theirs}")
