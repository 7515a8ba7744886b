"""The data sets of the suites, built once per process and cached.

Synthetic data from make_classification with fixed seeds (MNIST-shaped,
tabular and the threads suite's), and scikit-learn's bundled data sets for the
small and digits suites. The "mnist" suite's data is only MNIST's shape
(60000 + 10000 rows, 784 features, 10 classes), not MNIST's images.
"""

from functools import lru_cache

import numpy as np

from .cases import (CUDA_QUICK_FEATURES, CUDA_QUICK_TEST, CUDA_QUICK_TRAIN,
                    MNIST_CLASSES, MNIST_FEATURES, MNIST_TEST, MNIST_TRAIN,
                    TABULAR_CLASSES, TABULAR_FEATURES, TABULAR_TEST,
                    TABULAR_TRAIN, THREADS_CLASSES, THREADS_FEATURES,
                    THREADS_TRAIN)


@lru_cache(maxsize=4)
def _classification(n_train, n_test, n_features, n_classes, n_informative,
                    class_sep, seed):
    from sklearn.datasets import make_classification

    X, y = make_classification(
        n_samples=n_train + n_test, n_features=n_features,
        n_informative=n_informative, n_redundant=0, n_classes=n_classes,
        class_sep=class_sep, random_state=seed,
    )
    return X[:n_train], y[:n_train], X[n_train:], y[n_train:]


@lru_cache(maxsize=8)
def _as_dtype(n_train, n_test, n_features, n_classes, n_informative, class_sep,
              seed, dtype):
    X, y, X_test, y_test = _classification(
        n_train, n_test, n_features, n_classes, n_informative, class_sep, seed)
    return (np.ascontiguousarray(X, dtype=dtype), y,
            np.ascontiguousarray(X_test, dtype=dtype), y_test)


def mnist_data(dtype="float32", n_train=MNIST_TRAIN, n_test=MNIST_TEST):
    """Synthetic MNIST-shaped data: (X, y, X_test, y_test), 784 features, 10 classes.

    Built once per process (per size) and cached; float32 is a cast of the
    same float64 draw.
    """
    return _as_dtype(n_train, n_test, MNIST_FEATURES, MNIST_CLASSES, 40, 2.0, 0,
                     np.dtype(dtype).name)


def cuda_quick_data(dtype="float32"):
    """The cuda suite's ``--quick`` data: the MNIST-shaped data's generator
    at a size Numba's CUDA simulator runs in seconds (200 + 100 rows, 20
    features, 10 classes): (X, y, X_test, y_test)."""
    return _as_dtype(CUDA_QUICK_TRAIN, CUDA_QUICK_TEST, CUDA_QUICK_FEATURES,
                     MNIST_CLASSES, 10, 2.0, 0, np.dtype(dtype).name)


def tabular_data(dtype="float64", n_train=TABULAR_TRAIN, n_test=TABULAR_TEST):
    """Small tabular data: (X, y, X_test, y_test), 20 features, 3 classes."""
    return _as_dtype(n_train, n_test, TABULAR_FEATURES, TABULAR_CLASSES, 8, 1.0, 1,
                     np.dtype(dtype).name)


@lru_cache(maxsize=None)
def small_data(name):
    """(X_train, y_train, X_test, y_test) of a bundled data set, standardized
    as a user would before an MLP, a quarter held out."""
    from sklearn import datasets
    from sklearn.model_selection import train_test_split
    from sklearn.preprocessing import StandardScaler

    X, y = getattr(datasets, f"load_{name}")(return_X_y=True)
    X_train, X_test, y_train, y_test = train_test_split(X, y, random_state=0)
    scaler = StandardScaler().fit(X_train)
    return scaler.transform(X_train), y_train, scaler.transform(X_test), y_test


@lru_cache(maxsize=None)
def digits_data(dtype="float64"):
    """load_digits, every row, pixels scaled to [0, 1]: (X, y)."""
    from sklearn.datasets import load_digits

    X, y = load_digits(return_X_y=True)
    return np.ascontiguousarray(X / 16.0, dtype=dtype), y


@lru_cache(maxsize=2)
def threads_data(n_train=THREADS_TRAIN):
    """The threads suite's float32 data: (X, y), 64 features, 5 classes."""
    from sklearn.datasets import make_classification

    X, y = make_classification(
        n_samples=n_train, n_features=THREADS_FEATURES, n_informative=20,
        n_classes=THREADS_CLASSES, random_state=0,
    )
    return X.astype(np.float32), y
