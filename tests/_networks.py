"""Small random networks and data for the gradient tests of every engine."""

import numpy as np

from fastmlp._operations import HIDDEN_ACTIVATIONS, OUTPUT_LOSSES
from fastmlp.engines import Network

# A target generator per loss (rs, n_rows, n_outputs) -> Y.
TARGETS = {
    "log_loss": lambda rs, n, k: np.eye(k)[rs.randint(k, size=n)],
    "binary_log_loss": lambda rs, n, k: rs.randint(2, size=(n, k)).astype(float),
    "squared_error": lambda rs, n, k: rs.normal(size=(n, k)),
    "poisson": lambda rs, n, k: rs.poisson(1.5, size=(n, k)).astype(float),
}

# Output activation -> its canonical loss and targets, for every pair of
# fastmlp/_operations.py (a pair without a generator fails here).
OUTPUTS = {o.activation: (o.name, TARGETS[o.name]) for o in OUTPUT_LOSSES.values()}

# A per-layer activation for the two hidden layers of make_problem's
# network: the table's last two entries, so the newest activations meet.
PER_LAYER = tuple(HIDDEN_ACTIVATIONS)[-2:]


def make_problem(activation, out_activation, weighted, seed=0, n=30,
                 units=(5, 6, 4, 3), alpha=0.3):
    """(network, X, Y, sample_weight, params) in float64.

    With an L2 term, squared error gets a single output: scikit-learn's
    squared-error gradient is n_outputs times that of its reported loss (see
    test_numpy_engine.test_squared_error_gradient_is_per_output_sum), so
    only one output makes the loss and the gradient agree.
    """
    rs = np.random.RandomState(seed)
    loss, make_y = OUTPUTS[out_activation]
    if out_activation == "identity" and units[-1] > 1 and alpha:
        units = units[:-1] + (1,)
    network = Network(units, activation, out_activation, loss, alpha=alpha,
                      dtype=np.dtype(np.float64))
    X = rs.normal(size=(n, units[0]))
    Y = make_y(rs, n, units[-1])
    sw = rs.uniform(0.5, 2.0, size=n) if weighted else None
    params = rs.uniform(-0.5, 0.5, size=network.layout.size)
    if activation == "relu":
        # keep pre-activations away from the kink, where the derivative jumps
        params[network.layout.intercept_slices[0]] += 0.05
    return network, X, Y, sw, params
