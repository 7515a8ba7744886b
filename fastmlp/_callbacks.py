"""scikit-learn's callbacks (``sklearn.callback``, 1.9 and later) in a fit.

A fit is one root task, "fit", or "partial_fit" (a leaf). The subtasks of a
fit are the epochs of a stochastic solver ("epoch") or the iterations of
L-BFGS ("lbfgs-iter", as LogisticRegression names them). Hooks get the data
as the user passed it (labels, not the binarized targets; only the rows
that train when early stopping holds some out) and, as ``fitted_estimator``,
a copy of the estimator holding copies of the weights of that moment:
``coefs_`` are views of a buffer that keeps changing. A hook's
``on_fit_task_end`` returning True stops the fit after that epoch or
iteration.

Without a callback set, no task is made and a fit pays nothing. With
scikit-learn older than 1.9 the estimators have no ``set_callbacks``.
"""

import numpy as np
from sklearn.utils import _safe_indexing

try:
    from sklearn.callback import CallbackSupportMixin
except ImportError:                       # scikit-learn < 1.9
    class CallbackSupportMixin:
        """No callbacks: scikit-learn < 1.9 has no ``sklearn.callback``."""


_CURVES = ("loss_curve_", "validation_scores_", "validation_loss_curve_")


class _Data:
    """The hooks' X, y and metadata: the user's, or their training rows,
    taken once each and only if a hook asks for them."""

    def __init__(self, X, y, sample_weight, rows=None):
        self._given = {"X": X, "y": y, "sample_weight": sample_weight}
        self._rows = rows
        self._taken = {}

    def subset(self, rows):
        return _Data(**self._given, rows=rows)

    def _take(self, name):
        if name not in self._taken:
            value = self._given[name]
            if self._rows is not None and value is not None:
                value = _safe_indexing(value, self._rows)
            self._taken[name] = value
        return self._taken[name]

    def _metadata(self):
        if self._given["sample_weight"] is None:
            return None
        return {"sample_weight": self._take("sample_weight")}

    def hook_arguments(self):
        # Callables: the callback context evaluates them only for the hooks
        # that take the argument.
        return {"X": lambda: self._take("X"), "y": lambda: self._take("y"),
                "metadata": self._metadata}


class FitTasks:
    """The callback tasks of one call to fit or partial_fit.

    ``weights`` arguments are functions returning the flat parameter
    buffer of the moment (the trainer's, or L-BFGS's float64 iterate).
    """

    def __init__(self, estimator, X, y, sample_weight):
        self._estimator = estimator
        self.on = bool(getattr(estimator, "_skl_callbacks", None))
        self._data = self._subtask_data = _Data(X, y, sample_weight)
        self._root = None

    def begin(self, task_name, max_subtasks, layout, params):
        """Open the root task (``max_subtasks``: 0 for a leaf)."""
        if not self.on:
            return
        self._layout, self._dtype = layout, params.dtype
        self._root = self._estimator._init_callback_context(
            task_name=task_name, max_subtasks=max_subtasks)
        self._root.call_on_fit_task_begin(
            estimator=self._estimator, **self._data.hook_arguments(),
            reconstruction_attributes=self._model(lambda: params,
                                                  self._estimator.n_iter_))

    def train_on(self, rows):
        """Subtasks see these rows of the data (early stopping's split)."""
        self._subtask_data = self._data.subset(rows)

    def subtask(self, task_name, weights, n_iter):
        """Open a subtask starting from ``weights``: its context, or None
        when there are no callbacks or the root is a leaf."""
        if self._root is None or self._root.max_subtasks == 0:
            return None
        context = self._root.subcontext(task_name=task_name)
        context.call_on_fit_task_begin(
            estimator=self._estimator, **self._subtask_data.hook_arguments(),
            reconstruction_attributes=self._model(weights, n_iter))
        return context

    def end_subtask(self, context, weights, n_iter):
        """Close a subtask ending on ``weights``: whether a callback asks to
        stop."""
        if context is None:
            return False
        return context.call_on_fit_task_end(
            estimator=self._estimator, **self._subtask_data.hook_arguments(),
            reconstruction_attributes=self._model(weights, n_iter))

    def end_unrun_subtask(self, context):
        """Close a subtask that never ran: nothing to report."""
        if context is not None:
            context.call_on_fit_task_end(estimator=self._estimator)

    def end(self, weights):
        if self._root is not None:
            self._root.call_on_fit_task_end(
                estimator=self._estimator, **self._data.hook_arguments(),
                reconstruction_attributes=self._model(weights,
                                                      self._estimator.n_iter_))

    def _model(self, weights, n_iter):
        """The attributes that make a copy of the estimator the model of
        ``weights``, built only when a hook takes ``fitted_estimator``."""
        def attributes():
            flat = np.array(weights(), dtype=self._dtype)     # a copy
            model = {"coefs_": self._layout.coef_views(flat),
                     "intercepts_": self._layout.intercept_views(flat),
                     "n_iter_": n_iter}
            for name in _CURVES:
                curve = getattr(self._estimator, name, None)
                if curve is not None:
                    model[name] = list(curve)
            return model
        return attributes


class StopRequested(Exception):
    """A callback asked L-BFGS to stop at ``result`` (an OptimizeResult):
    raised through scipy.optimize.minimize, whatever scipy's version."""

    def __init__(self, result):
        super().__init__()
        self.result = result


class LbfgsIterations:
    """scipy.optimize.minimize's callback: one subtask per L-BFGS iteration
    (and the verbose line), as LogisticRegression bridges them.

    scipy reports an iteration once it has ended, so each call ends the
    current subtask and opens the next; the last one opened never runs,
    and ``close`` ends it with nothing to report.
    """

    def __init__(self, tasks, x0, verbose):
        self._tasks = tasks
        self._verbose = verbose
        self.n_iter = 0
        self._context = tasks.subtask("lbfgs-iter", lambda: x0, 0)

    def __call__(self, intermediate_result):
        self.n_iter += 1
        if self._verbose:
            print("Iteration %d, loss = %.8f" % (self.n_iter, intermediate_result.fun))
        x = intermediate_result.x
        if self._tasks.end_subtask(self._context, lambda: x, self.n_iter):
            self._context = None
            raise StopRequested(intermediate_result)
        self._context = self._tasks.subtask("lbfgs-iter", lambda: x, self.n_iter)

    def close(self):
        self._tasks.end_unrun_subtask(self._context)
        self._context = None
