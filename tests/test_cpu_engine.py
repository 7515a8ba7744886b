"""The fast cpu engine against the NumPy reference engine."""

import pickle
import tracemalloc

import numpy as np
import pytest
from numpy.testing import assert_allclose
from scipy.optimize import check_grad
from sklearn.model_selection import train_test_split

from fastmlp import MLPClassifier, MLPRegressor
from fastmlp._operations import HIDDEN_ACTIVATIONS
from fastmlp._optimizers import OPTIMIZERS
from fastmlp.engines import get_engine
from fastmlp.engines.cpu_engine import CpuEngine, CpuTrainer

from _networks import OUTPUTS, PER_LAYER, make_problem
from conftest import run_python

pytestmark = pytest.mark.skipif(
    not CpuEngine.is_available(), reason="the cpu engine needs numba and the compiled kernels"
)

SOLVERS = [
    dict(solver="adam"),
    dict(solver="sgd", learning_rate_init=0.05),
    dict(solver="sgd", learning_rate_init=0.05, nesterovs_momentum=False,
         learning_rate="invscaling", power_t=0.25),
    dict(solver="sgd", learning_rate_init=0.05, learning_rate="adaptive", tol=0.05,
         n_iter_no_change=2),
    dict(solver="lbfgs"),
]


def _fit_both(cls, X, y, **params):
    ref = cls(backend="numpy", **params).fit(X, y)
    fast = cls(backend="cpu", **params).fit(X, y)
    return ref, fast


def _curve(est):
    return np.array(getattr(est, "loss_curve_", [est.loss_]))


def test_auto_picks_the_cpu_engine():
    assert get_engine("auto").name == "cpu"


@pytest.mark.parametrize("params", SOLVERS, ids=lambda p: "-".join(map(str, p.values())))
@pytest.mark.parametrize("activation", list(HIDDEN_ACTIVATIONS))
@pytest.mark.parametrize("weighted", [False, True])
def test_classifier_follows_reference(digits, params, activation, weighted):
    X, y = digits
    sw = np.random.RandomState(0).uniform(0.5, 2, len(y)) if weighted else None
    kw = dict(hidden_layer_sizes=(32, 16), activation=activation, max_iter=20,
              random_state=0, **params)
    ref = MLPClassifier(backend="numpy", **kw).fit(X, y, sample_weight=sw)
    fast = MLPClassifier(backend="cpu", **kw).fit(X, y, sample_weight=sw)
    assert fast.n_iter_ == ref.n_iter_
    assert_allclose(_curve(fast), _curve(ref), rtol=1e-6)
    for a, b in zip(fast.coefs_ + fast.intercepts_, ref.coefs_ + ref.intercepts_):
        assert_allclose(a, b, rtol=1e-5, atol=1e-8)


@pytest.mark.parametrize("loss", ["squared_error", "poisson"])
@pytest.mark.parametrize("params", SOLVERS, ids=lambda p: "-".join(map(str, p.values())))
def test_regressor_follows_reference(loss, params):
    rs = np.random.RandomState(1)
    X = rs.normal(size=(400, 8))
    y = np.exp(0.3 * X[:, 0] - 0.2 * X[:, 1]) + 0.1 * rs.uniform(size=400)
    Y = np.column_stack([y, 2 * y])
    params = dict(params)
    if params["solver"] == "sgd":
        params["learning_rate_init"] = 0.005
    ref, fast = _fit_both(MLPRegressor, X, Y, loss=loss, hidden_layer_sizes=(16,),
                          activation="tanh", max_iter=20, random_state=0, **params)
    assert_allclose(_curve(fast), _curve(ref), rtol=1e-6)


def test_binary_multilabel_early_stopping_and_no_shuffle(digits):
    X, y = digits
    for target in ((y > 4).astype(int), np.column_stack([y > 4, y % 2 == 0, y == 3])):
        for extra in (dict(early_stopping=True), dict(shuffle=False),
                      dict(early_stopping=True, shuffle=False)):
            ref, fast = _fit_both(MLPClassifier, X, target, hidden_layer_sizes=(20,),
                                  max_iter=15, random_state=0, **extra)
            assert_allclose(fast.loss_curve_, ref.loss_curve_, rtol=1e-6)
            if "early_stopping" in extra:
                assert_allclose(fast.validation_scores_, ref.validation_scores_)


def test_partial_fit_and_warm_start_follow_reference(digits):
    X, y = digits
    classes = np.unique(y)
    models = {}
    for backend in ("numpy", "cpu"):
        est = MLPClassifier(hidden_layer_sizes=(20,), random_state=0, backend=backend)
        for chunk in np.array_split(np.arange(len(y)), 6):
            est.partial_fit(X[chunk], y[chunk], classes=classes)
        est.set_params(warm_start=True, max_iter=5)
        est.fit(X, y)
        models[backend] = est
    assert_allclose(models["cpu"].loss_curve_, models["numpy"].loss_curve_, rtol=1e-6)
    assert models["cpu"].t_ == models["numpy"].t_


def test_float32_close_to_float64(digits):
    X, y = digits
    X_train, X_test, y_train, y_test = train_test_split(X, y, random_state=0, stratify=y)
    kw = dict(hidden_layer_sizes=(64,), max_iter=40, random_state=0, backend="cpu")
    f64 = MLPClassifier(**kw).fit(X_train, y_train)
    f32 = MLPClassifier(**kw).fit(X_train.astype(np.float32), y_train)
    assert f32.coefs_[0].dtype == np.float32
    assert abs(f32.loss_ - f64.loss_) / f64.loss_ < 1e-2
    acc64 = f64.score(X_test, y_test)
    acc32 = f32.score(X_test.astype(np.float32), y_test)
    assert abs(acc32 - acc64) <= 0.005


@pytest.mark.parametrize("activation", [*HIDDEN_ACTIVATIONS, PER_LAYER], ids=str)
@pytest.mark.parametrize("out_activation", sorted(OUTPUTS))
@pytest.mark.parametrize("weighted", [False, True])
def test_cpu_gradient_matches_finite_differences(activation, out_activation, weighted):
    net, X, Y, sw, params = make_problem(activation, out_activation, weighted, n=25)
    trainer = CpuTrainer(net, X, Y, sw)

    def f(p):
        return trainer.loss_grad(np.ascontiguousarray(p), np.empty_like(p))

    def g(p):
        grad = np.empty_like(p)
        trainer.loss_grad(np.ascontiguousarray(p), grad)
        return grad

    assert check_grad(f, g, params, epsilon=1e-6) < 1e-5 * max(1, np.linalg.norm(g(params)))
    # and the same numbers as the reference
    from fastmlp.engines.numpy_engine import loss_and_gradient

    ref_grad = np.empty_like(params)
    assert f(params) == pytest.approx(
        loss_and_gradient(net, params, X, Y, sw, ref_grad), rel=1e-12)
    assert_allclose(g(params), ref_grad, rtol=1e-10, atol=1e-14)


def test_float32_steps_hand_the_next_batch_its_l2_term(digits):
    # A float32 optimizer step sums the updated coefficients' squares in its
    # own pass, for the next batch's loss (a slice of the loop starts with
    # its own sum). With a large alpha the L2 term is most of the loss and
    # moves a lot per step: a term one step stale would show at once. 18944
    # coefficients: several L2 chunks, split over the pool's threads.
    X, y = digits
    kw = dict(hidden_layer_sizes=(256,), alpha=3.0, batch_size=50, max_iter=3,
              learning_rate_init=0.01, random_state=0)
    X = X.astype(np.float32)
    ref = MLPClassifier(backend="numpy", **kw).fit(X, y)
    fast = MLPClassifier(backend="cpu", **kw).fit(X, y)
    assert_allclose(fast.loss_curve_, ref.loss_curve_, rtol=1e-5)


@pytest.mark.parametrize("out_activation", sorted(OUTPUTS))
def test_float32_gradient_through_transposed_weights_follows_reference(out_activation):
    # W of 9 x 200 and 50 x 4 entries are transposed for delta @ W^T; 200 x 50
    # (10000 entries) is multiplied transposed in place: both paths, within
    # float32 rounding of the float64 reference, in full and minibatch
    # gradients.
    from fastmlp._tunables import TRANSPOSED_WEIGHTS_MAX
    from fastmlp.engines import Network
    from fastmlp.engines.numpy_engine import loss_and_gradient

    units = (13, 9, 200, 50, 4 if out_activation != "identity" else 1)
    net64, X, Y, sw, params = make_problem("tanh", out_activation, True, n=40,
                                           units=units)
    net32 = Network(net64.layer_units, net64.hidden_activations, net64.out_activation,
                    net64.loss, alpha=net64.alpha, dtype=np.dtype(np.float32))
    trainer = CpuTrainer(net32, X.astype(np.float32), Y.astype(np.float32),
                         sw.astype(np.float32))
    wt_off = trainer._workspace(40)[1][4]
    sizes = [a * b for a, b in zip(units[:-1], units[1:])]
    assert [off >= 0 for off in wt_off] == [
        i > 0 and n <= TRANSPOSED_WEIGHTS_MAX for i, n in enumerate(sizes)]
    assert (wt_off >= 0).any() and (wt_off[1:] < 0).any()
    p32 = params.astype(np.float32)
    grad = np.empty_like(p32)
    loss = trainer.loss_grad(p32, grad)
    ref_grad = np.empty_like(params)
    ref_loss = loss_and_gradient(net64, p32.astype(np.float64), X.astype(np.float32),
                                 Y.astype(np.float32), sw.astype(np.float32), ref_grad)
    assert loss == pytest.approx(ref_loss, rel=1e-5)
    assert_allclose(grad, ref_grad, rtol=2e-3, atol=1e-5 * np.abs(ref_grad).max())


def test_fit_makes_no_copy_of_contiguous_data():
    rs = np.random.RandomState(0)
    X = rs.normal(size=(20000, 100)).astype(np.float32)
    y = rs.randint(3, size=20000)
    est = MLPClassifier(hidden_layer_sizes=(16,), max_iter=1, random_state=0, backend="cpu")
    est.fit(X[:500], y[:500])             # compile outside the measurement
    tracemalloc.start()
    try:
        est.fit(X, y)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 0.25 * X.nbytes, f"peak {peak / 1e6:.1f} MB for X of {X.nbytes / 1e6:.1f} MB"


def test_pickled_model_predicts_in_fresh_process_without_numba(digits, tmp_path):
    X, y = digits
    est = MLPClassifier(hidden_layer_sizes=(20,), max_iter=5, random_state=0,
                        backend="cpu").fit(X, y)
    (tmp_path / "model.pkl").write_bytes(pickle.dumps(est))
    np.save(tmp_path / "X.npy", X)
    code = (
        "import pickle, sys, numpy as np\n"
        f"est = pickle.loads(open({str(tmp_path / 'model.pkl')!r}, 'rb').read())\n"
        f"np.save({str(tmp_path / 'p.npy')!r}, est.predict_proba(np.load({str(tmp_path / 'X.npy')!r})))\n"
        "print('numba' in sys.modules)\n"
    )
    out = run_python(code, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
    assert_allclose(np.load(tmp_path / "p.npy"), est.predict_proba(X), rtol=0, atol=0)


def test_single_row_fast_path_keeps_checks(digits):
    X, y = digits
    est = MLPClassifier(hidden_layer_sizes=(20,), max_iter=5, random_state=0).fit(X, y)
    row = X[:1].copy()
    assert_allclose(est.predict_proba(row), est.predict_proba(X)[:1], rtol=1e-12)
    for bad, error in ((np.full_like(row, np.nan), "NaN"), (row[:, :10], "features"),
                       (np.asfortranarray(np.vstack([row, row]))[:, :5], "features")):
        with pytest.raises(ValueError, match=error):
            est.predict_proba(bad)


def test_adams_rate_has_one_definition():
    # The loops run the optimizer module's own formula, jitted: the
    # bias-corrected rate is written once for every engine.
    from fastmlp import _optimizers
    from fastmlp.engines import _cpu_loops

    assert _cpu_loops._step_rate.py_func is _optimizers.step_rate
    adam = _optimizers.Adam(1, np.float64, 1e-3, 0.9, 0.999, 1e-8)
    code, rate, _, _, hyper, _ = adam.kernel_state()
    for t in (1, 2, 17, 10_000):
        assert _cpu_loops._step_rate(code, rate, hyper, t) == adam.corrected_rate(t)


@pytest.mark.parametrize("solver", list(OPTIMIZERS))
def test_optimizers_hand_the_loops_their_own_state(solver):
    # The engine takes one tuple from any optimizer and hands its step count
    # back; it never asks which optimizer it is.
    est = MLPClassifier(solver=solver, hidden_layer_sizes=(4,), max_iter=1, random_state=0)
    X = np.random.RandomState(0).normal(size=(50, 3))
    est.partial_fit(X, X[:, 0] > 0, classes=[False, True])
    opt = est._optimizer
    code, _, state_a, state_b, hyper, t = opt.kernel_state()
    assert code == OPTIMIZERS[solver].code
    assert (state_a, state_b) == opt.state_arrays()
    assert np.any(state_a != 0) and hyper.dtype == np.float64
    assert t == opt.t == 1          # one minibatch of 50 rows
    opt.steps_taken(7)
    assert opt.t == 7
