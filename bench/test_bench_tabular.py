"""Suite 2: small tabular data (10000x20, 3 classes), hidden (32,), batch 32,
float32 and float64.

Time per minibatch step (epoch time / minibatches per epoch): where Python
overhead per step, not arithmetic, is the cost.

    pytest bench/test_bench_tabular.py --benchmark-only
"""

import pytest

from fastmlp import _bench

QUICK = _bench.quick_from_env()
EPOCHS = 2 if QUICK else 5
MODELS = _bench.available_models()


CASES = {_bench._case_name(*case): case for case in _bench.TABULAR_CASES}


@pytest.fixture(scope="module")
def data():
    return {dtype: _bench.tabular_data(dtype) for _, _, dtype in CASES.values()}


@pytest.mark.parametrize("model", MODELS)
@pytest.mark.parametrize("case", list(CASES))
def test_tabular_step(time_training, data, case, model):
    hidden, batch_size, dtype = CASES[case]
    time_training("tabular", case, model, data[dtype], hidden, batch_size, dtype,
                  EPOCHS, rounds=1 if QUICK else 3, per_step=True)
