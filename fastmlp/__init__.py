"""fastmlp: scikit-learn's MLPClassifier and MLPRegressor, faster.

    from fastmlp import MLPClassifier      # instead of sklearn.neural_network
"""

from ._display import LossCurveDisplay
from ._multilayer_perceptron import MLPClassifier, MLPRegressor
from ._persistence import skops_trusted_types

# Pass as skops.io.load(..., trusted=SKOPS_TRUSTED_TYPES): fastmlp's own
# types, the only ones of a fitted model that skops does not trust itself.
SKOPS_TRUSTED_TYPES = skops_trusted_types()

__version__ = "0.1.0"
__all__ = ["LossCurveDisplay", "MLPClassifier", "MLPRegressor", "SKOPS_TRUSTED_TYPES",
           "__version__"]
