"""Shared by the benchmarks: quiet short fits, rounds, and how rows are shown.

    pytest --benchmark-only                                 # from the root
    pytest bench/ --benchmark-only                          # the same
    FASTMLP_BENCH_QUICK=1 pytest --benchmark-only           # smaller sizes

The harness behind them is fastmlp._bench (also ``python -m fastmlp bench``,
which prints every suite as one table).

Design: pytest-benchmark shows, per group, the statistics of each row's
rounds. Every row here is put in the group of its suite and case, named with
what one timed unit is (an epoch, a step, a call); its rounds hold the
harness's own figure per unit; and since the table takes no columns of its own
(``--benchmark-columns`` accepts only the statistics), a row's name carries its
model and its speed-ups over scikit-learn and over the pure-NumPy engine,
which ``extra_info`` also holds.
"""

import math
import warnings

import pytest
from sklearn.exceptions import ConvergenceWarning

from fastmlp import _bench


@pytest.fixture(autouse=True)
def _quiet():
    # Benchmarks run a fixed number of epochs on purpose.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        yield


# Whether a row was recorded with rounds to show: the legend is printed then.
_SHOWN = pytest.StashKey[bool]()


@pytest.fixture(scope="session")
def _rows():
    """``{(suite, case): {model: extra_info}}`` of the rows recorded so far."""
    return {}


@pytest.fixture
def record(request, benchmark, _rows):
    """Put a row in its group and its figures into ``benchmark.extra_info``.

    ``record(suite, case, model, per, seconds=None, **figures)``: the row is
    shown in the group "<suite> <case>, time per <per>"; ``seconds`` (per
    unit; default: the fastest of the benchmark's rounds) goes into
    ``extra_info`` with ``vs_sklearn`` and ``vs_numpy``, the times of
    scikit-learn's and the numpy engine's rows of the same case over this
    one, once those rows are recorded in the session (each record brings its
    case's earlier rows up to date: ``extra_info`` is what the table and the
    JSON read at the end). Figures that are None are left out. Returns
    ``seconds``.
    """

    def record(suite, case, model, per, seconds=None, **figures):
        stats = benchmark.stats  # None under --benchmark-disable
        if seconds is None:
            seconds = float(stats.stats.min) if stats else math.nan
        benchmark.group = f"{suite} {case}, time per {per}"
        if stats:
            # The rounds took the fixture's group when they began.
            stats.group = benchmark.group
            request.config.stash[_SHOWN] = True
        info = benchmark.extra_info
        info.update({"suite": suite, "case": case, "model": model, "per": per,
                     "seconds": seconds,
                     **{k: v for k, v in figures.items() if v is not None}})
        rows = _rows.setdefault((suite, case), {})
        rows[model] = info
        times = {name: row["seconds"] for name, row in rows.items()}
        for row in rows.values():
            row.update((key, value) for key, value
                       in _bench.speedups(row["seconds"], times).items()
                       if value is not None)
        return seconds

    return record


@pytest.fixture
def time_rounds(benchmark):
    """Time rounds under pytest-benchmark, keeping the harness's figures.

    ``time_rounds(measure, rounds, per=1)``: pytest-benchmark runs
    ``measure()`` ``rounds`` times; each call returns the seconds of its round
    as the harness measures them (a timed fit; a child process's own clock,
    without the process's start), and those, divided by ``per`` (the epochs
    or steps a round runs), become the benchmark's rounds, as pytest-benchmark
    divides a round by its iterations. Returns them.
    """

    def time_rounds(measure, rounds, per=1):
        seconds = []
        benchmark.pedantic(lambda: seconds.append(measure()), rounds=rounds,
                           iterations=1)
        per_unit = [s / per for s in seconds]
        if benchmark.stats:
            benchmark.stats.iterations = per
            benchmark.stats.stats.data[:] = per_unit
        return per_unit

    return time_rounds


@pytest.fixture
def time_training(record, time_rounds):
    """Time one model's training on one case and record it.

    ``time_training(suite, case, model, data, hidden, batch_size, dtype,
    epochs, rounds, per_step=False, options=None, references=True,
    name=None)``: a warm-up fit (JIT compilation untimed), the GEMM floor and
    peak measured just before the timing (same machine load) unless not
    ``references``, ``rounds`` timed fits, then one record in seconds per
    epoch, or per minibatch step when ``per_step``, as the row ``name``
    (default: ``model``). ``options``: fastmlp parameters beyond
    scikit-learn's.
    """

    def time_training(suite, case, model, data, hidden, batch_size, dtype,
                      epochs, rounds, per_step=False, options=None,
                      references=True, name=None):
        X, y, X_test, y_test = data
        _bench.warm_up(model, X, y, hidden, batch_size, options)
        figures = _bench.epoch_references(
            X.shape[0], _bench.classifier_layer_units(X, y, hidden), batch_size,
            dtype) if references else {}
        fits = []

        def fit():
            fits.append(_bench.timed_fit(model, X, y, hidden, batch_size, epochs,
                                         options))
            return fits[-1][0]

        steps = -(-X.shape[0] // batch_size)
        time_rounds(fit, rounds, per=epochs * steps if per_step else epochs)
        seconds, estimator = min(fits, key=lambda fit: fit[0])
        epoch = seconds / epochs
        if references:
            figures.update(floor_ratio=epoch / figures["floor_seconds"],
                           roofline_ratio=epoch / figures["roofline_seconds"])
        record(
            suite, case, name or model, "step" if per_step else "epoch",
            epoch / steps if per_step else epoch,
            accuracy=float(estimator.score(X_test, y_test)),
            n_samples=X.shape[0], epochs=epochs, options=options, **figures,
        )

    return time_training


@pytest.hookimpl(wrapper=True)
def pytest_benchmark_group_stats(config, benchmarks, group_by):
    """Name each recorded row by its model (and its case, in a group of
    several cases) and by those speed-ups that its group has, aligned."""
    groups = yield
    for _, rows in groups:
        recorded = [row for row in rows if "model" in row["extra_info"]]
        if not recorded:
            continue
        infos = [row["extra_info"] for row in recorded]
        several = len({info["case"] for info in infos}) > 1
        labels = [(f"{info['case']}  " if several else "") + info["model"]
                  for info in infos]
        width = max(map(len, labels))
        keys = [key for key, _ in _bench.BASELINES
                if any(key in info for info in infos)]
        for row, info, label in zip(recorded, infos, labels):
            row["name"] = f"{label:<{width}}" + "".join(
                f"  {_times(info.get(key)):>7} {key.replace('_', ' ')}"
                for key in keys)
    return groups


def _times(value):
    return "-" if value is None else f"{value:.2f}x"


@pytest.hookimpl(trylast=True)
def pytest_terminal_summary(terminalreporter, config):
    """A legend for the speed-ups in the row names, after pytest-benchmark's."""
    if config.stash.get(_SHOWN, False):
        terminalreporter.write_line(
            "  x vs sklearn, x vs numpy: the time of scikit-learn's row and of "
            "the pure-NumPy engine's (fastmlp[numpy]) in the same case over "
            "the row's (higher is faster; - where that row did not run); "
            "x vs cpu, x vs torch bf16: the same against fastmlp[cpu] and "
            "PyTorch under bfloat16 autocast.")
        terminalreporter.write_line("  " + _bench.cpu_description())
