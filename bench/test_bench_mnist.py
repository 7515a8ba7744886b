"""Suite 1: synthetic MNIST-shaped data (60000x784 float32, 10 classes), adam.

Seconds per epoch of scikit-learn, every fastmlp engine and PyTorch (when
installed), and their bfloat16 rows where the CPU has AMX or AVX512-BF16,
side by side, one group per case; extra_info holds the speed-ups
over scikit-learn and the numpy engine, the GEMM-floor and roofline ratios and
the held-out accuracy.

    pytest bench/test_bench_mnist.py --benchmark-only
"""

import pytest

from fastmlp import _bench

QUICK = _bench.quick_from_env()
N_TRAIN = _bench.MNIST_TRAIN_QUICK if QUICK else _bench.MNIST_TRAIN
EPOCHS = 2
# The bfloat16 rows (matmul_precision="bfloat16", PyTorch's autocast) run
# in the float32 cases, where the CPU has a bfloat16 kernel.
MODELS = _bench.available_models() + _bench.bf16_models()
CASES = {_bench._case_name(*case): case for case in _bench.MNIST_CASES}


@pytest.fixture(scope="module")
def data():
    """The data of each dtype, built once (the harness caches it)."""
    return {dtype: _bench.mnist_data(dtype, N_TRAIN)
            for dtype in sorted({case[2] for case in CASES.values()})}


@pytest.mark.parametrize("model", MODELS)
@pytest.mark.parametrize("case", list(CASES))
def test_mnist_epoch(time_training, data, case, model):
    hidden, batch_size, dtype = CASES[case]
    if model in _bench.bf16_models() and dtype != "float32":
        pytest.skip("bfloat16 rows are float32 models: float32 cases only")
    time_training("mnist", case, model, data[dtype], hidden, batch_size, dtype,
                  EPOCHS, rounds=1)
