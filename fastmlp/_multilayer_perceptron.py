"""MLPClassifier and MLPRegressor: scikit-learn's estimators, faster.

This layer validates parameters and data, handles labels, runs the solvers'
per-epoch logic (shuffling, schedules, early stopping, warm starts) and sets
the fitted attributes. Minibatches run in an engine (``fastmlp.engines``);
predictions run through the Cython kernels (``fastmlp._inference``).
"""

import functools
import warnings
from abc import ABC, abstractmethod
from numbers import Integral, Real

import numpy as np
import scipy.optimize
from sklearn import get_config
from sklearn.base import (
    BaseEstimator,
    ClassifierMixin,
    RegressorMixin,
    _fit_context,
    is_classifier,
)
from sklearn.exceptions import ConvergenceWarning
from sklearn.metrics import accuracy_score, get_scorer, get_scorer_names, r2_score
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import LabelBinarizer
from sklearn.utils import _safe_indexing, column_or_1d
from sklearn.utils._param_validation import Interval, Options, StrOptions
from sklearn.utils.class_weight import compute_sample_weight
from sklearn.utils.metaestimators import available_if
from sklearn.utils.multiclass import (
    _check_partial_fit_first_call,
    type_of_target,
    unique_labels,
)
from sklearn.utils.validation import (
    _check_sample_weight,
    check_array,
    check_consistent_length,
    check_is_fitted,
    validate_data,
)

from . import _blas, _inference
from ._kernels import _train
from ._callbacks import CallbackSupportMixin, FitTasks, LbfgsIterations, StopRequested
from ._operations import HIDDEN_ACTIVATIONS, hidden_activation_names, output_loss
from ._layout import ParamLayout
from ._optimizers import OPTIMIZERS, make_optimizer, parameter_constraints
from ._random import check_random_state, shuffle
from ._tunables import FAST_PATH_MAX_ROWS
from .engines import BACKENDS, Network, get_engine

_STOCHASTIC_SOLVERS = tuple(OPTIMIZERS)
_FLOAT_DTYPES = (np.dtype(np.float32), np.dtype(np.float64))


def _distinct_integers(y):
    """np.unique(y) for a 1-D integer array: by counting where the labels
    span a small range (10000 labels: 144 -> ~20 us), else np.unique (and
    for uint64, whose values intp may not hold)."""
    if y.dtype != np.uint64:
        lo, hi = int(y.min()), int(y.max())
        if hi - lo < 1 << 16:
            counts = np.bincount(y.astype(np.intp, copy=False) - lo)
            return (np.flatnonzero(counts) + lo).astype(y.dtype)
    return np.unique(y)


def _fitted_label_binarizer(y):
    """``LabelBinarizer().fit(y)``, at a twentieth of its cost for integer labels.

    For a 1-D integer y, what fit infers is fixed by y's distinct labels:
    the target type is binary for at most two of them, else multiclass; the
    classes are those labels, sorted; the input is dense. Setting exactly
    the attributes fit sets skips its general inference (type_of_target
    twice, unique_labels, parameter validation): 10000 labels, 545 -> 25 us,
    a tenth of a small network's fit outside its epochs. (A test compares
    the attributes with fit's.) Other targets are fitted on y.
    """
    binarizer = LabelBinarizer()
    if not (isinstance(y, np.ndarray) and y.ndim == 1 and y.size and y.dtype.kind in "iu"):
        return binarizer.fit(y)
    classes = _distinct_integers(y)
    binarizer.y_type_ = "binary" if len(classes) <= 2 else "multiclass"
    binarizer.sparse_input_ = False
    binarizer.classes_ = classes
    return binarizer


_NON_FINITE_WEIGHTS = (
    "Solver produced non-finite parameter weights. The input data may contain "
    "large values and need to be preprocessed."
)


class _PerLayerActivations(Options):
    """A tuple or list of hidden activation names, one per hidden layer.

    An Options only because scikit-learn's validation takes no other kind
    of constraint object; what it accepts is is_satisfied_by's."""

    def __init__(self):
        super().__init__(tuple, set())

    def is_satisfied_by(self, val):
        return (isinstance(val, (tuple, list)) and len(val) > 0
                and all(isinstance(name, str) and name in HIDDEN_ACTIVATIONS
                        for name in val))

    def __str__(self):
        return (f"a tuple of str among {sorted(HIDDEN_ACTIVATIONS)}, one per "
                "hidden layer")


# Parameter sets that passed scikit-learn's validation (see _validate_params).
_VALID_PARAMS = set()
_VALID_PARAMS_KEPT = 1024


@functools.cache
def _param_names(cls):
    return tuple(cls._get_param_names())


# The types of the values a key may hold: plain immutable scalars, whose
# equality is their value's. (A key keeps its values alive: a user's
# RandomState, scorer or callback object is validated every time instead.)
_KEY_TYPES = (str, int, float, bool, type(None), np.integer, np.floating, np.bool_)


class _Unkeyed(Exception):
    pass


def _typed(value):
    """A value with its type, and a tuple's entries with theirs, so that
    equal values of other types (1 and 1.0, True and 1) differ."""
    if type(value) is tuple:
        return tuple, tuple(_typed(entry) for entry in value)
    if not isinstance(value, _KEY_TYPES):
        raise _Unkeyed
    return type(value), value


def _params_key(estimator):
    """The estimator's class and typed parameter values, or None where a
    value is not a plain scalar or a tuple of them."""
    cls = type(estimator)
    try:
        return (cls, tuple(_typed(getattr(estimator, name))
                           for name in _param_names(cls)))
    except _Unkeyed:
        return None


class BaseMultilayerPerceptron(CallbackSupportMixin, BaseEstimator, ABC):
    """Shared machinery of MLPClassifier and MLPRegressor.

    Use the derived classes.
    """

    _parameter_constraints: dict = {
        "hidden_layer_sizes": ["array-like", Interval(Integral, 1, None, closed="left")],
        "activation": [StrOptions(set(HIDDEN_ACTIVATIONS)), _PerLayerActivations()],
        "solver": [StrOptions({"lbfgs", *OPTIMIZERS})],
        "alpha": [Interval(Real, 0, None, closed="left")],
        "batch_size": [StrOptions({"auto"}), Interval(Integral, 1, None, closed="left")],
        "learning_rate": [StrOptions({"constant", "invscaling", "adaptive"})],
        "learning_rate_init": [Interval(Real, 0, None, closed="neither")],
        "power_t": [Interval(Real, 0, None, closed="left")],
        "max_iter": [Interval(Integral, 1, None, closed="left")],
        "shuffle": ["boolean"],
        "random_state": ["random_state"],
        "tol": [Interval(Real, 0, None, closed="left")],
        "verbose": ["verbose"],
        "warm_start": ["boolean"],
        "momentum": [Interval(Real, 0, 1, closed="both")],
        "nesterovs_momentum": ["boolean"],
        "early_stopping": ["boolean"],
        "validation_fraction": [Interval(Real, 0, 1, closed="left")],
        "beta_1": [Interval(Real, 0, 1, closed="left")],
        "beta_2": [Interval(Real, 0, 1, closed="left")],
        "epsilon": [Interval(Real, 0, None, closed="neither")],
        "n_iter_no_change": [
            Interval(Integral, 1, None, closed="left"),
            Options(Real, {np.inf}),
        ],
        "max_fun": [Interval(Integral, 1, None, closed="left")],
        "backend": [StrOptions(set(BACKENDS))],
        "matmul_precision": [StrOptions({"tf32", "bfloat16"}), None],
        "dropout": [Interval(Real, 0, 1, closed="left")],
        "scoring": [StrOptions({"loss", *get_scorer_names()}), callable, None],
        **parameter_constraints(),
    }

    @abstractmethod
    def __init__(
        self, hidden_layer_sizes, activation, solver, alpha, batch_size,
        learning_rate, learning_rate_init, power_t, max_iter, loss, shuffle,
        random_state, tol, verbose, warm_start, momentum, nesterovs_momentum,
        early_stopping, validation_fraction, beta_1, beta_2, epsilon,
        n_iter_no_change, max_fun, backend, *, rho=0.9, weight_decay=0.01,
        dropout=0.0, scoring=None, matmul_precision=None,
    ):
        self.hidden_layer_sizes = hidden_layer_sizes
        self.activation = activation
        self.solver = solver
        self.alpha = alpha
        self.batch_size = batch_size
        self.learning_rate = learning_rate
        self.learning_rate_init = learning_rate_init
        self.power_t = power_t
        self.max_iter = max_iter
        self.loss = loss
        self.shuffle = shuffle
        self.random_state = random_state
        self.tol = tol
        self.verbose = verbose
        self.warm_start = warm_start
        self.momentum = momentum
        self.nesterovs_momentum = nesterovs_momentum
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.beta_1 = beta_1
        self.beta_2 = beta_2
        self.epsilon = epsilon
        self.n_iter_no_change = n_iter_no_change
        self.max_fun = max_fun
        self.backend = backend
        self.rho = rho
        self.weight_decay = weight_decay
        self.dropout = dropout
        self.scoring = scoring
        self.matmul_precision = matmul_precision

    # ------------------------------------------------------------------ fit

    def _hidden_layer_sizes(self):
        sizes = self.hidden_layer_sizes
        if not hasattr(sizes, "__iter__"):
            sizes = [sizes]
        sizes = list(sizes)
        if np.any(np.array(sizes) <= 0):
            raise ValueError(f"hidden_layer_sizes must be > 0, got {sizes}.")
        return sizes

    def _validate_params(self):
        """scikit-learn's parameter validation, made once per set of values:
        a set that passed it (same values, same types, down to the entries
        of a tuple) passes again without the ~250 us it costs, a twentieth
        of a 5-epoch fit of a small network. Sets holding anything but
        plain scalars and tuples of them (lists, arrays, a RandomState) are
        validated every time; a set that fails is never kept, so it raises
        scikit-learn's error each time."""
        key = _params_key(self)
        if key is not None and key in _VALID_PARAMS:
            return
        super()._validate_params()
        if key is not None:
            if len(_VALID_PARAMS) >= _VALID_PARAMS_KEPT:
                _VALID_PARAMS.clear()
            _VALID_PARAMS.add(key)

    def _fit(self, X, y, sample_weight=None, incremental=False, X_val=None, y_val=None,
             sample_weight_val=None):
        # Callbacks' hooks get the data as the user gave it.
        tasks = FitTasks(self, X, y, sample_weight)
        hidden_layer_sizes = self._hidden_layer_sizes()
        first_pass = not hasattr(self, "coefs_") or (
            not self.warm_start and not incremental
        )
        X, y, sample_weight = self._validate_input(
            X, y, sample_weight, incremental, reset=first_pass
        )
        bf16 = self.matmul_precision == "bfloat16"
        if bf16:
            # bfloat16 GEMMs feed float32 sums: a float32 model.
            X = X.astype(np.float32, copy=False)
        if y.ndim == 1:
            y = y.reshape((-1, 1))
        self._check_targets(y)
        self.n_outputs_ = y.shape[1]
        validation = self._validation_set(X_val, y_val, sample_weight_val, X.dtype)
        layer_units = [X.shape[1], *hidden_layer_sizes, self.n_outputs_]
        activations = hidden_activation_names(self.activation, len(hidden_layer_sizes))
        self._random_state = check_random_state(self.random_state)

        if first_pass:
            self._initialize(layer_units, activations, validation is not None)
        if bf16 or first_pass or self.solver not in _STOCHASTIC_SOLVERS:
            # lbfgs trains in the data's dtype (see the README's differences).
            dtype = X.dtype
        else:
            # A warm or incremental sgd/adam fit keeps the model's dtype, as
            # scikit-learn's in-place updates do; a float64 model trains on
            # float32 data in float64, exactly as scikit-learn's does.
            dtype = self.coefs_[0].dtype
        engine = get_engine(self.backend)

        # The flat buffer that coefs_ and intercepts_ are views of.
        layout = ParamLayout(layer_units)
        params = layout.pack(self.coefs_, self.intercepts_, dtype)
        self._set_params_views(layout, params)
        if first_pass:
            # The weights early stopping restores; None once they are the
            # live ones (see _fit_stochastic).
            self._best_params = params.copy()

        network = Network(
            layer_units=tuple(layer_units),
            activation=activations,
            out_activation=self.out_activation_,
            loss=self._loss_name(),
            alpha=float(self.alpha),
            dtype=dtype,
            dropout=float(self.dropout),
            matmul_precision=self.matmul_precision,
        )
        # Targets in the training dtype; y itself is never modified.
        Y = np.asarray(y, dtype=dtype)

        if self.dropout > 0 and self.solver not in _STOCHASTIC_SOLVERS:
            raise ValueError(
                f"dropout={self.dropout} needs a stochastic solver "
                f"({', '.join(_STOCHASTIC_SOLVERS)}); solver='{self.solver}' would see "
                "a different loss at each evaluation of its line search.")
        if self.solver in _STOCHASTIC_SOLVERS:
            tasks.begin("partial_fit" if incremental else "fit",
                        0 if incremental else self.max_iter, layout, params)
            self._fit_stochastic(engine, network, params, X, y, Y, sample_weight,
                                 incremental, validation, tasks)
        else:
            # One task more than iterations: see LbfgsIterations.
            tasks.begin("fit", self.max_iter + 1, layout, params)
            self._fit_lbfgs(engine, network, params, X, Y, sample_weight, tasks)

        if not np.isfinite(params).all():
            raise ValueError(_NON_FINITE_WEIGHTS)
        tasks.end(lambda: params)
        return self

    def __getstate__(self):
        # coefs_ and intercepts_ carry the weights; the flat buffer they view
        # is rebuilt by the next fit.
        # (BaseEstimator's state is the live __dict__ itself on Python 3.11+:
        # pickling must not take the buffer from the model being pickled.)
        return {key: value for key, value in super().__getstate__().items()
                if key != "_params"}

    def _set_params_views(self, layout, params):
        self._params = params
        self.coefs_ = layout.coef_views(params)
        self.intercepts_ = layout.intercept_views(params)

    def _check_targets(self, y, name="y"):
        """Hook for target checks that need y in its final 2-D form (``name``:
        how the message calls it)."""

    def _loss_name(self):
        return output_loss(self.loss, self.out_activation_).name

    def _initialize(self, layer_units, activations, has_validation=False):
        self.n_iter_ = 0
        self.t_ = 0
        self.n_layers_ = len(layer_units)
        if not is_classifier(self):
            self.out_activation_ = "exp" if self.loss == "poisson" else "identity"
        elif self._label_binarizer.y_type_ == "multiclass":
            self.out_activation_ = "softmax"
        else:
            self.out_activation_ = "logistic"

        # Glorot uniform initialisation, layer by layer from one RandomState:
        # all of a layer's coefficients, then its intercepts. _fit packs them
        # into the flat buffer, in the training dtype. Each layer's factor is
        # its activation's; the output layer takes the last hidden layer's,
        # as scikit-learn's single activation sets every layer's.
        # (Without hidden layers, activation is one name: see
        # hidden_activation_names.)
        last = activations[-1:] or (self.activation,)
        factors = [HIDDEN_ACTIVATIONS[name].glorot_factor for name in activations + last]
        self.coefs_, self.intercepts_ = [], []
        for fan_in, fan_out, factor in zip(layer_units[:-1], layer_units[1:], factors):
            bound = np.sqrt(factor / (fan_in + fan_out))
            self.coefs_.append(
                self._random_state.uniform(-bound, bound, (fan_in, fan_out)))
            self.intercepts_.append(self._random_state.uniform(-bound, bound, fan_out))

        if self.solver in _STOCHASTIC_SOLVERS:
            self.loss_curve_ = []
            self._no_improvement_count = 0
            if self.early_stopping:
                self.validation_scores_ = []
                self.validation_loss_curve_ = []
                self.best_validation_score_ = -np.inf
                self.best_loss_ = None
            else:
                self.best_loss_ = np.inf
                # Scored each epoch, without stopping, on a validation set
                # of the user's.
                self.validation_scores_ = [] if has_validation else None
                self.validation_loss_curve_ = [] if has_validation else None
                self.best_validation_score_ = None
        else:
            for name in (
                "loss_curve_", "best_loss_", "validation_scores_",
                "validation_loss_curve_", "best_validation_score_",
                "_no_improvement_count",
            ):
                self.__dict__.pop(name, None)

    def _fit_lbfgs(self, engine, network, params, X, Y, sample_weight, tasks):
        trainer = engine.trainer(network, X, Y, sample_weight)
        buffer = np.empty_like(params)
        grad = np.empty_like(params)

        def fun(x):
            buffer[...] = x
            loss = trainer.loss_grad(buffer, grad)
            return loss, grad.astype(np.float64)

        x0 = params.astype(np.float64)
        iterations = None
        if self.verbose or tasks.on:
            iterations = LbfgsIterations(tasks, x0, self.verbose)
        stopped = False
        try:
            with _blas.scipy_blas_for_lbfgs():
                result = scipy.optimize.minimize(
                    fun,
                    x0,
                    method="L-BFGS-B",
                    jac=True,
                    callback=iterations,
                    options={"maxfun": self.max_fun, "maxiter": self.max_iter,
                             "gtol": self.tol},
                )
        except StopRequested as stop:
            result, stopped = stop.result, True
            result.nit = iterations.n_iter
        finally:
            if iterations is not None:
                iterations.close()
        self.n_iter_ = min(result.nit, self.max_iter)
        if not stopped and result.status != 0:
            msg = (
                f"lbfgs failed to converge after {self.n_iter_} iteration(s) "
                f"(status={result.status}):\n{result.message}\n"
            )
            if self.n_iter_ == self.max_iter:
                msg += (
                    "\nIncrease the number of iterations to improve the "
                    f"convergence (max_iter={self.max_iter})."
                )
            warnings.warn(msg, ConvergenceWarning, stacklevel=3)
        self.loss_ = np.float64(result.fun)
        params[...] = result.x

    def _validation_set(self, X_val, y_val, sample_weight_val, dtype):
        """The user's validation set, validated as X, y and sample_weight
        are: (X_val, y_val, Y_val, sw_val) with y_val as given (labels for
        a classifier) and Y_val the float64 targets as the network sees
        them; None when there is none."""
        if X_val is None and y_val is None:
            if sample_weight_val is not None:
                raise ValueError("sample_weight_val is given without X_val and y_val.")
            return None
        if X_val is None or y_val is None:
            raise ValueError("X_val and y_val must be given together.")
        if self.solver not in _STOCHASTIC_SOLVERS:
            raise ValueError(
                f"X_val and y_val are scored after each epoch of a stochastic solver "
                f"({', '.join(_STOCHASTIC_SOLVERS)}); solver='{self.solver}' has none.")
        X_val = validate_data(self, X_val, accept_sparse=["csr", "csc"], dtype=dtype,
                              reset=False)
        y_val = check_array(y_val, ensure_2d=False, dtype=None, input_name="y_val")
        if y_val.ndim == 2 and y_val.shape[1] == 1:
            y_val = column_or_1d(y_val, warn=True)
        check_consistent_length(X_val, y_val)
        y_val, Y_val, sw_val = self._validation_targets_of(X_val, y_val, sample_weight_val)
        Y_val = np.asarray(Y_val, dtype=np.float64)
        if Y_val.ndim == 1:
            Y_val = Y_val.reshape(-1, 1)
        if Y_val.shape[1] != self.n_outputs_:
            raise ValueError(f"y_val has {Y_val.shape[1]} outputs, y has {self.n_outputs_}.")
        return X_val, y_val, Y_val, sw_val

    def _fit_stochastic(
        self, engine, network, params, X, y, Y, sample_weight, incremental, validation,
        tasks,
    ):
        # partial_fit carries the optimizer state over from the previous call.
        optimizer = getattr(self, "_optimizer", None)
        if not incremental or optimizer is None or not optimizer.fits(self.solver, params):
            optimizer = self._optimizer = make_optimizer(
                self, params.size, network.layout.coef_size(), params.dtype)

        if self.early_stopping and incremental:
            raise ValueError("partial_fit does not support early_stopping=True")
        early_stopping = self.early_stopping
        rows = None  # the training rows of X, None for all of them in order
        if validation is not None:
            # The user's: all of X trains. (A warm start onto a model fitted
            # without one starts its curves here.)
            if self.validation_scores_ is None:
                self.validation_scores_ = []
            if getattr(self, "validation_loss_curve_", None) is None:
                self.validation_loss_curve_ = []
        elif early_stopping:
            # Split row indices rather than the data, so the training part of
            # X is never copied: the split depends only on the number of rows,
            # the stratification and the RandomState, as scikit-learn's does.
            # Stratified for a single output only, as scikit-learn does (its
            # multiclass targets are one-hot here, hence not stratified).
            stratify = y if is_classifier(self) and self.n_outputs_ == 1 else None
            rows, val_rows = train_test_split(
                np.arange(X.shape[0]),
                random_state=self._random_state,
                test_size=self.validation_fraction,
                stratify=stratify,
            )
            if len(val_rows) < 2:
                raise ValueError(
                    "The validation set is too small. Increase "
                    "'validation_fraction' or the size of your dataset."
                )
            tasks.train_on(rows)
            Y_val = Y[val_rows]
            validation = (
                _safe_indexing(X, val_rows), self._validation_targets(Y_val),
                Y_val.astype(np.float64),
                None if sample_weight is None else sample_weight[val_rows],
            )

        n_samples = X.shape[0] if rows is None else len(rows)
        if self.batch_size == "auto":
            batch_size = min(200, n_samples)
        else:
            if self.batch_size > n_samples:
                warnings.warn(
                    "Got `batch_size` less than 1 or larger than sample size. "
                    "It is going to be clipped"
                )
            batch_size = int(np.clip(self.batch_size, 1, n_samples))

        # Dropout masks are keyed by a seed of this fit's own (and each
        # batch's optimizer step), drawn only when dropout is on, so that
        # without it the RandomState's draws stay scikit-learn's.
        dropout_seed = 0
        if network.dropout > 0:
            dropout_seed = int(self._random_state.randint(np.iinfo(np.int64).max,
                                                          dtype=np.int64))
        trainer = engine.trainer(network, X, Y, sample_weight)
        trainer.start(params, optimizer, dropout_seed)
        # Positions within the training rows, reshuffled each epoch as
        # scikit-learn reshuffles them. Its ``shuffle(positions,
        # random_state=rs)`` permutes with ``rs.shuffle(np.arange(n))``;
        # Fisher-Yates swaps do not depend on the values swapped, so
        # shuffling ``positions`` in place draws the same numbers and gives
        # the same order, without the per-epoch validation around it
        # (measured: 216 -> 104 us per epoch on 10000 rows); fastmlp's
        # shuffle makes NumPy's draws faster still (-> 48 us).
        positions = np.arange(n_samples, dtype=np.intp)
        try:
            self.n_iter_ = 0
            for _ in range(self.max_iter):
                epoch = tasks.subtask("epoch", trainer.parameters, self.n_iter_)
                if self.shuffle:
                    shuffle(self._random_state, positions)
                    order = positions if rows is None else rows[positions]
                else:
                    order = rows
                loss_sum = trainer.run_epoch(order, batch_size)
                self.n_iter_ += 1
                self.loss_ = np.float64(loss_sum / n_samples)
                # The weights are fetched only where they are read (a GPU
                # engine copies them back): a non-finite loss, validation.
                if not (early_stopping or np.isfinite(self.loss_)
                        or np.isfinite(trainer.parameters()).all()):
                    # A non-finite weight never becomes finite again, so
                    # scikit-learn would raise this at the end of the fit.
                    # Under early stopping it trains on, then restores the
                    # best weights: so does fastmlp.
                    raise ValueError(
                        f"{_NON_FINITE_WEIGHTS} The training loss became "
                        f"{self.loss_} at iteration {self.n_iter_}; "
                        "learning_rate_init may be too large."
                    )
                self.t_ += n_samples
                self.loss_curve_.append(self.loss_)
                if self.verbose:
                    print("Iteration %d, loss = %.8f" % (self.n_iter_, self.loss_))

                if validation is not None:
                    trainer.parameters()      # into the buffer coefs_ view
                    self._score_validation(validation)
                self._update_no_improvement_count(early_stopping)
                optimizer.iteration_ends(self.t_)
                stop_asked = tasks.end_subtask(epoch, trainer.parameters, self.n_iter_)

                if self._no_improvement_count > self.n_iter_no_change:
                    if early_stopping:
                        msg = (
                            "Validation score did not improve more than "
                            "tol=%f for %d consecutive epochs."
                            % (self.tol, self.n_iter_no_change)
                        )
                    else:
                        msg = (
                            "Training loss did not improve more than tol=%f"
                            " for %d consecutive epochs."
                            % (self.tol, self.n_iter_no_change)
                        )
                    if optimizer.trigger_stopping(msg, self.verbose):
                        break
                    self._no_improvement_count = 0

                if incremental or stop_asked:
                    break
                if self.n_iter_ == self.max_iter:
                    warnings.warn(
                        "Stochastic Optimizer: Maximum iterations (%d) reached "
                        "and the optimization hasn't converged yet." % self.max_iter,
                        ConvergenceWarning,
                    )
        except KeyboardInterrupt:
            warnings.warn("Training interrupted by user.")
        finally:
            trainer.finish()

        if early_stopping:
            # scikit-learn makes its best weights the live ones (the same
            # arrays), so a later warm fit that never improves ends on its
            # own last weights: None stands for that aliasing here.
            if self._best_params is not None:
                params[...] = self._best_params
            self._best_params = None

    def _score_validation(self, validation):
        """Append the epoch's data loss and score on the validation set to
        validation_loss_curve_ and validation_scores_."""
        X_val, y_val, Y_val, sw_val = validation
        P = self._forward_pass_fast(X_val, check_input=False)
        # The score first: weights that sum to zero get the score's own error,
        # scikit-learn's.
        if self.scoring is None:
            score = self._score_output(P, y_val, sw_val)
        elif self.scoring != "loss":
            scorer = get_scorer(self.scoring) if isinstance(self.scoring, str) \
                else self.scoring
            weights = {} if sw_val is None else {"sample_weight": sw_val}
            score = float(scorer(self, X_val, y_val, **weights))
        with np.errstate(all="ignore"):       # a diverged model's loss is inf/nan
            loss = float(output_loss(self.loss, self.out_activation_).loss(Y_val, P, sw_val))
        if self.scoring == "loss":
            score = -loss
        self.validation_loss_curve_.append(loss)
        self.validation_scores_.append(score)
        if self.verbose:
            print("Validation score: %f" % score)

    def _update_no_improvement_count(self, early_stopping):
        if early_stopping:
            score = self.validation_scores_[-1]
            if score < self.best_validation_score_ + self.tol:
                self._no_improvement_count += 1
            else:
                self._no_improvement_count = 0
            if score > self.best_validation_score_:
                self.best_validation_score_ = score
                self._best_params = self._params.copy()
        else:
            loss = self.loss_curve_[-1]
            if loss > self.best_loss_ - self.tol:
                self._no_improvement_count += 1
            else:
                self._no_improvement_count = 0
            if loss < self.best_loss_:
                self.best_loss_ = loss

    def _validation_targets(self, Y_val):
        return Y_val

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y, sample_weight=None, *, X_val=None, y_val=None,
            sample_weight_val=None):
        """Fit the model to data matrix X and target(s) y.

        Parameters
        ----------
        X : {ndarray, sparse matrix} of shape (n_samples, n_features)
            The input data.
        y : ndarray of shape (n_samples,) or (n_samples, n_outputs)
            The target values (class labels in classification, real numbers
            in regression).
        sample_weight : array-like of shape (n_samples,), default=None
            Sample weights.
        X_val : {ndarray, sparse matrix} of shape (n_val, n_features), default=None
            A validation set of your own (stochastic solvers), validated as
            X is. With ``early_stopping=True`` it replaces the held-out
            ``validation_fraction`` (all of X trains); otherwise it is only
            scored, after each epoch, into ``validation_scores_`` and
            ``validation_loss_curve_``.
        y_val : ndarray of shape (n_val,) or (n_val, n_outputs), default=None
            The targets of ``X_val``; given with it.
        sample_weight_val : array-like of shape (n_val,), default=None
            Weights of the validation samples (times the class weights, for
            a classifier with ``class_weight``).

        Returns
        -------
        self : object
            The fitted model.
        """
        return self._fit(X, y, sample_weight=sample_weight, incremental=False,
                         X_val=X_val, y_val=y_val, sample_weight_val=sample_weight_val)

    def _check_solver(self):
        if self.solver not in _STOCHASTIC_SOLVERS:
            raise AttributeError(
                "partial_fit is only available for stochastic optimizers. "
                "%s is not stochastic." % self.solver
            )
        return True

    # -------------------------------------------------------------- predict

    def _check_is_fitted(self):
        # check_is_fitted scans every attribute (~7 us); a fitted model has
        # coefs_, and anything else gets scikit-learn's own check and error.
        if "coefs_" not in self.__dict__:
            check_is_fitted(self)

    def _plain_training_input(self, X, y, reset):
        """``validate_data(self, X, y, ...)`` as fit calls it, made directly
        for plain input, or None: X a C- or F-ordered float32/float64
        ndarray, y a 1-D numeric ndarray of as many rows, both finite (X
        checked in vectorized passes split over the cpu engine's pool:
        10000x20 float32, 61 us for scikit-learn's quick check, a finite
        sum; 60000x784, ~16 ms on one core, ~10 on two), no feature names before
        or now. The same arrays come back, and a
        fresh fit sets n_features_in_ and drops feature_names_in_, as
        validate_data does. Its general machinery (array API, dataframes,
        conversions, its ~300 us on 10000 rows: a twentieth of a 5-epoch
        fit of a small network) is left to everything else, including
        anything that fails or warns, which then gets scikit-learn's own
        exceptions and warnings."""
        if not (
            type(X) is np.ndarray
            and type(y) is np.ndarray
            and X.ndim == 2
            and y.ndim == 1
            and X.dtype in _FLOAT_DTYPES
            and (X.flags.c_contiguous or X.flags.f_contiguous)
            and y.dtype.kind in "biuf"
            and X.shape[0] == y.shape[0]
            and X.shape[0] > 0
            and X.shape[1] > 0
            and "feature_names_in_" not in self.__dict__
            and (reset or self.__dict__.get("n_features_in_") == X.shape[1])
        ):
            return None
        config = get_config()
        if config["array_api_dispatch"]:
            return None
        if not config["assume_finite"] and not (
                _train.all_finite(X.ravel(order="K"))
                and (y.dtype.kind != "f" or np.isfinite(y).all())):
            return None
        if reset:
            self.n_features_in_ = X.shape[1]
        return X, y

    def _is_small_valid_array(self, X):
        """Whether X is a few C-ordered float rows that pass every check
        validate_data makes, but for finiteness (the forward pass checks it).

        Such input (the single-row predictions of a served model) skips
        validate_data, which costs ~60 us, far more than the forward pass.
        Everything else, and anything that would fail or warn, takes the
        full validation and gets scikit-learn's exceptions and warnings.
        """
        return (
            type(X) is np.ndarray
            and X.ndim == 2
            and 0 < X.shape[0] <= FAST_PATH_MAX_ROWS
            and X.shape[1] == self.n_features_in_
            and X.dtype in _FLOAT_DTYPES
            and X.flags.c_contiguous
            and "feature_names_in_" not in self.__dict__
        )

    def _forward_pass_fast(self, X, check_input=True):
        check_finite_as = None
        if check_input:
            # The finiteness check is left to the forward pass, which fuses
            # it with the first layer and raises scikit-learn's own error.
            if not self._is_small_valid_array(X):
                X = validate_data(
                    self, X, accept_sparse=["csr", "csc"], reset=False,
                    ensure_all_finite=False,
                )
            if not get_config()["assume_finite"]:
                check_finite_as = type(self).__name__
        return _inference.forward(
            X, self.coefs_, self.intercepts_, self.activation,
            self.out_activation_, check_finite_as=check_finite_as,
            bf16=getattr(self, "matmul_precision", None) == "bfloat16",
        )

    def _score_output(self, P, y, sample_weight):
        """The score (the class's _score_function: accuracy, R2) of the
        predictions whose output layer is P: one forward pass serves the
        validation loss and the early-stopping score."""
        y_pred = self._predict_from_output(P)
        if np.issubdtype(y_pred.dtype, np.floating) and not np.isfinite(y_pred).all():
            return np.nan
        return self._score_function(y, y_pred, sample_weight=sample_weight)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        return tags


_COMMON_PARAMS_DOC = """
    hidden_layer_sizes : array-like of shape (n_layers - 2,), default=(100,)
        The ith element is the number of neurons in the ith hidden layer.
    activation : {'identity', 'logistic', 'tanh', 'relu'}, default='relu'
        Activation function of the hidden layers.
    solver : {'lbfgs', 'sgd', 'adam', 'rmsprop', 'adamw'}, default='adam'
        The weight optimizer: L-BFGS-B from scipy, minibatch SGD, Adam,
        RMSprop (``v = rho v + (1 - rho) g^2``,
        ``p -= learning_rate_init g / (sqrt(v) + epsilon)``), or AdamW
        (``p -= learning_rate_init weight_decay p`` on the coefficients,
        then Adam's step).
    alpha : float, default=0.0001
        Strength of the L2 penalty, divided by the sample-weight sum.
    batch_size : int or 'auto', default='auto'
        Minibatch size of the stochastic solvers; 'auto' is
        ``min(200, n_samples)``.
    learning_rate : {'constant', 'invscaling', 'adaptive'}, default='constant'
        Learning-rate schedule of the 'sgd' solver.
    learning_rate_init : float, default=0.001
        Initial learning rate ('sgd' and 'adam').
    power_t : float, default=0.5
        Exponent of the 'invscaling' schedule.
    max_iter : int, default=200
        Maximum number of epochs (stochastic solvers) or iterations (lbfgs).
    shuffle : bool, default=True
        Whether to shuffle the samples every epoch (stochastic solvers).
    random_state : int, RandomState instance or None, default=None
        Seeds the weight initialisation, the shuffling and the early-stopping
        split.
    tol : float, default=1e-4
        Tolerance of the stopping criteria.
    verbose : bool, default=False
        Whether to print progress to stdout.
    warm_start : bool, default=False
        Whether to start from the previous fit's weights.
    momentum : float, default=0.9
        Momentum of the 'sgd' solver.
    nesterovs_momentum : bool, default=True
        Whether 'sgd' uses Nesterov's momentum.
    early_stopping : bool, default=False
        Whether to hold out ``validation_fraction`` of the data and stop when
        its score stalls, keeping the best weights.
    validation_fraction : float, default=0.1
        Share of the training data held out for early stopping.
    beta_1, beta_2 : float, default=0.9, 0.999
        Decay rates of Adam's moment estimates.
    epsilon : float, default=1e-8
        The numerical-stability term of Adam and RMSprop.
    n_iter_no_change : int, default=10
        Epochs without an improvement of ``tol`` before stopping.
    max_fun : int, default=15000
        Maximum number of loss evaluations of 'lbfgs'.
    backend : {'auto', 'numpy', 'cpu', 'cuda'}, default='auto'
        The engine that runs the training: 'numpy' is the pure-NumPy
        reference; 'cpu' the compiled CPU engine, which 'auto' picks;
        'cuda' trains on an NVIDIA GPU (the ``fastmlp[cuda]`` extra).
    matmul_precision : {'bfloat16', 'tf32'} or None, default=None
        The GEMMs' arithmetic: None, the data's dtype exactly. 'bfloat16'
        (cpu and numpy backends): a float32 model whose training and
        prediction GEMMs take their inputs rounded to bfloat16 and sum in
        float32, on AMX or AVX512-BF16 (fitting raises a ValueError on a
        CPU with neither; prediction there computes the same products from
        rounded copies); everything else (activations, loss, optimizer,
        ``coefs_``) stays float32. 'tf32' (``backend='cuda'`` only):
        float32 training GEMMs on the GPU's TF32 tensor cores; predictions
        stay exact.
    rho : float, default=0.9
        RMSprop's decay rate of the mean square of the gradient (Keras'
        default), in [0, 1).
    weight_decay : float, default=0.01
        AdamW's decoupled weight decay of the coefficients (not the
        intercepts), per step ``learning_rate_init * weight_decay``.
    scoring : str, callable or None, default=None
        What ``validation_scores_`` records and early stopping maximizes:
        None for scikit-learn's accuracy (classifier) or R2 (regressor);
        'loss' for the negative validation loss (HistGradientBoosting's
        convention); any scikit-learn scorer name; or a callable
        ``scorer(estimator, X_val, y_val[, sample_weight=...])``.
    dropout : float, default=0.0
        Inverted dropout of every hidden layer's output while training with
        a stochastic solver: each element is zeroed with probability
        ``dropout`` and the others are scaled by ``1 / (1 - dropout)``;
        nothing changes at predict time. The masks are reproducible: a
        counter-based generator keyed by a seed drawn from
        ``random_state``, the optimizer's step and the element, the same on
        every backend. In [0, 1); 0 leaves the fit exactly as without it.
"""

_CLASS_WEIGHT_DOC = """    class_weight : dict, list of dict, 'balanced' or None, default=None
        Weights of the classes, as LogisticRegression's: ``{label: weight}``
        (one dict per output for multilabel y), or 'balanced' for
        ``n_samples / (n_classes * np.bincount(y))``. The fit is the fit with
        ``sample_weight * compute_sample_weight(class_weight, y)`` (a given
        ``sample_weight`` is multiplied, not replaced), so the weights reach
        the loss, its gradient and the early-stopping score. 'balanced' is
        refused by ``partial_fit``, whose batches would each weigh their own
        classes; pass ``compute_class_weight`` of all the data as a dict.
"""

_ATTRIBUTES_DOC = """
    Attributes
    ----------
    loss_ : float
        The loss at the end of the fit.
    best_loss_ : float or None
        Minimum training loss (stochastic solvers, without early stopping).
    loss_curve_ : list of float
        Training loss after each epoch (stochastic solvers).
    validation_scores_ : list of float or None
        Score on the validation set after each epoch (early stopping's
        held-out part, or ``X_val``): ``scoring``'s, by default accuracy
        (classifier) or R2 (regressor); None without a validation set.
    validation_loss_curve_ : list of float or None
        Data loss on the validation set after each epoch: the loss of
        ``loss_curve_`` without the L2 term (for a classifier,
        ``sklearn.metrics.log_loss``); None without a validation set.
    best_validation_score_ : float or None
        Best validation score (with early stopping), the returned model's
        score on the validation set.
    t_ : int
        Number of training samples seen by the solver.
    coefs_ : list of ndarray
        ``coefs_[i]`` is the weight matrix between layers i and i + 1.
    intercepts_ : list of ndarray
        ``intercepts_[i]`` is the bias vector of layer i + 1.
    n_features_in_ : int
        Number of features seen during fit.
    feature_names_in_ : ndarray of shape (n_features_in_,)
        Names of the features seen during fit, when X had string names.
    n_iter_ : int
        Number of iterations the solver ran.
    n_layers_ : int
        Number of layers, input and output included.
    n_outputs_ : int
        Number of outputs.
    out_activation_ : str
        Name of the output activation.
"""


class MLPClassifier(ClassifierMixin, BaseMultilayerPerceptron):
    _parameter_constraints: dict = {
        **BaseMultilayerPerceptron._parameter_constraints,
        "class_weight": [dict, list, StrOptions({"balanced"}), None],
    }

    __doc__ = (
        """Multi-layer perceptron classifier: scikit-learn's, faster.

    A drop-in for ``sklearn.neural_network.MLPClassifier``: same parameters,
    defaults, attributes and results, plus ``backend``.

    Parameters
    ----------"""
        + _COMMON_PARAMS_DOC
        + _CLASS_WEIGHT_DOC
        + _ATTRIBUTES_DOC
        + """    classes_ : ndarray or list of ndarray
        Class labels of each output.

    Examples
    --------
    >>> from sklearn.datasets import load_iris
    >>> from fastmlp import MLPClassifier
    >>> X, y = load_iris(return_X_y=True)
    >>> clf = MLPClassifier(max_iter=500, random_state=0).fit(X, y)
    >>> clf.predict(X[:2]).shape
    (2,)
    """
    )

    def __init__(
        self,
        hidden_layer_sizes=(100,),
        activation="relu",
        *,
        solver="adam",
        alpha=0.0001,
        batch_size="auto",
        learning_rate="constant",
        learning_rate_init=0.001,
        power_t=0.5,
        max_iter=200,
        shuffle=True,
        random_state=None,
        tol=1e-4,
        verbose=False,
        warm_start=False,
        momentum=0.9,
        nesterovs_momentum=True,
        early_stopping=False,
        validation_fraction=0.1,
        beta_1=0.9,
        beta_2=0.999,
        epsilon=1e-8,
        n_iter_no_change=10,
        max_fun=15000,
        backend="auto",
        rho=0.9,
        weight_decay=0.01,
        dropout=0.0,
        scoring=None,
        matmul_precision=None,
        class_weight=None,
    ):
        self.class_weight = class_weight
        super().__init__(
            hidden_layer_sizes=hidden_layer_sizes,
            activation=activation,
            solver=solver,
            alpha=alpha,
            batch_size=batch_size,
            learning_rate=learning_rate,
            learning_rate_init=learning_rate_init,
            power_t=power_t,
            max_iter=max_iter,
            loss="log_loss",
            shuffle=shuffle,
            random_state=random_state,
            tol=tol,
            verbose=verbose,
            warm_start=warm_start,
            momentum=momentum,
            nesterovs_momentum=nesterovs_momentum,
            early_stopping=early_stopping,
            validation_fraction=validation_fraction,
            beta_1=beta_1,
            beta_2=beta_2,
            epsilon=epsilon,
            n_iter_no_change=n_iter_no_change,
            max_fun=max_fun,
            backend=backend,
            rho=rho,
            weight_decay=weight_decay,
            dropout=dropout,
            scoring=scoring,
            matmul_precision=matmul_precision,
        )

    def _validate_input(self, X, y, sample_weight, incremental, reset):
        plain = self._plain_training_input(X, y, reset)
        X, y = plain if plain is not None else validate_data(
            self,
            X,
            y,
            accept_sparse=["csr", "csc"],
            multi_output=True,
            dtype=(np.float64, np.float32),
            reset=reset,
        )
        if y.ndim == 2 and y.shape[1] == 1:
            y = column_or_1d(y, warn=True)

        # A fresh fit (re)defines the classes; a warm start must see the same
        # classes again; partial_fit accepts any subset of its classes.
        if not hasattr(self, "classes_") or (not self.warm_start and not incremental):
            self._label_binarizer = _fitted_label_binarizer(y)
            self.classes_ = self._label_binarizer.classes_
        else:
            classes = unique_labels(y)
            if self.warm_start:
                if set(classes) != set(self.classes_):
                    raise ValueError(
                        "warm_start can only be used where `y` has the same "
                        "classes as in the previous call to fit. Previously "
                        f"got {self.classes_}, `y` has {classes}"
                    )
            elif len(np.setdiff1d(classes, self.classes_, assume_unique=True)):
                raise ValueError(
                    "`y` has classes not in `self.classes_`. "
                    f"`self.classes_` has {self.classes_}. 'y' has {classes}."
                )
        return X, self._indicator(y), self._weigh_classes(X, y, sample_weight, incremental)

    def _weigh_classes(self, X, y, sample_weight, incremental):
        """The sample weights to train with: ``sample_weight`` (validated),
        times ``compute_sample_weight(class_weight, y)`` when class_weight
        is set. The product is taken in float64 before the cast to X's
        dtype, as a user's own product passed as sample_weight would be."""
        if self.class_weight is None:
            if sample_weight is None:
                return None
            return _check_sample_weight(sample_weight, X)
        if incremental and self.class_weight == "balanced":
            # As SGDClassifier: balanced weights would change with each batch.
            raise ValueError(
                "class_weight 'balanced' is not supported for partial_fit. "
                "In order to use 'balanced' weights, use "
                "compute_class_weight('balanced', classes=classes, y=y) and "
                "pass the resulting weights as the class_weight parameter."
            )
        weights = compute_sample_weight(self.class_weight, y)
        if sample_weight is not None:
            weights = weights * _check_sample_weight(sample_weight, X, dtype=np.float64)
        return _check_sample_weight(weights, X)

    def _indicator(self, y):
        """``self._label_binarizer.transform(y).astype(bool)``, computed cheaply.

        By now y's labels are checked against ``classes_``, so a 1-D binary or
        multiclass y is one comparison with the classes away from its
        indicator matrix. ``transform`` would infer y's target type again and
        build a sparse matrix first: 4.4 of the 18 ms a fit on 60000 labels
        spent outside its epochs, against 0.3 ms. Other targets (multilabel,
        a single class) go through ``transform``.
        """
        binarizer = self._label_binarizer
        classes = binarizer.classes_
        if y.ndim != 1 or binarizer.y_type_ not in ("binary", "multiclass") \
                or len(classes) < 2:
            return binarizer.transform(y).astype(bool)
        if len(classes) == 2:
            # One column, for the second class, as LabelBinarizer gives.
            return (y == classes[1]).reshape(-1, 1)
        if len(classes) <= 64:
            # A comparison per class, then one copy: a broadcast comparison
            # runs its inner loop over the few classes once per row (10000
            # labels, 3 classes: 114 -> 27 us).
            return np.stack([y == label for label in classes], axis=1)
        return y.reshape(-1, 1) == classes.reshape(1, -1)

    def _validation_targets(self, Y_val):
        return self._label_binarizer.inverse_transform(Y_val)

    def _validation_targets_of(self, X_val, y_val, sample_weight_val):
        """(y_val, its indicator matrix, the validation weights)."""
        if self._label_binarizer.y_type_ != "multilabel-indicator":
            unknown = np.setdiff1d(unique_labels(y_val), self.classes_)
            if len(unknown):
                raise ValueError(f"y_val has classes not in classes_ {self.classes_}: "
                                 f"{unknown}.")
        return (y_val, self._indicator(y_val),
                self._weigh_classes(X_val, y_val, sample_weight_val, incremental=False))

    def predict(self, X):
        """Predict with the multi-layer perceptron classifier.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            The input data.

        Returns
        -------
        y : ndarray of shape (n_samples,) or (n_samples, n_classes)
            The predicted classes.
        """
        self._check_is_fitted()
        return self._predict(X)

    def _predict(self, X, check_input=True):
        return self._decode(self._forward_pass_fast(X, check_input=check_input))

    def _predict_from_output(self, P):
        return self._decode(P)

    def _decode(self, y_pred):
        """``self._label_binarizer.inverse_transform`` of the output layer.

        Binary and multiclass outputs are one index into ``classes_`` away
        from their labels, exactly as LabelBinarizer computes them (the first
        maximum; a probability above 0.5, the midpoint of its labels 0 and
        1). Its general path costs ~60 us a call, five times a single-row
        forward pass. Other targets (multilabel, a single class) take it.
        """
        binarizer = self._label_binarizer
        classes = binarizer.classes_
        if not binarizer.sparse_input_ and binarizer.neg_label == 0 \
                and binarizer.pos_label == 1:
            if binarizer.y_type_ == "multiclass":
                return classes[y_pred.argmax(axis=1)]
            if binarizer.y_type_ == "binary" and len(classes) == 2:
                return classes[(y_pred[:, 0] > 0.5).astype(np.intp)]
        if self.n_outputs_ == 1:
            y_pred = y_pred.ravel()
        return binarizer.inverse_transform(y_pred)

    _score_function = staticmethod(accuracy_score)

    @available_if(lambda est: est._check_solver())
    @_fit_context(prefer_skip_nested_validation=True)
    def partial_fit(self, X, y, sample_weight=None, classes=None):
        """Update the model with a single epoch over the given data.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            The input data.
        y : array-like of shape (n_samples,)
            The target values.
        sample_weight : array-like of shape (n_samples,), default=None
            Sample weights.
        classes : array of shape (n_classes,), default=None
            All classes across calls to partial_fit; required on the first
            call, optional afterwards. y need not contain all of them.

        Returns
        -------
        self : object
            The updated model.
        """
        if _check_partial_fit_first_call(self, classes):
            self._label_binarizer = LabelBinarizer()
            if type_of_target(y).startswith("multilabel"):
                self._label_binarizer.fit(y)
            else:
                self._label_binarizer.fit(classes)
        return self._fit(X, y, sample_weight=sample_weight, incremental=True)

    def predict_log_proba(self, X):
        """Log of the probability estimates.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            The input data.

        Returns
        -------
        log_y_prob : ndarray of shape (n_samples, n_classes)
            ``log(predict_proba(X))``, classes ordered as in ``classes_``.
        """
        y_prob = self.predict_proba(X)
        return np.log(y_prob, out=y_prob)

    def predict_proba(self, X):
        """Probability estimates.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            The input data.

        Returns
        -------
        y_prob : ndarray of shape (n_samples, n_classes)
            Probability of each class, classes ordered as in ``classes_``.
        """
        self._check_is_fitted()
        y_pred = self._forward_pass_fast(X)
        if self.n_outputs_ == 1:
            y_pred = y_pred.ravel()
        if y_pred.ndim == 1:
            return np.vstack([1 - y_pred, y_pred]).T
        return y_pred

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.classifier_tags.multi_label = True
        return tags


class MLPRegressor(RegressorMixin, BaseMultilayerPerceptron):
    __doc__ = (
        """Multi-layer perceptron regressor: scikit-learn's, faster.

    A drop-in for ``sklearn.neural_network.MLPRegressor``: same parameters,
    defaults, attributes and results, plus ``backend``.

    Parameters
    ----------
    loss : {'squared_error', 'poisson'}, default='squared_error'
        Half squared error with an identity output, or half Poisson deviance
        with an exponential output (targets must be non-negative)."""
        + _COMMON_PARAMS_DOC
        + _ATTRIBUTES_DOC
        + """
    Examples
    --------
    >>> from sklearn.datasets import make_regression
    >>> from fastmlp import MLPRegressor
    >>> X, y = make_regression(n_samples=200, random_state=0)
    >>> reg = MLPRegressor(max_iter=50, random_state=0).fit(X, y)
    >>> reg.predict(X[:2]).shape
    (2,)
    """
    )

    _parameter_constraints: dict = {
        **BaseMultilayerPerceptron._parameter_constraints,
        "loss": [StrOptions({"squared_error", "poisson"})],
    }

    def __init__(
        self,
        loss="squared_error",
        hidden_layer_sizes=(100,),
        activation="relu",
        *,
        solver="adam",
        alpha=0.0001,
        batch_size="auto",
        learning_rate="constant",
        learning_rate_init=0.001,
        power_t=0.5,
        max_iter=200,
        shuffle=True,
        random_state=None,
        tol=1e-4,
        verbose=False,
        warm_start=False,
        momentum=0.9,
        nesterovs_momentum=True,
        early_stopping=False,
        validation_fraction=0.1,
        beta_1=0.9,
        beta_2=0.999,
        epsilon=1e-8,
        n_iter_no_change=10,
        max_fun=15000,
        backend="auto",
        rho=0.9,
        weight_decay=0.01,
        dropout=0.0,
        scoring=None,
        matmul_precision=None,
    ):
        super().__init__(
            hidden_layer_sizes=hidden_layer_sizes,
            activation=activation,
            solver=solver,
            alpha=alpha,
            batch_size=batch_size,
            learning_rate=learning_rate,
            learning_rate_init=learning_rate_init,
            power_t=power_t,
            max_iter=max_iter,
            loss=loss,
            shuffle=shuffle,
            random_state=random_state,
            tol=tol,
            verbose=verbose,
            warm_start=warm_start,
            momentum=momentum,
            nesterovs_momentum=nesterovs_momentum,
            early_stopping=early_stopping,
            validation_fraction=validation_fraction,
            beta_1=beta_1,
            beta_2=beta_2,
            epsilon=epsilon,
            n_iter_no_change=n_iter_no_change,
            max_fun=max_fun,
            backend=backend,
            rho=rho,
            weight_decay=weight_decay,
            dropout=dropout,
            scoring=scoring,
            matmul_precision=matmul_precision,
        )

    def _validate_input(self, X, y, sample_weight, incremental, reset):
        plain = self._plain_training_input(X, y, reset)
        X, y = plain if plain is not None else validate_data(
            self,
            X,
            y,
            accept_sparse=["csr", "csc"],
            multi_output=True,
            y_numeric=True,
            dtype=(np.float64, np.float32),
            reset=reset,
        )
        if y.ndim == 2 and y.shape[1] == 1:
            y = column_or_1d(y, warn=True)
        if sample_weight is not None:
            sample_weight = _check_sample_weight(sample_weight, X)
        return X, y, sample_weight

    def _validation_targets_of(self, X_val, y_val, sample_weight_val):
        """(y_val, the targets as the network sees them, the weights)."""
        y_val = check_array(y_val, ensure_2d=False, dtype=np.float64, input_name="y_val")
        self._check_targets(y_val, "y_val")
        if sample_weight_val is not None:
            sample_weight_val = _check_sample_weight(sample_weight_val, X_val)
        return y_val, y_val, sample_weight_val

    def _check_targets(self, y, name="y"):
        if self.loss == "poisson" and np.any(y < 0):
            raise ValueError(
                f"Some value(s) of {name} are negative which is not allowed for "
                "Poisson regression."
            )

    def predict(self, X):
        """Predict with the multi-layer perceptron regressor.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            The input data.

        Returns
        -------
        y : ndarray of shape (n_samples,) or (n_samples, n_outputs)
            The predicted values.
        """
        self._check_is_fitted()
        return self._predict(X)

    def _predict(self, X, check_input=True):
        return self._predict_from_output(self._forward_pass_fast(X, check_input=check_input))

    def _predict_from_output(self, P):
        return P.ravel() if P.shape[1] == 1 else P

    _score_function = staticmethod(r2_score)

    @available_if(lambda est: est._check_solver())
    @_fit_context(prefer_skip_nested_validation=True)
    def partial_fit(self, X, y, sample_weight=None):
        """Update the model with a single epoch over the given data.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            The input data.
        y : ndarray of shape (n_samples,) or (n_samples, n_outputs)
            The target values.
        sample_weight : array-like of shape (n_samples,), default=None
            Sample weights.

        Returns
        -------
        self : object
            The updated model.
        """
        return self._fit(X, y, sample_weight=sample_weight, incremental=True)
