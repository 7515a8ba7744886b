"""What skops must be told to trust to load a fastmlp model.

``skops.io.load(path, trusted=fastmlp.SKOPS_TRUSTED_TYPES)`` loads any fitted
fastmlp model: skops trusts scikit-learn's and NumPy's types itself, and a
fitted model holds no other types of its own than its estimator class and
the optimizer its solver keeps for ``partial_fit``.
"""

from ._optimizers import OPTIMIZERS


def _qualified(cls):
    return f"{cls.__module__}.{cls.__qualname__}"


def skops_trusted_types():
    """The fully qualified names of every type of fastmlp's a fitted model holds."""
    from ._multilayer_perceptron import MLPClassifier, MLPRegressor

    return sorted(_qualified(cls) for cls in (MLPClassifier, MLPRegressor,
                                              *OPTIMIZERS.values()))
