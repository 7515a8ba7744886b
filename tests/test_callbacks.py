"""scikit-learn's callbacks (sklearn.callback) in fastmlp's fits."""

import pickle
import re
import sys
import warnings

import numpy as np
import pytest
from numpy.testing import assert_array_equal
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import GridSearchCV

from fastmlp import MLPClassifier, MLPRegressor

from conftest import run_python

callback = pytest.importorskip(
    "sklearn.callback", reason="scikit-learn < 1.9 has no callbacks (tested below "
    "in a subprocess that hides them)")

STOCHASTIC = ["sgd", "adam", "rmsprop", "adamw"]


class Recorder:
    """Records every hook call; on_fit_task_end returns True for the
    subtask whose task_id is ``stop_at``."""

    def __init__(self, stop_at=None):
        self.stop_at = stop_at
        self.calls = []

    def setup(self, estimator, context):
        self.calls.append(("setup", None, None, {}))

    def teardown(self, estimator, context):
        self.calls.append(("teardown", None, None, {}))

    def on_fit_task_begin(self, estimator, context, *, X=None, y=None, metadata=None,
                          fitted_estimator=None):
        self.calls.append(("begin", context.task_name, context.task_id,
                           dict(X=X, y=y, metadata=metadata, model=fitted_estimator,
                                max_subtasks=context.max_subtasks)))

    def on_fit_task_end(self, estimator, context, *, X=None, y=None, metadata=None,
                        fitted_estimator=None):
        self.calls.append(("end", context.task_name, context.task_id,
                           dict(X=X, y=y, metadata=metadata, model=fitted_estimator)))
        return context.parent is not None and context.task_id == self.stop_at

    def subtask_ends(self, name):
        return [info for hook, task, _, info in self.calls
                if hook == "end" and task == name]


def fit_recorded(X, y, recorder=None, **params):
    """A classifier fitted with a Recorder set: (estimator, recorder)."""
    recorder = Recorder() if recorder is None else recorder
    params = {"hidden_layer_sizes": (8,), "random_state": 0, **params}
    return MLPClassifier(**params).set_callbacks(recorder).fit(X, y), recorder


@pytest.fixture
def small_digits(digits):
    X, y = digits
    return X[:400], y[:400]


@pytest.mark.parametrize("solver", STOCHASTIC)
def test_one_root_task_and_one_subtask_per_epoch(small_digits, solver):
    X, y = small_digits
    est, recorder = fit_recorded(X, y, solver=solver, max_iter=4)
    hooks = [(hook, task, task_id) for hook, task, task_id, _ in recorder.calls]
    epochs = [call for i in range(4)
              for call in (("begin", "epoch", i), ("end", "epoch", i))]
    assert hooks == [("setup", None, None), ("begin", "fit", 0), *epochs,
                     ("end", "fit", 0), ("teardown", None, None)]
    assert recorder.calls[1][3]["max_subtasks"] == 4
    # The per-fit context is gone once the fit is.
    assert not hasattr(est, "_callback_fit_ctx")


def test_lbfgs_one_subtask_per_iteration(small_digits):
    X, y = small_digits
    est, recorder = fit_recorded(X, y, solver="lbfgs", max_iter=6)
    ends = recorder.subtask_ends("lbfgs-iter")
    # scipy reports each iteration after it ran; the subtask opened after
    # the last one never runs and ends empty, as in LogisticRegression.
    assert len(ends) == est.n_iter_ + 1 == 7
    assert all(info["model"] is not None for info in ends[:-1])
    assert ends[-1]["model"] is None and ends[-1]["X"] is None


def test_partial_fit_is_a_leaf(small_digits):
    X, y = small_digits
    recorder = Recorder()
    est = MLPClassifier(hidden_layer_sizes=(8,), random_state=0).set_callbacks(recorder)
    est.partial_fit(X, y, classes=np.unique(y))
    est.partial_fit(X, y)
    hooks = [(hook, task) for hook, task, _, _ in recorder.calls]
    assert hooks == [("setup", None), ("begin", "partial_fit"), ("end", "partial_fit"),
                     ("teardown", None)] * 2
    begin = recorder.calls[1][3]
    assert begin["max_subtasks"] == 0


@pytest.mark.parametrize("solver", ["adam", "lbfgs"])
def test_fitted_estimator_is_the_model_of_that_moment(small_digits, solver):
    X, y = small_digits
    est, recorder = fit_recorded(X, y, solver=solver, max_iter=5)
    task = "epoch" if solver == "adam" else "lbfgs-iter"
    ends = recorder.subtask_ends(task)
    for k in (1, 3):
        # The model handed to the hook at the end of epoch (iteration) k is
        # the model a fit stopped there gives, and it stayed so: its weights
        # are copies, not views of the buffer the fit went on training.
        model = ends[k - 1]["model"]
        stopped = MLPClassifier(hidden_layer_sizes=(8,), solver=solver, max_iter=k,
                                random_state=0).fit(X, y)
        assert model.n_iter_ == k
        assert_array_equal(model.predict_proba(X), stopped.predict_proba(X))
        for a, b in zip(model.coefs_, est.coefs_):
            assert not np.shares_memory(a, b)
    # The first subtask begins on the initial weights; the root task ends on
    # the final model.
    begins = [info for hook, task_name, _, info in recorder.calls
              if hook == "begin" and task_name == task]
    initial = MLPClassifier(hidden_layer_sizes=(8,), solver="sgd", max_iter=1,
                            learning_rate_init=1e-300, random_state=0).fit(X, y)
    assert_array_equal(begins[0]["model"].coefs_[0], initial.coefs_[0])
    final = recorder.calls[-2][3]["model"]
    assert_array_equal(final.predict_proba(X), est.predict_proba(X))


def test_hooks_get_the_users_labels_and_weights(small_digits):
    X, y = small_digits
    labels = np.array(["zero", "one", "two", "three", "four", "five", "six",
                       "seven", "eight", "nine"], dtype=object)[y]
    weights = np.linspace(0.5, 1.5, len(y))
    recorder = Recorder()
    MLPClassifier(hidden_layer_sizes=(8,), max_iter=2, random_state=0) \
        .set_callbacks(recorder).fit(X, labels, sample_weight=weights)
    for _, _, _, info in recorder.calls[1:-1]:
        assert info["X"] is X
        assert info["y"] is labels
        assert info["metadata"]["sample_weight"] is weights


def test_early_stopping_subtasks_see_the_training_rows(small_digits):
    X, y = small_digits
    est, recorder = fit_recorded(X, y, max_iter=3, early_stopping=True,
                                 validation_fraction=0.25)
    root_begin = recorder.calls[1][3]
    assert root_begin["X"] is X
    epoch = recorder.subtask_ends("epoch")[0]
    assert epoch["X"].shape == (300, X.shape[1]) and epoch["y"].shape == (300,)
    # The training rows with their own labels: a row of X and its label.
    rows = [np.flatnonzero((X == row).all(axis=1))[0] for row in epoch["X"][:20]]
    assert_array_equal(y[rows], epoch["y"][:20])


@pytest.mark.parametrize("solver", ["sgd", "lbfgs"])
def test_a_callback_stops_the_fit(small_digits, solver):
    X, y = small_digits
    recorder = Recorder(stop_at=2)        # after the third epoch / iteration
    est = MLPClassifier(hidden_layer_sizes=(8,), solver=solver, max_iter=20,
                        random_state=0).set_callbacks(recorder)
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)   # a stop is no failure
        est.fit(X, y)
    assert est.n_iter_ == 3
    stopped = MLPClassifier(hidden_layer_sizes=(8,), solver=solver, max_iter=3,
                            random_state=0).fit(X, y)
    assert_array_equal(est.predict_proba(X), stopped.predict_proba(X))
    if solver == "sgd":
        assert est.loss_curve_ == stopped.loss_curve_
    else:
        assert est.loss_ == pytest.approx(stopped.loss_, rel=1e-12)


def test_scoring_monitor_logs_a_score_per_epoch(regression):
    X, y = regression
    monitor = callback.ScoringMonitor(scoring="r2")
    weights = np.linspace(1, 2, len(y))
    est = MLPRegressor(hidden_layer_sizes=(10,), max_iter=6, random_state=0) \
        .set_callbacks(monitor).fit(X, y, sample_weight=weights)
    rows = monitor.get_logs().data
    epochs = [row for row in rows if row["task_name"] == "epoch"]
    assert [row["task_id"] for row in epochs] == list(range(est.n_iter_))
    final = est.score(X, y, sample_weight=weights)
    assert epochs[-1]["r2"] == pytest.approx(final, rel=1e-12)
    root = [row for row in rows if row["task_name"] == "fit"]
    assert len(root) == 1 and root[0]["r2"] == pytest.approx(final, rel=1e-12)
    # Scores move with the model: not one score repeated.
    assert len({row["r2"] for row in epochs}) == len(epochs)


def test_progress_bar_during_fit_and_under_grid_search(small_digits, capsys):
    pytest.importorskip("rich", reason="ProgressBar needs rich")
    X, y = small_digits
    MLPClassifier(hidden_layer_sizes=(8,), max_iter=3, random_state=0) \
        .set_callbacks(callback.ProgressBar()).fit(X, y)
    out = capsys.readouterr().out
    assert re.search(r"MLPClassifier - fit", out) and re.search(r"100%", out)
    assert not re.search(r"\b[0-9]{1,2}%", out)

    grid = GridSearchCV(MLPClassifier(hidden_layer_sizes=(8,), max_iter=3,
                                      random_state=0),
                        {"alpha": [1e-4, 1e-1]}, cv=2)
    grid.set_callbacks(callback.ProgressBar()).fit(X, y)
    out = capsys.readouterr().out
    for i in range(4):
        assert re.search(rf"candidate-split-evaluation \| MLPClassifier - fit #{i}", out)
    assert re.search(r"refit-with-best-params \| MLPClassifier - fit", out)
    assert not re.search(r"\b[0-9]{1,2}%", out)


def test_callbacks_leave_results_unchanged_and_survive_pickle(small_digits):
    X, y = small_digits
    plain = MLPClassifier(hidden_layer_sizes=(8,), max_iter=4, random_state=0).fit(X, y)
    est = MLPClassifier(hidden_layer_sizes=(8,), max_iter=4, random_state=0) \
        .set_callbacks(callback.ScoringMonitor(scoring="accuracy"))
    est = pickle.loads(pickle.dumps(est)).fit(X, y)
    assert est.loss_curve_ == plain.loss_curve_
    assert_array_equal(est.coefs_[0], plain.coefs_[0])
    assert pickle.loads(pickle.dumps(est)).score(X, y) == plain.score(X, y)


def test_teardown_runs_when_the_fit_fails(small_digits):
    X, y = small_digits
    recorder = Recorder()
    est = MLPClassifier(early_stopping=True, validation_fraction=0.001) \
        .set_callbacks(recorder)
    with pytest.raises(ValueError, match="validation set is too small"):
        est.fit(X, y)
    assert recorder.calls[-1][0] == "teardown"
    assert not hasattr(est, "_callback_fit_ctx")


def test_without_sklearn_callbacks_there_is_no_set_callbacks():
    # scikit-learn < 1.9, simulated: its modules import sklearn.callback
    # themselves, so the import fastmlp makes is the one made to fail.
    code = (
        "import sklearn.callback, sklearn.preprocessing, sklearn.model_selection\n"
        "del sklearn.callback.CallbackSupportMixin\n"
        "import numpy as np\n"
        "from fastmlp import MLPClassifier\n"
        "X = np.random.RandomState(0).rand(40, 3); y = (X[:, 0] > 0.5).astype(int)\n"
        "est = MLPClassifier(max_iter=3).fit(X, y)\n"
        "assert not hasattr(est, 'set_callbacks')\n"
        "print(est.n_iter_)\n"
    )
    result = run_python(code, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["3"]


def test_set_callbacks_exists_with_sklearn_callbacks():
    assert callable(MLPRegressor().set_callbacks)
    assert sys.modules["sklearn.callback"] is callback
