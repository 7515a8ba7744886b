"""LossCurveDisplay: a fitted MLP's training curves, in scikit-learn's Display
conventions (``from_estimator`` / ``plot``, the artists as ``*_`` attributes).

matplotlib is optional: it is imported when a plot is drawn, and its absence
raises scikit-learn's own error (``check_matplotlib_support``).
"""

import numpy as np
from sklearn.utils._optional_dependencies import check_matplotlib_support
from sklearn.utils.validation import check_is_fitted


class LossCurveDisplay:
    """The training loss of a fitted MLP per epoch, with its validation curves.

    Create it with :meth:`from_estimator`, or from the curves themselves and
    then :meth:`plot`. The training loss (``loss_curve_``) and, when there
    is one, the validation loss (``validation_loss_curve_``, the same loss
    without the L2 term) share the left axis; the validation score
    (``validation_scores_``: accuracy, R2 or ``scoring``'s) has an axis of
    its own on the right, since a score is not a loss.

    Parameters
    ----------
    loss_curve : array-like of shape (n_epochs,)
        The training loss after each epoch.
    validation_loss_curve : array-like of shape (n_epochs,), default=None
        The validation loss after each epoch.
    validation_scores : array-like of shape (n_epochs,), default=None
        The validation score after each epoch.
    estimator_name : str, default=None
        Shown in the title.

    Attributes
    ----------
    line_ : matplotlib Line2D
        The training loss.
    validation_loss_line_ : matplotlib Line2D or None
        The validation loss.
    validation_score_line_ : matplotlib Line2D or None
        The validation score, on ``score_ax_``.
    ax_ : matplotlib Axes
        The axes of the losses.
    score_ax_ : matplotlib Axes or None
        The second axes (``ax_.twinx()``), of the validation score.
    figure_ : matplotlib Figure
        The figure of ``ax_``.

    Examples
    --------
    >>> from sklearn.datasets import load_digits
    >>> from fastmlp import LossCurveDisplay, MLPClassifier
    >>> X, y = load_digits(return_X_y=True)
    >>> clf = MLPClassifier(max_iter=20, early_stopping=True, random_state=0)
    >>> clf = clf.fit(X / 16, y)
    >>> display = LossCurveDisplay.from_estimator(clf)  # doctest: +SKIP
    """

    def __init__(self, *, loss_curve, validation_loss_curve=None,
                 validation_scores=None, estimator_name=None):
        self.loss_curve = loss_curve
        self.validation_loss_curve = validation_loss_curve
        self.validation_scores = validation_scores
        self.estimator_name = estimator_name

    @classmethod
    def from_estimator(cls, estimator, *, ax=None, name=None, **kwargs):
        """Plot the curves of a fitted MLPClassifier or MLPRegressor.

        Parameters
        ----------
        estimator : fitted MLPClassifier or MLPRegressor
            Fitted with a stochastic solver (lbfgs keeps no curve).
        ax : matplotlib Axes, default=None
            Where to plot; a new figure's axes when None.
        name : str, default=None
            The title; the estimator's class name when None.
        **kwargs : dict
            Passed to matplotlib's ``plot`` for the training loss.

        Returns
        -------
        display : LossCurveDisplay
        """
        check_matplotlib_support(f"{cls.__name__}.from_estimator")
        check_is_fitted(estimator)
        if getattr(estimator, "loss_curve_", None) is None:
            raise ValueError(
                f"{type(estimator).__name__} has no loss_curve_: its solver "
                f"{getattr(estimator, 'solver', None)!r} keeps no per-epoch curve; "
                "use a stochastic solver ('sgd', 'adam', 'rmsprop', 'adamw').")
        display = cls(
            loss_curve=estimator.loss_curve_,
            validation_loss_curve=getattr(estimator, "validation_loss_curve_", None),
            validation_scores=getattr(estimator, "validation_scores_", None),
            estimator_name=type(estimator).__name__,
        )
        return display.plot(ax=ax, name=name, **kwargs)

    def plot(self, ax=None, *, name=None, **kwargs):
        """Plot the curves.

        Parameters
        ----------
        ax : matplotlib Axes, default=None
            Where to plot; a new figure's axes when None.
        name : str, default=None
            The title; ``estimator_name`` when None.
        **kwargs : dict
            Passed to matplotlib's ``plot`` for the training loss.

        Returns
        -------
        display : LossCurveDisplay
            This object, with the artists set.
        """
        check_matplotlib_support(f"{type(self).__name__}.plot")
        import matplotlib.pyplot as plt

        if ax is None:
            _, ax = plt.subplots()
        epochs = np.arange(1, len(self.loss_curve) + 1)
        self.line_, = ax.plot(epochs, self.loss_curve, **{"label": "training loss",
                                                           **kwargs})
        self.validation_loss_line_ = self.validation_score_line_ = None
        self.score_ax_ = None
        lines = [self.line_]
        if self.validation_loss_curve is not None:
            self.validation_loss_line_, = ax.plot(
                np.arange(1, len(self.validation_loss_curve) + 1),
                self.validation_loss_curve, linestyle="--", label="validation loss")
            lines.append(self.validation_loss_line_)
        if self.validation_scores is not None:
            self.score_ax_ = ax.twinx()
            self.validation_score_line_, = self.score_ax_.plot(
                np.arange(1, len(self.validation_scores) + 1), self.validation_scores,
                color="tab:green", linestyle=":", label="validation score")
            self.score_ax_.set_ylabel("validation score")
            lines.append(self.validation_score_line_)
        ax.set_xlabel("epoch")
        ax.set_ylabel("loss")
        title = name if name is not None else self.estimator_name
        if title is not None:
            ax.set_title(title)
        ax.legend(lines, [line.get_label() for line in lines])
        self.ax_ = ax
        self.figure_ = ax.figure
        return self
