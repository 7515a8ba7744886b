"""Suite 1b: fastmlp's options beyond scikit-learn's (added activations,
dropout, RMSprop, AdamW), each alone on the cpu engine with scikit-learn's
defaults otherwise, on the synthetic MNIST-shaped cases of test_bench_mnist.

Seconds per epoch, one group per case. Each row's extra_info holds
``vs_sklearn`` (scikit-learn's default fit over the row's: issue 9 asks for 3
or more) and ``overhead`` (over fastmlp's default fit on the cpu engine: at
most 1.10 for gelu and for dropout=0.2).

    pytest bench/test_bench_options.py --benchmark-only
"""

import pytest

from fastmlp import _bench

QUICK = _bench.quick_from_env()
N_TRAIN = _bench.MNIST_TRAIN_QUICK if QUICK else _bench.MNIST_TRAIN
EPOCHS = 2
DEFAULT = "fastmlp[cpu]"
CASES = {_bench._case_name(*case): case for case in _bench.OPTIONS_CASES}
# (row name, model, options): scikit-learn's and fastmlp's default fits first.
ROWS = [("sklearn", "sklearn", None), (DEFAULT, DEFAULT, None)] + [
    (f"cpu {label}", DEFAULT, options) for label, options in _bench.OPTIONS]


@pytest.fixture(scope="session")
def default_seconds():
    """Seconds per epoch of fastmlp's default row, per case."""
    return {}


@pytest.mark.parametrize(("label", "model", "options"), ROWS,
                         ids=[label for label, _, _ in ROWS])
@pytest.mark.parametrize("case", list(CASES))
def test_option_epoch(benchmark, time_training, default_seconds, case, label,
                      model, options):
    if DEFAULT not in _bench.available_models(torch=False):
        pytest.skip("the cpu engine is not available here")
    hidden, batch_size, dtype = CASES[case]
    data = _bench.mnist_data(dtype, N_TRAIN)
    time_training("options", case, model, data, hidden, batch_size, dtype, EPOCHS,
                  rounds=1, options=options, references=False, name=label)
    seconds = benchmark.extra_info["seconds"]
    if label == DEFAULT:
        default_seconds[case] = seconds
    if case in default_seconds:
        benchmark.extra_info["overhead"] = seconds / default_seconds[case]
