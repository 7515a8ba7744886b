"""A fit's RandomState, made as scikit-learn makes it, and the epochs'
shuffle of the training rows: ``RandomState.shuffle``'s permutation and
draws, ~2.5x faster for a plain RandomState (kernels/_shuffle.h: 10000
rows, 122 -> 48 us, a tenth of a small network's epoch).

scikit-learn reshuffles the training positions with its RandomState at the
start of every epoch; the kernel makes the same draws from the same MT19937
state, in place, so the RandomState ends where NumPy's shuffle leaves it.
It reads the state where NumPy keeps it (its ``mt19937_state`` struct,
behind the bit generator's capsule), a layout checked once per process
against the state NumPy reports; anything else (a subclass, another bit
generator, another layout, kernels not built) shuffles through NumPy.
"""

import functools
from numbers import Integral

import numpy as np
from numpy.random.bit_generator import ISeedSequence
from sklearn.utils import check_random_state as _sklearns_check_random_state

try:
    from ._kernels._train import mt19937_shuffle, mt19937_state
except ImportError:      # kernels not built: NumPy's shuffle
    mt19937_shuffle = mt19937_state = None


class _NoEntropy(ISeedSequence):
    """Zeros for an MT19937's first state, which the legacy seeding then
    replaces whole."""

    def generate_state(self, n_words, dtype=np.uint32):
        return np.zeros(n_words, dtype=dtype)


_NO_ENTROPY = _NoEntropy()


def check_random_state(seed):
    """scikit-learn's ``check_random_state``: for an integer seed, the same
    ``RandomState(seed)`` in state and errors, made in ~60 us instead of
    ~170: ``RandomState(seed)`` first seeds its MT19937 from fresh OS
    entropy through a SeedSequence, then replaces that state by the seed's
    (``seed``, its legacy seeding); here the first state is zeros."""
    if isinstance(seed, Integral):
        random_state = np.random.RandomState(np.random.MT19937(_NO_ENTROPY))
        random_state.seed(seed)
        return random_state
    return _sklearns_check_random_state(seed)


@functools.cache
def _state_layout_known():
    """Whether the kernel reads an MT19937's key words and position as
    NumPy reports them."""
    if mt19937_state is None:
        return False
    generator = np.random.MT19937(20261203)
    generator.random_raw(1000)      # a position inside the key
    key, position = mt19937_state(generator.capsule)
    state = generator.state["state"]
    return position == state["pos"] and np.array_equal(
        np.asarray(key, dtype=np.uint32), state["key"])


def shuffle(random_state, positions):
    """``random_state.shuffle(positions)``: the same order and draws."""
    generator = getattr(random_state, "_bit_generator", None)
    if (type(random_state) is np.random.RandomState
            and type(generator) is np.random.MT19937
            and positions.dtype == np.intp and positions.ndim == 1
            and positions.flags.c_contiguous and positions.flags.writeable
            and len(positions) <= 2**32 and _state_layout_known()):
        with generator.lock:
            mt19937_shuffle(generator.capsule, positions)
    else:
        random_state.shuffle(positions)
