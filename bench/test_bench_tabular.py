"""Suite 2: small tabular data (10000x20, 3 classes), hidden (32,), batch 32.

Time per minibatch step (epoch time / minibatches per epoch): where Python
overhead per step, not arithmetic, is the cost.

    pytest bench/test_bench_tabular.py --benchmark-only
"""

import pytest

from fastmlp import _bench

QUICK = _bench.quick_from_env()
EPOCHS = 2 if QUICK else 5
MODELS = _bench.available_models()


@pytest.fixture(scope="module")
def data():
    return _bench.tabular_data(_bench.TABULAR_CASE[2])


@pytest.mark.parametrize("model", MODELS)
def test_tabular_step(time_training, data, model):
    hidden, batch_size, dtype = _bench.TABULAR_CASE
    time_training("tabular", _bench._case_name(hidden, batch_size, dtype), model,
                  data, hidden, batch_size, dtype, EPOCHS, rounds=1 if QUICK else 3,
                  per_step=True)
