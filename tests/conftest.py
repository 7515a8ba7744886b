import os
import subprocess
import sys
import tempfile
import warnings

# Without an NVIDIA GPU, backend="cuda" runs in Numba's CUDA simulator, which
# must be chosen before Numba loads (tests/test_cuda.py; a GPU machine runs
# the same tests on its device).
if "NUMBA_ENABLE_CUDASIM" not in os.environ and not os.path.exists("/dev/nvidia0"):
    os.environ["NUMBA_ENABLE_CUDASIM"] = "1"

import numpy as np  # noqa: E402
import pytest  # noqa: E402
from sklearn.datasets import load_digits, make_regression  # noqa: E402

from fastmlp.engines import _ENGINES  # noqa: E402
from fastmlp.engines.cuda_engine import _simulated  # noqa: E402


def available_backends():
    """The engines every backend-parametrized test runs on: those available
    here, but not the simulated GPU (Python per thread: tests/test_cuda.py
    runs it on tiny shapes)."""
    return [name for name, cls in _ENGINES.items() if cls.is_available()
            and not (name == "cuda" and _simulated())]


@pytest.fixture(params=available_backends())
def backend(request):
    """Every engine available here: each test using it runs on all of them."""
    return request.param


@pytest.fixture(scope="session")
def digits():
    X, y = load_digits(return_X_y=True)
    return X / 16.0, y


@pytest.fixture(scope="session")
def regression():
    X, y = make_regression(
        n_samples=300, n_features=12, n_informative=8, noise=1.0, random_state=0
    )
    return X, y / 100.0


@pytest.fixture(autouse=True)
def _no_convergence_noise():
    # Short fits on purpose: convergence warnings are expected, and tests
    # that care about them use pytest.warns explicitly.
    from sklearn.exceptions import ConvergenceWarning

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        yield


def run_python(code, **kwargs):
    """``subprocess.run`` of ``python -c code`` in a fresh interpreter.

    It runs in a neutral directory: ``python -c`` puts its working directory
    first on sys.path, and from an unpacked sdist (or a checkout built
    elsewhere) that would import the uncompiled ``fastmlp/`` source instead
    of the installed package.
    """
    return subprocess.run([sys.executable, "-c", code], cwd=tempfile.gettempdir(),
                          **kwargs)


def rng(seed=0):
    return np.random.RandomState(seed)
