"""Fuzz: random data, hyperparameters and call patterns, on scikit-learn and
on every engine.

Each example (drawn by ``_fuzz.cases``: 1-200 rows, 1-50 features, float64 /
float32 / int / float16 input, C- or F-ordered, strided or CSR, value scales
1e-8 to 1e6 with offsets, int / str / bool / multilabel labels or 1-3
regression outputs, sample weights, every solver, schedule and stopping
option, and fit / warm refit / partial_fit sequences) runs on scikit-learn
and on each engine, and each engine must

- end the same way as scikit-learn: a fit, or the same exception type in the
  same call;
- give no non-finite prediction, probability or loss where scikit-learn's
  is finite;
- end with coefs_ of scikit-learn's dtype;
- leave its inputs unmodified;
- on the numpy engine in float64: give scikit-learn's n_iter_, its
  loss_curve_ within rtol 1e-7 and its predictions (predict_proba, or predict for a regressor)
  within 1e-7 of their scale (the cpu engine's deviations are recorded by
  the survey only);

except for the README's intended differences, listed in
``INTENDED_DIFFERENCES``.

Environment variables:

FASTMLP_FUZZ_EXAMPLES  number of examples (default 2500: under 2 minutes on
                       the 2-core development machine)
FASTMLP_FUZZ_SEED      draw other examples than the fixed default ones
                       (the default run is derandomized, without database)
FASTMLP_FUZZ_SURVEY    path of a JSON-lines file: every example and what each
                       engine did is appended there, and discrepancies are
                       recorded instead of failing the test (for long runs
                       that collect every kind of discrepancy).
"""

import json
import os
from pathlib import Path
from dataclasses import dataclass, replace
from typing import Callable

import numpy as np
import pytest
from hypothesis import HealthCheck, given, seed, settings

from _fuzz import Case, Outcome, build_case, cases, run_case
from conftest import available_backends

ENGINES = available_backends()
N_EXAMPLES = int(os.environ.get("FASTMLP_FUZZ_EXAMPLES", "2500"))
SEED = os.environ.get("FASTMLP_FUZZ_SEED")
SURVEY = os.environ.get("FASTMLP_FUZZ_SURVEY")
LOSS_CURVE_RTOL = 1e-7
# Same weights, but predictions run through the Cython kernels: observed
# within 1e-14 of the outputs' scale.
OUTPUT_RTOL = 1e-7


# ------------------------------------------------- differences on purpose


@dataclass(frozen=True)
class IntendedDifference:
    """A README entry, and which discrepancies it accounts for."""

    readme: str     # the entry, as the README words it
    kind: str       # the kind of discrepancy it accounts for (see below)
    applies: Callable[[Case, Outcome, Outcome], bool]   # (case, sklearn, ours)


def _raised_in(case, ours, method):
    return ours.error is not None and ours.step < len(case.calls) \
        and case.calls[ours.step].method == method


LBFGS_FLOAT32 = ('solver="lbfgs" on float32 data keeps a float32 model; '
                 "scikit-learn's ends with float64 weights.")


def _lbfgs_float32(case, sk, ours):
    return case.params["solver"] == "lbfgs" and case.calls[-1].float32 \
        and ours.coef_dtype == "float32" and sk.coef_dtype == "float64"


def _beyond_float32(theirs, mine):
    """Whether ``mine`` is non-finite only where ``theirs`` is past float32."""
    bad = ~np.isfinite(mine)
    return bool(np.all(np.abs(theirs[bad]) > np.finfo(np.float32).max))


FLOAT32_ARITHMETIC = ("A float32 model trains in float32 arithmetic throughout, twice as fast. "
                      "scikit-learn keeps float32 weights but computes its deltas and "
                      "gradients in float64")


def _finite_fields(outcome):
    return tuple(_finite(None if (v := getattr(outcome, name)) is None else np.asarray(v))
                 for name in ("predict", "proba", "loss", "loss_curve"))


def _ends_alike(a, b):
    """The same exception in the same call, or fits that are non-finite in
    the same places."""
    if (a.error, a.step) != (b.error, b.step):
        return False
    return a.error is not None or _finite_fields(a) == _finite_fields(b)


def _overflowed(outcome):
    """Ended on non-finite numbers: scikit-learn's non-finite-weights
    ValueError, or a fit with a non-finite output or loss."""
    if outcome.error is not None:
        return outcome.error == "ValueError" and "non-finite" in outcome.message
    return not all(_finite_fields(outcome))


def _in_float64(case):
    """``case`` with its float32 calls cast to float64."""
    def cast(a):
        return a if a is None or a.dtype != np.float32 else a.astype(np.float64)
    return Case(case.spec, [replace(call, X=cast(call.X), sample_weight=cast(call.sample_weight))
                            for call in case.calls])


def _replayed_in_float64(case, backend):
    """run_case of ``case`` in float64 on ``backend`` (once per case)."""
    cache = case.__dict__.setdefault("_float64_outcomes", {})
    if backend not in cache:
        cache[backend] = run_case(_in_float64(case), _in_float64(case).estimator(backend))
    return cache[backend]


def _model_float32_at(case, step):
    """Whether the model trains in float32 during call ``step``: a fresh fit
    (and every lbfgs fit) takes the call's dtype, a warm or incremental
    sgd/adam fit keeps the model's."""
    float32 = False
    for i, call in enumerate(case.calls[:step + 1]):
        fresh = i == 0 or (call.method == "fit" and not case.params.get("warm_start"))
        if fresh or case.params["solver"] == "lbfgs":
            float32 = call.float32
    return float32


def _float32_precision(case, sk, ours):
    """The two ended differently because of float32 arithmetic: a float32
    model, a side that ended on non-finite numbers, and the difference goes
    away when that side runs the same case in float64 (fastmlp's float32
    overflowing where scikit-learn's float64 deltas did not, or
    scikit-learn's float32 loss overflowing where fastmlp's float64 loss
    did not), or, where both overflowed, when both do."""
    step = len(case.calls) - 1 if ours.error is None else ours.step
    if not _model_float32_at(case, min(step, len(case.calls) - 1)):
        return False
    if _overflowed(ours) and _ends_alike(_replayed_in_float64(case, ours.backend), sk):
        return True
    if _overflowed(sk) and _ends_alike(_replayed_in_float64(case, "sklearn"), ours):
        return True
    # Both overflowed float32, each its own way, and agree in float64.
    return (_overflowed(sk) and _overflowed(ours)
            and _ends_alike(_replayed_in_float64(case, ours.backend),
                            _replayed_in_float64(case, "sklearn")))


# README, "Where it differs from scikit-learn, on purpose". The entry about
# verbose lbfgs printing needs nothing here: run_case captures stdout and
# never compares it.
INTENDED_DIFFERENCES = (
    IntendedDifference(
        readme=LBFGS_FLOAT32,
        kind="coefs_dtype",
        applies=lambda case, sk, ours: _lbfgs_float32(case, sk, ours),
    ),
    # The same entry: that float32 model's predictions overflow to inf where
    # scikit-learn's float64 ones are finite but beyond float32's range
    # (an exp output, or large identity outputs).
    IntendedDifference(
        readme=LBFGS_FLOAT32,
        kind="non_finite",
        applies=lambda case, sk, ours: (
            not case.classifier and _lbfgs_float32(case, sk, ours)
            and _beyond_float32(sk.predict, ours.predict)),
    ),
    # Non-finite weights end the fit at once, so an error that scikit-learn,
    # training on with NaN weights, meets later (a zero-weight minibatch in
    # a later epoch) never comes.
    IntendedDifference(
        readme="Without early stopping, a fit whose weights stop being finite "
               "raises scikit-learn's ValueError",
        kind="outcome",
        applies=lambda case, sk, ours: (
            sk.error is not None and ours.error == "ValueError"
            and "non-finite" in ours.message and sk.step >= ours.step),
    ),
    IntendedDifference(
        readme=FLOAT32_ARITHMETIC, kind="outcome",
        applies=_float32_precision,
    ),
    IntendedDifference(
        readme=FLOAT32_ARITHMETIC, kind="non_finite",
        applies=_float32_precision,
    ),
    IntendedDifference(
        readme='loss="poisson" rejects negative targets with a ValueError; '
               "scikit-learn trains on them and returns NaN losses.",
        kind="outcome",
        applies=lambda case, sk, ours: (
            case.params.get("loss") == "poisson" and ours.error == "ValueError"
            and ours.step < len(case.calls)
            and np.any(case.calls[ours.step].y < 0)),
    ),
    IntendedDifference(
        readme='MLPRegressor(solver="lbfgs") has no partial_fit, like the '
               "classifier; scikit-learn's regressor exposes one",
        kind="outcome",
        applies=lambda case, sk, ours: (
            not case.classifier and case.params["solver"] == "lbfgs"
            and ours.error == "AttributeError"
            and _raised_in(case, ours, "partial_fit")),
    ),
)


def test_every_intended_difference_is_in_the_readme():
    readme = (Path(__file__).parents[1] / "README.md").read_text()
    section = readme.split("## Where it differs from scikit-learn, on purpose")[1]
    section = " ".join(section.split("\n## ")[0].replace("`", "").split())
    for difference in INTENDED_DIFFERENCES:
        assert difference.readme in section, difference.readme


def intended(case, sk, ours, kind):
    """The README entry that accounts for this discrepancy, or None."""
    for difference in INTENDED_DIFFERENCES:
        if difference.kind == kind and difference.applies(case, sk, ours):
            return difference.readme
    return None


# ---------------------------------------------------------- the assertions


def _finite(values):
    return values is None or not np.issubdtype(values.dtype, np.floating) \
        or bool(np.isfinite(values).all())


def loss_curve_deviation(sk, ours):
    """Largest relative difference of the two loss curves (inf: lengths)."""
    if sk.loss_curve is None or ours.loss_curve is None:
        return None
    if len(sk.loss_curve) != len(ours.loss_curve):
        return float("inf")
    theirs, mine = sk.loss_curve, ours.loss_curve
    # Equal values (the same inf, or NaN in both) count as no deviation.
    same = (mine == theirs) | (np.isnan(mine) & np.isnan(theirs))
    scale = np.maximum(np.abs(theirs), np.finfo(np.float64).tiny)
    with np.errstate(invalid="ignore"):
        relative = np.where(same, 0.0, np.abs(mine - theirs) / scale)
    return float(np.max(relative, initial=0))


def output_deviation(sk, ours):
    """Largest difference of the two models' outputs (predict_proba, or
    predict for a regressor), relative to the largest of scikit-learn's."""
    theirs = sk.proba if sk.proba is not None else sk.predict
    mine = ours.proba if ours.proba is not None else ours.predict
    if theirs is None or mine is None or not _finite(theirs) or not _finite(mine):
        return None
    scale = max(float(np.max(np.abs(theirs), initial=0)), np.finfo(np.float64).tiny)
    return float(np.max(np.abs(mine - theirs), initial=0)) / scale


def _reference_fidelity(sk, ours):
    """The numpy engine in float64 follows scikit-learn's arithmetic: the
    same loss curve, hence (near enough) the same model."""
    found = []
    if sk.n_iter != ours.n_iter:
        found.append(("n_iter", f"n_iter_ {ours.n_iter}, scikit-learn's {sk.n_iter}"))
    deviation = loss_curve_deviation(sk, ours)
    if deviation is not None and not deviation <= LOSS_CURVE_RTOL:
        found.append(("loss_curve", f"relative deviation {deviation:.3g} > "
                                    f"{LOSS_CURVE_RTOL} (n_iter_ {sk.n_iter} vs "
                                    f"{ours.n_iter})"))
    deviation = output_deviation(sk, ours)
    if deviation is not None and not deviation <= OUTPUT_RTOL:
        found.append(("outputs", f"predictions differ by {deviation:.3g} of their "
                                 f"scale (> {OUTPUT_RTOL})"))
    return found


def discrepancies(case, sk, ours, engine):
    """[(kind, detail)]: where ``ours`` (on ``engine``) breaks from ``sk``,
    intended differences excluded."""
    found = []
    if ours.inputs_modified:
        found.append(("inputs_modified", "fastmlp modified its input arrays"))
    if (sk.error, sk.step) != (ours.error, ours.step):
        found.append(("outcome", f"scikit-learn: {sk.describe(case)} ({sk.message!r}); "
                                 f"fastmlp: {ours.describe(case)} ({ours.message!r})"))
    elif sk.error is None:
        for name in ("predict", "proba", "loss", "loss_curve"):
            theirs, mine = getattr(sk, name), getattr(ours, name)
            if name == "loss":
                theirs, mine = np.float64(theirs), np.float64(mine)
            if _finite(theirs) and not _finite(mine):
                found.append(("non_finite", f"{name}: scikit-learn's is finite, "
                                            f"fastmlp's is not"))
        if sk.coef_dtype != ours.coef_dtype:
            found.append(("coefs_dtype", f"scikit-learn: {sk.coef_dtype}, "
                                         f"fastmlp: {ours.coef_dtype}"))
        if engine == "numpy" and not any(call.float32 for call in case.calls):
            found += _reference_fidelity(sk, ours)
    return [(kind, detail) for kind, detail in found
            if intended(case, sk, ours, kind) is None]


def _survey(case, sk, results):
    record = dict(
        spec=case.spec,
        sklearn=dict(outcome=sk.describe(case), message=sk.message,
                     n_iter=sk.n_iter, loss=sk.loss, coef_dtype=sk.coef_dtype),
        engines={
            engine: dict(
                outcome=ours.describe(case), message=ours.message,
                n_iter=ours.n_iter, loss=ours.loss, coef_dtype=ours.coef_dtype,
                loss_curve_deviation=loss_curve_deviation(sk, ours),
                output_deviation=output_deviation(sk, ours),
                same_predictions=(None if sk.predict is None or ours.predict is None
                                  else bool(np.array_equal(sk.predict, ours.predict))),
                intended=sorted({
                    readme for kind in ("outcome", "coefs_dtype", "non_finite")
                    if (readme := intended(case, sk, ours, kind))}),
                discrepancies=found,
            )
            for engine, (ours, found) in results.items()
        },
    )
    with open(SURVEY, "a") as f:
        f.write(json.dumps(record, default=str) + "\n")


_settings = settings(
    max_examples=N_EXAMPLES,
    deadline=None,
    derandomize=SEED is None,
    database=None,
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


def compare(case):
    """scikit-learn's outcome, and {engine: (outcome, discrepancies)}.

    A failing example prints as ``build_case({...})``; in tests/,
    ``compare(_fuzz.build_case({...}))`` replays it.
    """
    sk = run_case(case, case.estimator("sklearn"))
    results = {}
    for engine in ENGINES:
        ours = run_case(case, case.estimator(engine))
        results[engine] = (ours, discrepancies(case, sk, ours, engine))
    return sk, results


@pytest.mark.slow
@_settings
@given(case=cases())
def test_engines_end_like_sklearn(case):
    sk, results = compare(case)
    if SURVEY:
        _survey(case, sk, results)
        return
    failures = [f"[{engine}] {kind}: {detail}"
                for engine, (_, found) in results.items() for kind, detail in found]
    assert not failures, "\n".join(failures)


if SEED is not None:
    test_engines_end_like_sklearn = seed(int(SEED))(test_engines_end_like_sklearn)


# ------------------------------------------- the float32 rule, on real cases

def _spec(target, params, **data):
    base = dict(
        hidden_layer_sizes=[5], activation="relu", solver="sgd", alpha=0.0,
        batch_size="auto", learning_rate="constant", learning_rate_init=0.14,
        power_t=0.5, max_iter=5, shuffle=True, random_state=1123, tol=1e-4,
        verbose=False, momentum=0.25, nesterovs_momentum=False, early_stopping=False,
        validation_fraction=0.42, beta_1=0.9, beta_2=0.5, epsilon=4e-6,
        n_iter_no_change=3, max_fun=11, warm_start=True)
    return dict(target=target, **data, params={**base, **params})


# Found with FASTMLP_FUZZ_SEED=13. scikit-learn's float32 L2 sum of weights
# near 1e23 overflows, its loss becomes 0 * inf = NaN with finite weights,
# and a NaN loss resets its stopping counter: it trains on into non-finite
# weights and raises, where fastmlp's float64 loss stops the fit in time.
SKLEARN_FLOAT32_LOSS_OVERFLOWS = _spec(
    "multilabel", {}, n_labels=2, n_features=3, x_scale_exp=5.407227148202203,
    col_spread=3.0, x_offset=0.0, layout="view", y_column=False, weights="random",
    pattern="warm_refit", seed=35444,
    calls=[{"method": "fit", "rows": 16, "dtype": "float32", "same_data": False},
           {"method": "fit", "rows": 16, "dtype": "float32", "same_data": True}])

# The same at a larger rate: fastmlp's float32 forward pass overflows too
# (NaN probabilities), and the two agree once both run in float64.
BOTH_FLOAT32_OVERFLOW = {**SKLEARN_FLOAT32_LOSS_OVERFLOWS, "params": {
    **SKLEARN_FLOAT32_LOSS_OVERFLOWS["params"], "learning_rate_init": 1.0,
    "shuffle": False}}

# Also from seed 13: fastmlp's float32 deltas of an exp output overflow
# where scikit-learn's are float64 (its targets are), and the loss curve
# turns NaN where scikit-learn's stays finite.
FASTMLP_FLOAT32_DELTAS_OVERFLOW = _spec(
    "regression",
    dict(hidden_layer_sizes=[1, 3, 3], activation="identity", solver="adam",
         alpha=1e-6, batch_size=34, learning_rate="invscaling",
         learning_rate_init=0.2595100407842582, power_t=0.2806800669144032,
         max_iter=19, shuffle=False, random_state=65536, tol=0.01,
         early_stopping=True, validation_fraction=0.4088267504052367,
         beta_1=0.9882088063876606, beta_2=0.07257910544291903,
         epsilon=2.6983233948402038e-09, n_iter_no_change=4, max_fun=18,
         loss="poisson"),
    n_outputs=2, y_scale_exp=-1.2924265255879543, y_offset=-1e6,
    negative_targets=False, n_features=8, x_scale_exp=-5.01947890806796,
    col_spread=1.0, x_offset=1.0, layout="C", y_column=False, weights="random",
    pattern="warm_refit", seed=598,
    calls=[{"method": "fit", "rows": 26, "dtype": "float32", "same_data": False},
           {"method": "fit", "rows": 40, "dtype": "float32", "same_data": False}])


@pytest.mark.parametrize(("spec", "kind"), [
    (SKLEARN_FLOAT32_LOSS_OVERFLOWS, "outcome"),
    (FASTMLP_FLOAT32_DELTAS_OVERFLOW, "non_finite"),
    (BOTH_FLOAT32_OVERFLOW, "outcome"),
])
def test_float32_differences_are_excused_only_with_float64_evidence(spec, kind):
    case = build_case(spec)
    sk = run_case(case, case.estimator("sklearn"))
    ours = run_case(case, case.estimator("numpy"))
    assert not _ends_alike(sk, ours)
    assert discrepancies(case, sk, ours, "numpy") == []
    assert intended(case, sk, ours, kind) == FLOAT32_ARITHMETIC
    # The same outcomes on the case in float64 are no float32 matter.
    assert not _float32_precision(_in_float64(case), sk, ours)
    # Nor is a float32 failure that is no overflow.
    other = Outcome(error="TypeError", step=0, message="unsupported", backend="numpy")
    assert not _float32_precision(case, sk, other)
