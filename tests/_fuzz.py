"""Random cases for the fuzz test (tests/test_fuzz.py): what to fit, and how.

A case is drawn in two stages. The Hypothesis strategy ``cases()`` draws a
*spec*: a plain dict of small values (shapes, dtypes, value scales, label
kind, sample weights, hyperparameters, the call pattern, and one integer seed
for the array contents). ``build_case(spec)`` turns it into arrays,
deterministically. A failing example therefore prints as
``build_case({...})``, which rebuilds it exactly, and Hypothesis shrinks the
values that matter (rows, features, scales, parameters) rather than
thousands of array elements.

``run_case`` runs one case on one estimator and returns an ``Outcome``: the
exception it raised, or what the fit left behind.
"""

import contextlib
import io
import math
import warnings
from dataclasses import dataclass, field

import numpy as np
import scipy.sparse as sp
from hypothesis import strategies as st
from sklearn.neural_network import MLPClassifier as SkClassifier
from sklearn.neural_network import MLPRegressor as SkRegressor

from fastmlp import MLPClassifier, MLPRegressor

TARGETS = ("int", "str", "bool", "multilabel", "regression")
# X's dtype. float16 overflows past 65504 (both estimators then refuse the
# infinities), so it is drawn less often than the float dtypes.
DTYPES = ("float64", "float32", "int64", "float64", "float32", "float16")
WEIGHTS = ("none", "random", "some_zero", "integer")
PATTERNS = ("fit", "warm_refit", "partial_fit", "fit_then_partial_fit")
MAX_ROWS = 200
MAX_FEATURES = 50
# Bounds each example's cost: max_iter is cut so that no fit runs more than
# this many minibatches (batch_size=1 on 200 rows would otherwise be 4000).
MAX_MINIBATCHES = 300


# ---------------------------------------------------------------- the draw


def _log_uniform(low_exp, high_exp):
    return st.floats(low_exp, high_exp).map(lambda e: 10.0 ** e)


def _rarely():
    """True one time in ten."""
    return st.integers(0, 9).map(lambda i: i == 9)


@st.composite
def _layer_width(draw):
    # Mostly narrow and fast; sometimes wide enough (with 200 rows) that the
    # cpu engine's kernels split their passes over its thread pool.
    return draw(st.integers(17, 256)) if draw(_rarely()) else draw(st.integers(1, 16))


@st.composite
def _params(draw, target, pattern, n_rows):
    """Estimator hyperparameters (scikit-learn's names, no ``backend``)."""
    # partial_fit refuses lbfgs and early stopping: both only rarely there,
    # so that most partial_fit cases train.
    incremental = "partial_fit" in pattern
    solvers = ["adam", "sgd", "lbfgs"]
    if incremental and not draw(_rarely()):
        solvers = ["adam", "sgd"]
    solver = draw(st.sampled_from(solvers))
    params = dict(
        hidden_layer_sizes=tuple(draw(st.lists(_layer_width(), min_size=1, max_size=3))),
        activation=draw(st.sampled_from(["relu", "identity", "logistic", "tanh"])),
        solver=solver,
        alpha=draw(st.sampled_from([1e-4, 0.0, 1e-6, 1e-2, 1.0, 10.0])),
        batch_size=draw(st.one_of(st.just("auto"), st.integers(1, MAX_ROWS + 10))),
        learning_rate=draw(st.sampled_from(["constant", "invscaling", "adaptive"])),
        learning_rate_init=draw(_log_uniform(-4, 0)),
        power_t=draw(st.floats(0, 1)),
        max_iter=draw(st.integers(1, 20)),
        shuffle=draw(st.booleans()),
        random_state=draw(st.integers(0, 2**16)),
        tol=draw(st.sampled_from([1e-4, 0.0, 1e-2, 0.5])),
        # Rarely: verbose output is captured, never compared (README: lbfgs
        # prints where scikit-learn's does not).
        verbose=draw(_rarely()),
        momentum=draw(st.floats(0, 1)),
        nesterovs_momentum=draw(st.booleans()),
        early_stopping=draw(_rarely() if incremental else st.booleans()),
        # 0 is allowed, and refused by the split when early stopping is on.
        validation_fraction=0.0 if draw(_rarely()) else draw(st.floats(0.05, 0.6)),
        beta_1=draw(st.floats(0, 0.99)),
        beta_2=draw(st.floats(0, 0.9999)),
        epsilon=draw(_log_uniform(-10, -4)),
        n_iter_no_change=draw(st.integers(1, 10)),
        max_fun=draw(st.integers(1, 100)),
    )
    if target == "regression":
        params["loss"] = draw(st.sampled_from(["squared_error", "poisson"]))
    if solver != "lbfgs":
        batch = 200 if params["batch_size"] == "auto" else params["batch_size"]
        per_epoch = math.ceil(n_rows / min(batch, n_rows))
        params["max_iter"] = max(1, min(params["max_iter"], MAX_MINIBATCHES // per_epoch))
    return params


@st.composite
def cases(draw):
    """One whole case: data, estimator parameters and call pattern."""
    target = draw(st.sampled_from(TARGETS))
    spec = dict(target=target)
    if target == "bool":
        spec["n_classes"] = draw(st.integers(1, 2))
    elif target in ("int", "str"):
        spec["n_classes"] = draw(st.integers(1, 5))
    elif target == "multilabel":
        spec["n_labels"] = draw(st.integers(2, 4))
    else:
        spec["n_outputs"] = draw(st.integers(1, 3))
        spec["y_scale_exp"] = draw(st.floats(-8, 6))
        spec["y_offset"] = draw(st.sampled_from([0.0, 1.0, -1.0, 1e3, -1e6, 1e6]))
        spec["negative_targets"] = draw(_rarely())   # poisson only

    spec["n_features"] = draw(st.integers(1, MAX_FEATURES))
    spec["x_scale_exp"] = draw(st.floats(-8, 6))
    spec["col_spread"] = draw(st.sampled_from([0.0, 1.0, 3.0]))   # decades
    spec["x_offset"] = draw(st.sampled_from([0.0, 1.0, -1.0, 1e3, -1e6, 1e6, 1e-8]))
    # Dense X is C-ordered, sometimes F-ordered or a strided view; sometimes
    # CSR instead (but for float16, which scipy.sparse does not store).
    spec["layout"] = draw(st.sampled_from(["C", "C", "C", "F", "view", "csr"]))
    # A 1-D target sometimes comes as a column (n, 1), which both estimators
    # ravel with a DataConversionWarning.
    spec["y_column"] = draw(_rarely())
    spec["weights"] = draw(st.sampled_from(WEIGHTS))

    pattern = draw(st.sampled_from(PATTERNS))
    spec["pattern"] = pattern
    if pattern == "partial_fit":
        methods = ["partial_fit"] * draw(st.integers(1, 3))
    else:
        methods = {"fit": ["fit"], "warm_refit": ["fit", "fit"],
                   "fit_then_partial_fit": ["fit", "partial_fit"]}[pattern]
    first_dtype = draw(st.sampled_from(DTYPES))
    calls = [dict(method=methods[0], rows=draw(st.integers(1, MAX_ROWS)),
                  dtype=first_dtype, same_data=False)]
    for method in methods[1:]:
        # The first call's data again or a new draw from the same
        # distribution; mostly in the first call's dtype, sometimes another.
        same_data = draw(st.booleans())
        calls.append(dict(
            method=method,
            rows=calls[0]["rows"] if same_data else draw(st.integers(1, MAX_ROWS)),
            dtype=draw(st.one_of(st.just(first_dtype), st.sampled_from(DTYPES))),
            same_data=same_data,
        ))
    spec["calls"] = calls
    spec["params"] = draw(_params(target, pattern, max(c["rows"] for c in calls)))
    if pattern == "warm_refit":
        spec["params"]["warm_start"] = True
    spec["seed"] = draw(st.integers(0, 2**32 - 1))
    return build_case(spec)


# ---------------------------------------------------------------- the case


@dataclass
class Call:
    method: str                  # 'fit' or 'partial_fit'
    X: object                    # ndarray or CSR matrix
    y: np.ndarray
    sample_weight: np.ndarray | None
    classes: np.ndarray | None   # classifier's first partial_fit only

    @property
    def float32(self):
        """Whether the estimators train on this call in float32."""
        return self.X.dtype == np.float32


@dataclass
class Case:
    spec: dict
    calls: list = field(repr=False)

    @property
    def classifier(self):
        return self.spec["target"] != "regression"

    @property
    def params(self):
        return self.spec["params"]

    def __repr__(self):
        # What a failing example prints as: the line that rebuilds it.
        return f"build_case({self.spec!r})"

    def _repr_pretty_(self, printer, cycle):
        # Hypothesis's printer, which would otherwise list the arrays.
        printer.text(repr(self))

    def estimator(self, backend):
        """A fresh estimator: scikit-learn's for 'sklearn', else fastmlp's."""
        if backend == "sklearn":
            cls = SkClassifier if self.classifier else SkRegressor
            return cls(**self.params)
        cls = MLPClassifier if self.classifier else MLPRegressor
        return cls(backend=backend, **self.params)


def build_case(spec):
    """The arrays of ``spec``, drawn from its seed."""
    rng = np.random.RandomState(spec["seed"])
    n_features = spec["n_features"]
    target = spec["target"]
    n_columns = spec.get("n_classes") or spec.get("n_labels") or spec["n_outputs"]
    col_exp = spec["x_scale_exp"] + spec["col_spread"] * rng.uniform(-1, 1, n_features)
    col_scale = 10.0 ** np.clip(col_exp, -8, 6)
    # Targets follow a random linear map of the features, plus noise, so the
    # problems are learnable and later calls come from the same distribution.
    W = rng.standard_normal((n_features, n_columns)) / np.sqrt(n_features)
    if target == "int":
        labels = np.sort(rng.choice(np.arange(-3, 20), spec["n_classes"], replace=False))
    elif target == "str":
        labels = np.array([f"c{i}" for i in rng.choice(30, spec["n_classes"], replace=False)])
    elif target == "bool":
        labels = np.array([True] if spec["n_classes"] == 1 else [False, True])
    else:
        labels = None

    def draw(n_rows):
        Z = rng.standard_normal((n_rows, n_features))
        X = Z * col_scale + spec["x_offset"]
        scores = Z @ W + 0.5 * rng.standard_normal((n_rows, n_columns))
        if labels is not None:
            y = labels[np.argmax(scores, axis=1)]
        elif target == "multilabel":
            y = (scores > 0).astype(np.int64)
        else:
            y = scores * 10.0 ** spec["y_scale_exp"] + spec["y_offset"]
            if spec["params"].get("loss") == "poisson" and not spec["negative_targets"]:
                y = np.abs(y)
            if y.shape[1] == 1:
                y = y.ravel()
        if spec["y_column"] and y.ndim == 1:
            y = y.reshape(-1, 1)
        kind = spec["weights"]
        if kind == "none":
            sw = None
        elif kind == "random":
            sw = rng.uniform(0.1, 3.0, n_rows)
        elif kind == "some_zero":
            sw = rng.uniform(0.1, 3.0, n_rows) * (rng.rand(n_rows) < 0.5)
        else:
            sw = rng.randint(0, 4, n_rows)
        return X, y, sw

    # A classifier's first partial_fit names every class it will see.
    all_classes = np.arange(n_columns) if target == "multilabel" else labels
    calls, first = [], None
    for i, call in enumerate(spec["calls"]):
        X, y, sw = first if call["same_data"] else draw(call["rows"])
        first = first or (X, y, sw)
        with np.errstate(over="ignore"):   # float16: inf past 65504
            X_call = X.astype(call["dtype"])
        if spec["layout"] == "F":
            X_call = np.asfortranarray(X_call)
        elif spec["layout"] == "view":
            X_call = np.repeat(X_call, 2, axis=1)[:, ::2]
        elif spec["layout"] == "csr" and X_call.dtype != np.float16:
            X_call = sp.csr_matrix(X_call)
        classes = all_classes if call["method"] == "partial_fit" and i == 0 else None
        calls.append(Call(call["method"], X_call, y, sw, classes))
    return Case(spec, calls)


# ---------------------------------------------------------------- a run


@dataclass
class Outcome:
    """What running a case on one estimator gave."""

    error: str | None = None     # exception type name, None for a fit
    step: int | None = None      # the call that raised; len(calls): predicting
    message: str = ""
    coef_dtype: str | None = None
    n_iter: int | None = None
    loss: float | None = None
    loss_curve: np.ndarray | None = None
    predict: np.ndarray | None = None
    proba: np.ndarray | None = None
    inputs_modified: bool = False
    backend: str = "sklearn"     # fastmlp's engine, or scikit-learn

    def describe(self, case):
        if self.error is None:
            return "fit"
        where = ("predicting" if self.step == len(case.calls)
                 else f"call {self.step} ({case.calls[self.step].method})")
        return f"{self.error} in {where}"


def _snapshot(call):
    X = call.X.copy()
    return X, None if call.sample_weight is None else call.sample_weight.copy(), call.y.copy()


def _same(a, b):
    if sp.issparse(a):
        return a.shape == b.shape and (a != b).nnz == 0
    if a is None:
        return b is None
    return np.array_equal(a, b, equal_nan=a.dtype.kind == "f")


def run_case(case, estimator):
    """Run ``case``'s calls on ``estimator``, then predict on the last X."""
    outcome = Outcome(backend=getattr(estimator, "backend", "sklearn"))
    snapshots = [_snapshot(call) for call in case.calls]
    step = 0
    with warnings.catch_warnings(), contextlib.redirect_stdout(io.StringIO()), \
            np.errstate(all="ignore"):
        # ConvergenceWarning (short fits on purpose), overflow, clipping...
        warnings.simplefilter("ignore")
        try:
            for step, call in enumerate(case.calls):
                kwargs = {} if call.classes is None else {"classes": call.classes}
                getattr(estimator, call.method)(
                    call.X, call.y, sample_weight=call.sample_weight, **kwargs)
            step = len(case.calls)
            X = case.calls[-1].X
            outcome.predict = np.asarray(estimator.predict(X))
            if case.classifier:
                outcome.proba = np.asarray(estimator.predict_proba(X))
        except Exception as exc:  # noqa: BLE001 -- any exception is an outcome
            outcome.error, outcome.step = type(exc).__name__, step
            outcome.message = str(exc)[:300]
    outcome.inputs_modified = not all(
        _same(X, call.X) and _same(sw, call.sample_weight) and _same(y, call.y)
        for (X, sw, y), call in zip(snapshots, case.calls)
    )
    if outcome.error is None:
        weights = estimator.coefs_ + estimator.intercepts_
        outcome.coef_dtype = "/".join(sorted({w.dtype.name for w in weights}))
        outcome.n_iter = int(estimator.n_iter_)
        outcome.loss = float(estimator.loss_)
        if getattr(estimator, "loss_curve_", None) is not None:
            outcome.loss_curve = np.asarray(estimator.loss_curve_, dtype=np.float64)
    return outcome
