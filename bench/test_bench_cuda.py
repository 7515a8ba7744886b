"""Suite: the CUDA engine against PyTorch on the same GPU (issue 11).

Synthetic MNIST-shaped data (60000x784 float32, 10 classes), adam, hidden
(100,) batch 200 and hidden (512,) batch 128: fastmlp's CUDA engine with its
epochs replayed from a CUDA graph and launched eagerly, PyTorch eager (fused
Adam) and with its step captured in a CUDA graph, both with the data
resident on the GPU, and fastmlp's cpu engine. Each row's rounds are its 5
timed epochs (CUDA events), after 2 untimed; extra_info holds the held-out
accuracy, ``vs_torch_eager`` and ``accuracy_vs_cpu_pp``. How each figure is
taken: fastmlp/_bench/gpu.py.

    pytest bench/test_bench_cuda.py --benchmark-only
    python -m fastmlp bench --suite cuda        # the same, one table and a JSON

Without an NVIDIA GPU every test skips, saying why. In Numba's CUDA simulator
(NUMBA_ENABLE_CUDASIM=1) they run only at the quick sizes
(FASTMLP_BENCH_QUICK=1).
"""

import pytest

from fastmlp import _bench

QUICK = _bench.quick_from_env()
CASES = {_bench._case_name(*case): case
         for case in (_bench.CUDA_QUICK_CASES if QUICK else _bench.CUDA_CASES)}
EPOCHS = 1 if QUICK else _bench.CUDA_EPOCHS


@pytest.fixture(scope="module")
def case_rows():
    """``rows(case)``: ``{model: row}`` of a case, every model run once, in
    the harness's order (PyTorch's eager row before the rows compared to it)."""
    reason = _bench.cuda_skip_reason(QUICK)
    if reason is not None:
        pytest.skip(reason)
    done = {}

    def rows(case):
        if case not in done:
            hidden, batch_size, dtype = CASES[case]
            data = (_bench.cuda_quick_data(dtype) if QUICK
                    else _bench.mnist_data(dtype, _bench.MNIST_TRAIN))
            done[case] = {row["model"]: row for row in _bench.bench_cuda_case(
                hidden, batch_size, data, epochs=EPOCHS,
                torch_reason=_bench.torch_skip_reason(_bench.available_models()))}
        return done[case]

    return rows


@pytest.mark.parametrize("model", _bench.CUDA_MODELS)
@pytest.mark.parametrize("case", list(CASES))
def test_cuda_epoch(record, time_rounds, case_rows, case, model):
    row = case_rows(case)[model]
    if row["status"] == "skipped":
        pytest.skip(row["reason"])
    if row["status"] == "failed":
        pytest.fail(row["reason"])
    epochs = iter(row["epoch_seconds"])
    time_rounds(lambda: next(epochs), rounds=len(row["epoch_seconds"]))
    record("cuda", case, model, "epoch", row["seconds"],
           accuracy=row["accuracy"], vs_torch_eager=row["vs_torch_eager"],
           accuracy_vs_cpu_pp=row["accuracy_vs_cpu_pp"],
           fit_seconds_per_epoch=row["fit_seconds_per_epoch"],
           timer=row["timer"], n_samples=row["n_samples"], epochs=row["epochs"])
