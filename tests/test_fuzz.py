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
from dataclasses import dataclass
from typing import Callable

import numpy as np
import pytest
from hypothesis import HealthCheck, given, seed, settings

from _fuzz import Case, Outcome, cases, run_case
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


FLOAT32_ARITHMETIC = ("A float32 model trains in float32 arithmetic throughout; "
                      "scikit-learn computes its deltas and gradients in float64")


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


def _float32_overflow(case, sk, ours):
    """fastmlp's float32 arithmetic overflowed where scikit-learn's float64
    gradients did not: non-finite weights, or non-finite outputs."""
    if ours.error is not None:
        return ours.error == "ValueError" and "non-finite" in ours.message \
            and _model_float32_at(case, ours.step)
    return _model_float32_at(case, len(case.calls) - 1)


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
               "raises scikit-learn's ValueError at the epoch where that happens",
        kind="outcome",
        applies=lambda case, sk, ours: (
            sk.error is not None and ours.error == "ValueError"
            and "non-finite" in ours.message and sk.step >= ours.step),
    ),
    IntendedDifference(
        readme=FLOAT32_ARITHMETIC, kind="outcome",
        applies=lambda case, sk, ours: sk.error is None and _float32_overflow(case, sk, ours),
    ),
    IntendedDifference(
        readme=FLOAT32_ARITHMETIC, kind="non_finite",
        applies=lambda case, sk, ours: _float32_overflow(case, sk, ours),
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
               "classifier; scikit-learn's regressor exposes one.",
        kind="outcome",
        applies=lambda case, sk, ours: (
            not case.classifier and case.params["solver"] == "lbfgs"
            and ours.error == "AttributeError"
            and _raised_in(case, ours, "partial_fit")),
    ),
)


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
