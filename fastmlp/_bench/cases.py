"""The suites, their cases and sizes: constants, and how a case is named."""

import os

import numpy as np

# Every suite, in the order ``python -m fastmlp bench`` runs them; bench/ has
# a test_bench_<suite>.py for each.
SUITES = ("mnist", "options", "tabular", "inference", "startup", "small", "digits",
          "threads", "cuda")
# those that take ``rounds``
TRAINING_SUITES = ("mnist", "options", "tabular", "small", "digits", "threads")

# (hidden_layer_sizes, batch_size, dtype) of the MNIST-shaped suite.
MNIST_CASES = (
    ((100,), 200, "float32"),
    ((512,), 128, "float32"),
    ((100,), 200, "float64"),
)
MNIST_TRAIN = 60000
MNIST_TRAIN_QUICK = 6000
MNIST_TEST = 10000
MNIST_FEATURES = 784
MNIST_CLASSES = 10

# The options suite: fastmlp's options beyond scikit-learn's, each alone on
# the cpu engine with scikit-learn's defaults otherwise, next to
# scikit-learn's and fastmlp's default fits of the same MNIST-shaped cases.
OPTIONS_CASES = MNIST_CASES
OPTIONS = (
    ("gelu", {"activation": "gelu"}),
    ("silu", {"activation": "silu"}),
    ("elu", {"activation": "elu"}),
    ("leaky_relu", {"activation": "leaky_relu"}),
    ("dropout=0.2", {"dropout": 0.2}),
    ("rmsprop", {"solver": "rmsprop"}),
    ("adamw", {"solver": "adamw"}),
)
OPTIONS_ENGINE = "fastmlp[cpu]"

# float32 and float64 (issue 12 asks 50x and 25x scikit-learn of them).
TABULAR_CASES = (((32,), 32, "float32"), ((32,), 32, "float64"))
TABULAR_TRAIN = 10000
TABULAR_TEST = 2000
TABULAR_FEATURES = 20
TABULAR_CLASSES = 3

PEAK_SIZE = 2048
STARTUP_EPOCHS = 20
TORCH = "pytorch"
# matmul_precision="bfloat16" rows (float32 cases, where the CPU has a
# bfloat16 kernel; PyTorch's under torch.autocast("cpu", torch.bfloat16)).
BF16 = "fastmlp[cpu] bfloat16"
TORCH_BF16 = "pytorch bfloat16"

# The small suite: scikit-learn's bundled data sets, every solver, default
# settings. Classification but for diabetes.
SMALL_DATASETS = ("iris", "wine", "breast_cancer", "digits", "diabetes")
SMALL_SOLVERS = ("adam", "sgd", "lbfgs")


# The digits suite: load_digits (1797x64, scaled to [0, 1]), whole, in both
# dtypes: seconds per epoch of a fit of DIGITS_EPOCHS epochs.
DIGITS_CASES = (((100,), 200, "float64"), ((100,), 200, "float32"))
DIGITS_EPOCHS = 20

# The threads suite: GridSearchCV over THREADS_GRID with each of THREADS_N_JOBS
# on make_classification data (THREADS_TRAIN rows, or THREADS_TRAIN_QUICK).
THREADS_TRAIN = 10000
THREADS_TRAIN_QUICK = 2000
THREADS_FEATURES = 64
THREADS_CLASSES = 5
THREADS_EPOCHS = 5
THREADS_FOLDS = 3
THREADS_GRID = {"hidden_layer_sizes": [(64,), (128,)], "alpha": [1e-4, 1e-2]}
THREADS_N_JOBS = (1, 2)

# The cuda suite (fastmlp._bench.gpu): the GPU engine against PyTorch on the
# same GPU, on the MNIST-shaped data, float32, adam. Each row is one fit of
# CUDA_WARMUP_EPOCHS untimed epochs and then CUDA_EPOCHS timed ones on the
# same trainer: the first epoch compiles the kernels, the second captures the
# CUDA graph, so every row trains the same 7 epochs.
CUDA_CASES = (((100,), 200, "float32"), ((512,), 128, "float32"))
CUDA_WARMUP_EPOCHS = 2
CUDA_EPOCHS = 5
# The rows of each case, in the order they run.
CUDA_GRAPH, CUDA_EAGER = "fastmlp[cuda] graph", "fastmlp[cuda] eager"
TORCH_CUDA_EAGER, TORCH_CUDA_GRAPH = "pytorch[cuda] eager", "pytorch[cuda] graph"
CUDA_CPU = "fastmlp[cpu]"
CUDA_MODELS = (CUDA_GRAPH, CUDA_EAGER, TORCH_CUDA_EAGER, TORCH_CUDA_GRAPH, CUDA_CPU)
# --quick: tiny sizes that Numba's CUDA simulator runs in seconds (each GPU
# thread is Python there), with ragged last minibatches; for the tests.
CUDA_QUICK_CASES = (((8,), 64, "float32"), ((16,), 48, "float32"))
CUDA_QUICK_TRAIN = 200
CUDA_QUICK_TEST = 100
CUDA_QUICK_FEATURES = 20
CUDA_QUICK_EPOCHS = 1
# Issue 11's targets for the default configuration (the graph row): seconds
# per epoch per case, the least speed-up over PyTorch eager with the data
# resident, and the most held-out accuracy may differ from the cpu engine's.
CUDA_TARGET_SECONDS = {"h(100,) b200 float32": 0.010, "h(512,) b128 float32": 0.015}
CUDA_TARGET_VS_TORCH = 5.0
CUDA_TARGET_ACCURACY_PP = 0.5
CUDA_JSON = "bench-cuda.json"


def quick_from_env():
    """Whether FASTMLP_BENCH_QUICK asks for the small sizes (bench/ reads it)."""
    return os.environ.get("FASTMLP_BENCH_QUICK", "").strip() not in ("", "0")


def _case_name(hidden_layer_sizes, batch_size, dtype):
    return f"h{tuple(hidden_layer_sizes)} b{batch_size} {np.dtype(dtype).name}"
