"""fastmlp's epoch shuffle makes RandomState.shuffle's permutation and draws."""

import pickle
import re
import warnings

import numpy as np
import pytest
from sklearn.exceptions import ConvergenceWarning
from sklearn.neural_network import MLPClassifier as SkClassifier

from fastmlp import MLPClassifier
from sklearn.utils import check_random_state as sklearns_check_random_state

from fastmlp._random import _state_layout_known, check_random_state, shuffle


def _same_state(a, b):
    sa, sb = a.get_state(), b.get_state()
    return (sa[0] == sb[0] and np.array_equal(sa[1], sb[1])
            and sa[2:] == sb[2:])


def test_the_kernel_reads_numpys_state_layout():
    # Else every shuffle would fall back, and the tests below prove nothing.
    assert _state_layout_known()


@pytest.mark.parametrize("n", [0, 1, 2, 3, 7, 33, 129, 624, 10000, 100003])
@pytest.mark.parametrize("seed", [0, 1, 2**32 - 1])
def test_same_permutation_and_draws_as_numpy(n, seed):
    ours, numpys = np.random.RandomState(seed), np.random.RandomState(seed)
    # Draws before (a cached Gaussian among them) and between the shuffles:
    # the twist falls at other places.
    ours.standard_normal(3)
    numpys.standard_normal(3)
    a, b = np.arange(n), np.arange(n)
    for _ in range(3):
        shuffle(ours, a)
        numpys.shuffle(b)
        assert np.array_equal(a, b)
        assert _same_state(ours, numpys)
        ours.randint(10, size=5)
        numpys.randint(10, size=5)
    assert ours.random_sample() == numpys.random_sample()


class _Subclass(np.random.RandomState):
    def shuffle(self, x):
        x[:] = x[::-1]


@pytest.mark.parametrize("make", [
    lambda: _Subclass(0),                                  # its own shuffle
    lambda: np.random.RandomState(np.random.PCG64(0)),     # another generator
])
def test_other_random_states_shuffle_their_own_way(make):
    ours, theirs = make(), make()
    a, b = np.arange(50), np.arange(50)
    shuffle(ours, a)
    theirs.shuffle(b)
    assert np.array_equal(a, b)
    assert ours.random_sample() == theirs.random_sample()


def test_other_arrays_shuffle_through_numpy():
    ours, theirs = np.random.RandomState(0), np.random.RandomState(0)
    a, b = np.arange(50, dtype=np.int32), np.arange(50, dtype=np.int32)
    shuffle(ours, a)
    theirs.shuffle(b)
    assert np.array_equal(a, b)
    assert _same_state(ours, theirs)


def test_a_fit_leaves_the_users_random_state_where_sklearn_does():
    rs = np.random.RandomState(5)
    X = rs.normal(size=(300, 4))
    y = (X[:, 0] > 0).astype(int)
    ours, theirs = np.random.RandomState(9), np.random.RandomState(9)
    kw = dict(hidden_layer_sizes=(5,), batch_size=32, max_iter=4)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        MLPClassifier(random_state=ours, **kw).fit(X, y)
        SkClassifier(random_state=theirs, **kw).fit(X, y)
    assert _same_state(ours, theirs)


@pytest.mark.parametrize("seed", [0, 1, 42, 2**32 - 1, True, np.int64(7), np.uint32(9)])
def test_an_integer_seeds_the_random_state_sklearn_makes(seed):
    ours, theirs = check_random_state(seed), sklearns_check_random_state(seed)
    assert type(ours) is type(theirs)
    assert _same_state(ours, theirs)
    assert ours.standard_normal(3).tolist() == theirs.standard_normal(3).tolist()
    again = pickle.loads(pickle.dumps(ours))
    assert _same_state(again, ours)
    assert again.random_sample() == ours.random_sample()


@pytest.mark.parametrize("seed", [-1, 2**32, 1.5, "0"])
def test_a_bad_seed_gets_sklearns_error(seed):
    with pytest.raises(ValueError) as theirs:
        sklearns_check_random_state(seed)
    with pytest.raises(ValueError, match=re.escape(str(theirs.value))):
        check_random_state(seed)


def test_other_seeds_are_sklearns():
    rs = np.random.RandomState(3)
    assert check_random_state(rs) is rs
    assert check_random_state(None) is sklearns_check_random_state(None)
