"""scikit-learn's own estimator checks, over a few configurations."""

from sklearn.utils.estimator_checks import parametrize_with_checks

from fastmlp import MLPClassifier, MLPRegressor
from fastmlp._sklearn_compat import expected_failed_checks

ESTIMATORS = [
    MLPClassifier(),
    MLPRegressor(),
    MLPClassifier(solver="lbfgs"),
    MLPRegressor(solver="lbfgs"),
    MLPClassifier(solver="sgd", activation="tanh", hidden_layer_sizes=(20, 10)),
    MLPRegressor(solver="sgd", activation="tanh", learning_rate="adaptive"),
]


@parametrize_with_checks(ESTIMATORS, expected_failed_checks=expected_failed_checks)
def test_sklearn_compatible(estimator, check):
    check(estimator)
