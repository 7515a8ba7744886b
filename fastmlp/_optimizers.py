"""Stochastic optimizers over the flat parameter buffer.

An optimizer holds its hyperparameters, its learning-rate schedule (updated
once per epoch by the estimator) and its state arrays, each the size of the
flat parameter buffer. ``step`` is the plain NumPy update: the reference that
the numpy engine uses and that the fast engines' fused kernels are tested
against. Its arithmetic follows scikit-learn's operation by operation, so that
in float64 both produce the same bits.
"""

import numpy as np

# The step kernels' codes (the cpu engine's loops dispatch on them).
KERNEL_ADAM, KERNEL_SGD = 0, 1


class SGD:
    """Minibatch SGD with (Nesterov) momentum and a learning-rate schedule."""

    kind = "sgd"

    def __init__(
        self, n_params, dtype, learning_rate_init, lr_schedule, momentum,
        nesterov, power_t,
    ):
        self.learning_rate_init = learning_rate_init
        self.learning_rate = float(learning_rate_init)
        self.lr_schedule = lr_schedule
        self.momentum = momentum
        self.nesterov = nesterov
        self.power_t = power_t
        self.velocity = np.zeros(n_params, dtype=dtype)

    def fits(self, solver, params):
        """Whether this state can go on updating ``params`` for ``solver``."""
        return solver == self.kind and self.velocity.shape == params.shape \
            and self.velocity.dtype == params.dtype

    def kernel_state(self):
        """What a fused step kernel takes, the same for every optimizer:
        (kernel code, rate, state_a, state_b, beta_1, beta_2, epsilon,
        momentum, nesterov, step count)."""
        return (KERNEL_SGD, float(self.learning_rate), self.velocity, self.velocity,
                0.0, 0.0, 0.0, float(self.momentum), int(self.nesterov), 0)

    def steps_taken(self, t):
        """A kernel ran steps up to count ``t`` (SGD keeps no count)."""

    def step(self, params, grad):
        """Update ``params`` in place from ``grad`` (both flat)."""
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
        """Apply the per-epoch schedule; ``time_step`` is samples seen so far."""
        if self.lr_schedule == "invscaling":
            self.learning_rate = (
                float(self.learning_rate_init) / (time_step + 1) ** self.power_t
            )

    def trigger_stopping(self, msg, verbose):
        """Return True to stop; the adaptive schedule divides the rate by 5."""
        if self.lr_schedule != "adaptive":
            if verbose:
                print(msg + " Stopping.")
            return True
        if self.learning_rate <= 1e-6:
            if verbose:
                print(msg + " Learning rate too small. Stopping.")
            return True
        self.learning_rate /= 5.0
        if verbose:
            print(msg + " Setting learning rate to %f" % self.learning_rate)
        return False


def adam_rate(learning_rate_init, beta_1, beta_2, t):
    """Adam's step size at step ``t`` (1-based), bias corrections included,
    as scikit-learn forms it. The one definition: Adam runs it in Python and
    the cpu engine's loops run it jitted (float powers, as Python's; Numba's
    power by an integer would multiply)."""
    return learning_rate_init * np.sqrt(1 - beta_2 ** float(t)) / (1 - beta_1 ** float(t))


class Adam:
    """Adam (Kingma and Ba, 2014) with bias correction folded into the rate."""

    kind = "adam"

    def __init__(
        self, n_params, dtype, learning_rate_init, beta_1, beta_2, epsilon
    ):
        self.learning_rate_init = learning_rate_init
        self.learning_rate = float(learning_rate_init)
        self.beta_1 = beta_1
        self.beta_2 = beta_2
        self.epsilon = epsilon
        self.t = 0
        self.m = np.zeros(n_params, dtype=dtype)
        self.v = np.zeros(n_params, dtype=dtype)

    def fits(self, solver, params):
        """Whether this state can go on updating ``params`` for ``solver``."""
        return solver == self.kind and self.m.shape == params.shape \
            and self.m.dtype == params.dtype

    def corrected_rate(self, t):
        """The step size at step ``t`` (1-based), bias corrections included."""
        return float(adam_rate(self.learning_rate_init, self.beta_1, self.beta_2, t))

    def kernel_state(self):
        """As SGD.kernel_state; the kernel forms the rate of each step from
        learning_rate_init (adam_rate)."""
        return (KERNEL_ADAM, float(self.learning_rate_init), self.m, self.v,
                float(self.beta_1), float(self.beta_2), float(self.epsilon), 0.0, 0, self.t)

    def steps_taken(self, t):
        """A kernel ran steps up to count ``t``: the count and the current
        rate follow, so an interrupted fit keeps the state of its steps."""
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

    def iteration_ends(self, time_step):
        """Adam has no per-epoch schedule."""

    def trigger_stopping(self, msg, verbose):
        """Adam always stops when the loss stalls."""
        if verbose:
            print(msg + " Stopping.")
        return True


def make_optimizer(estimator, n_params, dtype):
    """The optimizer that ``estimator``'s hyperparameters ask for."""
    if estimator.solver == "sgd":
        return SGD(
            n_params, dtype, estimator.learning_rate_init,
            estimator.learning_rate, estimator.momentum,
            estimator.nesterovs_momentum, estimator.power_t,
        )
    return Adam(
        n_params, dtype, estimator.learning_rate_init, estimator.beta_1,
        estimator.beta_2, estimator.epsilon,
    )
