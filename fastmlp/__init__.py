"""fastmlp: scikit-learn's MLPClassifier and MLPRegressor, faster.

    from fastmlp import MLPClassifier      # instead of sklearn.neural_network
"""

from ._multilayer_perceptron import MLPClassifier, MLPRegressor

__version__ = "0.1.0"
__all__ = ["MLPClassifier", "MLPRegressor", "__version__"]
