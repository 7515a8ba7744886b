"""LossCurveDisplay (issue 10, point 2) with the Agg backend: the artists
hold the fitted curves, and the saved PNG shows them."""

import numpy as np
import pytest
from numpy.testing import assert_array_equal

from fastmlp import LossCurveDisplay, MLPClassifier, MLPRegressor

matplotlib = pytest.importorskip("matplotlib", reason="matplotlib is an optional extra")
matplotlib.use("Agg")


@pytest.fixture(autouse=True)
def _close_figures():
    import matplotlib.pyplot as plt

    yield
    plt.close("all")


def test_curves_of_an_early_stopped_classifier(digits, tmp_path):
    X, y = digits
    model = MLPClassifier(hidden_layer_sizes=(16,), max_iter=8, early_stopping=True,
                          random_state=0).fit(X, y)
    display = LossCurveDisplay.from_estimator(model)
    epochs = np.arange(1, model.n_iter_ + 1)
    assert_array_equal(display.line_.get_xdata(), epochs)
    assert_array_equal(display.line_.get_ydata(), model.loss_curve_)
    assert_array_equal(display.validation_loss_line_.get_ydata(),
                       model.validation_loss_curve_)
    assert_array_equal(display.validation_score_line_.get_ydata(),
                       model.validation_scores_)
    assert display.score_ax_ is not display.ax_
    assert display.validation_score_line_.axes is display.score_ax_
    assert display.figure_ is display.ax_.figure
    assert display.ax_.get_xlabel() == "epoch"
    assert display.ax_.get_title() == "MLPClassifier"
    # The PNG holds a drawing: many colours, not a blank canvas.
    path = tmp_path / "curves.png"
    display.figure_.savefig(path)
    image = matplotlib.image.imread(path)
    assert image.shape[0] > 100 and len(np.unique(image.reshape(-1, image.shape[2]),
                                                  axis=0)) > 20


def test_plain_fit_has_one_line_and_plots_into_given_axes(regression):
    import matplotlib.pyplot as plt

    X, y = regression
    model = MLPRegressor(hidden_layer_sizes=(8,), max_iter=5, random_state=0).fit(X, y)
    _, ax = plt.subplots()
    display = LossCurveDisplay.from_estimator(model, ax=ax, name="mine", color="red")
    assert display.ax_ is ax and display.ax_.get_title() == "mine"
    assert display.validation_loss_line_ is None and display.score_ax_ is None
    assert display.line_.get_color() == "red"
    assert len(ax.get_lines()) == 1


def test_refuses_what_has_no_curve(digits):
    X, y = digits
    with pytest.raises(ValueError, match="no loss_curve_"):
        LossCurveDisplay.from_estimator(MLPClassifier(solver="lbfgs", max_iter=5).fit(X, y))
    from sklearn.exceptions import NotFittedError

    with pytest.raises(NotFittedError):
        LossCurveDisplay.from_estimator(MLPClassifier())


def test_plot_from_the_curves_themselves():
    display = LossCurveDisplay(loss_curve=[3.0, 2.0, 1.5], validation_scores=[0.5, 0.6, 0.7])
    display.plot()
    assert_array_equal(display.validation_score_line_.get_ydata(), [0.5, 0.6, 0.7])
