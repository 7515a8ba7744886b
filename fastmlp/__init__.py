"""fastmlp: scikit-learn's MLPClassifier and MLPRegressor, faster.

    from fastmlp import MLPClassifier      # instead of sklearn.neural_network
"""

from ._display import LossCurveDisplay
from ._multilayer_perceptron import MLPClassifier, MLPRegressor

__version__ = "0.1.0"
__all__ = ["LossCurveDisplay", "MLPClassifier", "MLPRegressor", "__version__"]
