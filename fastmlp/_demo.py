"""The demo: fastmlp next to scikit-learn on scikit-learn's bundled digits."""

import time
import warnings

import numpy as np


def _fit_and_score(estimator, X_train, y_train, X_test, y_test):
    start = time.perf_counter()
    estimator.fit(X_train, y_train)
    seconds = time.perf_counter() - start
    return estimator.score(X_test, y_test), seconds, estimator.n_iter_


def run_demo(max_iter=200, random_state=0):
    from sklearn.datasets import load_digits
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.model_selection import train_test_split
    from sklearn.neural_network import MLPClassifier as SkMLPClassifier

    from . import MLPClassifier
    from .engines import get_engine

    X, y = load_digits(return_X_y=True)
    X = X / 16.0
    X_train, X_test, y_train, y_test = train_test_split(
        X, y, test_size=0.25, stratify=y, random_state=random_state
    )
    params = dict(hidden_layer_sizes=(100,), max_iter=max_iter,
                  random_state=random_state)
    print(
        f"load_digits: {len(X_train)} training and {len(X_test)} held-out "
        f"images, 64 features, 10 classes; hidden_layer_sizes=(100,), adam"
    )
    engine = get_engine("auto").name
    rows = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        # The cpu engine compiles its loops on the first fit in a fresh
        # environment (then loads them from Numba's cache): time that once,
        # on its own, so the table compares training, not compiling.
        start = time.perf_counter()
        for dtype in (np.float64, np.float32):
            MLPClassifier(max_iter=1).fit(X_train[:50].astype(dtype), y_train[:50])
        warmup = time.perf_counter() - start
        for dtype in (np.float64, np.float32):
            Xtr, Xte = X_train.astype(dtype), X_test.astype(dtype)
            sk = _fit_and_score(SkMLPClassifier(**params), Xtr, y_train, Xte, y_test)
            ours = _fit_and_score(MLPClassifier(**params), Xtr, y_train, Xte, y_test)
            rows.append((f"scikit-learn ({np.dtype(dtype).name})", *sk, ""))
            rows.append((
                f"fastmlp [{engine}] ({np.dtype(dtype).name})",
                *ours, f"{sk[1] / ours[1]:.1f}x",
            ))
    print(f"{'model':<28}{'accuracy':>10}{'fit time':>11}{'epochs':>8}{'speed-up':>10}")
    for name, acc, seconds, n_iter, ratio in rows:
        print(f"{name:<28}{acc:>10.4f}{seconds:>10.2f}s{n_iter:>8}{ratio:>10}")
    print(
        f"(fastmlp's first fits in this process, JIT compilation or cache "
        f"loading included, took {warmup:.2f}s before the timed fits.)"
    )
