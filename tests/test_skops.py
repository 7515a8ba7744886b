"""skops persistence (issue 10, point 4): a fitted model round-trips through
skops.io, and the only types skops does not trust are the ones
fastmlp.SKOPS_TRUSTED_TYPES lists (and the README names)."""

from pathlib import Path

import numpy as np
import pytest
from numpy.testing import assert_array_equal

import fastmlp
from fastmlp import MLPClassifier, MLPRegressor
from fastmlp._optimizers import OPTIMIZERS

sio = pytest.importorskip("skops.io", reason="skops is an optional extra")

MODELS = [
    (MLPClassifier, dict(solver=name)) for name in OPTIMIZERS
] + [
    (MLPClassifier, dict(solver="lbfgs")),
    (MLPClassifier, dict(activation=("gelu", "tanh"), hidden_layer_sizes=(6, 5),
                         dropout=0.1, early_stopping=True, class_weight="balanced")),
    (MLPRegressor, dict(loss="poisson", solver="adamw")),
]


@pytest.mark.parametrize(("cls", "params"), MODELS, ids=str)
def test_round_trip_with_only_fastmlps_types_to_trust(digits, cls, params, tmp_path):
    X, y = digits
    y = y if cls is MLPClassifier else y.astype(float)
    model = cls(max_iter=3, random_state=0, **{"hidden_layer_sizes": (8,), **params})
    model.fit(X, y)
    path = tmp_path / "model.skops"
    sio.dump(model, path)
    untrusted = sio.get_untrusted_types(file=path)
    assert untrusted and set(untrusted) <= set(fastmlp.SKOPS_TRUSTED_TYPES)
    loaded = sio.load(path, trusted=fastmlp.SKOPS_TRUSTED_TYPES)
    assert type(loaded) is cls
    assert_array_equal(loaded.predict(X), model.predict(X))
    if model.solver != "lbfgs":
        assert loaded.loss_curve_ == model.loss_curve_
    partial = (model.solver != "lbfgs" and not model.early_stopping
               and getattr(model, "class_weight", None) is None)
    if partial:
        # The optimizer's state came along: partial_fit goes on identically.
        model.partial_fit(X, y)
        loaded.partial_fit(X, y)
        assert_array_equal(loaded.coefs_[0], model.coefs_[0])


def test_untrusted_load_is_refused(digits, tmp_path):
    X, y = digits
    path = tmp_path / "model.skops"
    sio.dump(MLPClassifier(max_iter=2, hidden_layer_sizes=(4,)).fit(X, y), path)
    with pytest.raises(Exception, match="[Uu]ntrusted"):
        sio.load(path)


def test_readme_lists_the_trusted_types():
    readme = (Path(__file__).parents[1] / "README.md").read_text()
    for name in fastmlp.SKOPS_TRUSTED_TYPES:
        assert f"`{name}`" in readme
