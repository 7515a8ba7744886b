"""Fit time on load_digits (every row, scaled to [0, 1]): scikit-learn and
every fastmlp engine side by side, float64 and float32.

Seconds per epoch of a 20-epoch fit (hidden (100,), batch 200), best of 3
after an untimed warm-up, one group per dtype.

    pytest bench/test_bench_digits.py --benchmark-only
"""

import numpy as np
import pytest

from fastmlp import _bench

MODELS = _bench.available_models(torch=False)
CASES = {_bench._case_name(*case): case for case in _bench.DIGITS_CASES}
EPOCHS = _bench.DIGITS_EPOCHS


@pytest.mark.parametrize("model", MODELS)
@pytest.mark.parametrize("case", list(CASES))
def test_digits_epoch(record, time_rounds, case, model):
    hidden, batch_size, dtype = CASES[case]
    X, y = _bench.digits_data(dtype)
    _bench.warm_up(model, X, y, hidden, batch_size)
    fits = []

    def fit():
        fits.append(_bench.timed_fit(model, X, y, hidden, batch_size, EPOCHS))
        return fits[-1][0]

    seconds = time_rounds(fit, rounds=3, per=EPOCHS)
    record("digits", case, model, "epoch", min(seconds), epochs=EPOCHS,
           n_samples=X.shape[0])
    for _, estimator in fits:
        assert estimator.n_iter_ == EPOCHS
        assert np.isfinite(estimator.loss_)
