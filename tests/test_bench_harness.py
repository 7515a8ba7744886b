"""The benchmark harness (fastmlp._bench) on tiny data: structure and sanity.

Timings are never asserted; only that the harness measures, computes and
formats what it says it does.
"""

import json
import math
import os
import re
import subprocess
import sys
from importlib import metadata
from pathlib import Path

import numpy as np
import pytest
from sklearn.datasets import make_classification

import fastmlp
from fastmlp import _bench
from fastmlp.__main__ import main

PEAK_SIZE = 256  # the 2048^3 peak is too slow for a unit test
ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "bench"


@pytest.fixture(scope="module")
def tiny():
    X, y = make_classification(n_samples=700, n_features=20, n_informative=6,
                               n_redundant=0, n_classes=3, random_state=0)
    X = X.astype(np.float32)
    return X[:500], y[:500], X[500:], y[500:]


def test_gemm_work_by_hand():
    # 20 -> 7 -> 3 on 500 rows: the first layer twice (forward, weight
    # gradient), the second three times (plus the input gradient).
    expected = 2 * (2 * 500 * 20 * 7) + 3 * (2 * 500 * 7 * 3)
    assert expected == 343_000
    assert _bench.gemm_work(500, (20, 7, 3)) == expected
    assert _bench.forward_work(500, (20, 7, 3)) == 2 * 500 * (20 * 7 + 7 * 3)
    # DESIGN.md's figures: 19 and 98 GFLOP per MNIST-shaped epoch.
    assert round(_bench.gemm_work(60000, (784, 100, 10)) / 1e9) == 19
    assert round(_bench.gemm_work(60000, (784, 512, 10)) / 1e9) == 98


def test_floor_gemms_are_the_training_gemms():
    # 500 rows in batches of 200: two full minibatches and one of 100, each
    # with 2 forward, 2 weight-gradient and 1 input-gradient GEMMs.
    calls = _bench._training_gemms(500, (20, 7, 3), 200, np.dtype(np.float32))
    assert len(calls) == 3 * 5
    flops = 0
    for a, b, out in calls:
        assert a.shape[1] == b.shape[0]
        assert out.shape == (a.shape[0], b.shape[1])
        assert a.dtype == b.dtype == out.dtype == np.float32
        flops += 2 * a.shape[0] * a.shape[1] * b.shape[1]
    assert flops == _bench.gemm_work(500, (20, 7, 3))
    forward = _bench._training_gemms(500, (20, 7, 3), 500, np.dtype(np.float64),
                                     forward_only=True)
    assert [(a.shape, b.shape) for a, b, _ in forward] == [
        ((500, 20), (20, 7)), ((500, 7), (7, 3))]


def test_models_are_discovered_from_the_engines():
    models = _bench.available_models(torch=False)
    assert models[0] == "sklearn"
    assert "fastmlp[numpy]" in models
    assert [m[len("fastmlp["):-1] for m in models[1:]] == _bench.engine_names()


def _finite_positive(value):
    return value is not None and math.isfinite(value) and value > 0


def test_training_case_rows_and_table(tiny):
    X, y, X_test, y_test = tiny
    models = _bench.available_models(torch=False)
    rows = _bench.bench_training_case(
        "tiny", X, y, X_test, y_test, (7,), 50, epochs=2, models=models,
        peak_size=PEAK_SIZE)
    assert [row["model"] for row in rows] == models
    for row in rows:
        assert row["layer_units"] == (20, 7, 3)
        assert row["gemm_work"] == _bench.gemm_work(500, (20, 7, 3))
        assert row["steps_per_epoch"] == 10
        for key in ("seconds", "seconds_per_epoch", "vs_sklearn", "floor_ratio",
                    "roofline_ratio", "floor_seconds", "roofline_seconds",
                    "peak_flops"):
            assert _finite_positive(row[key]), key
        assert row["roofline_seconds"] == pytest.approx(
            row["gemm_work"] / row["peak_flops"])
        assert 0 <= row["accuracy"] <= 1
        assert row["heap_mb"] >= 0
        assert row["rss_mb"] is None or row["rss_mb"] >= 0
    assert rows[0]["vs_sklearn"] == 1.0
    assert models[1] == "fastmlp[numpy]" and rows[1]["vs_numpy"] == 1.0
    for row in rows:
        assert row["vs_numpy"] == pytest.approx(rows[1]["seconds"] / row["seconds"])

    table = _bench.format_table(rows).splitlines()
    assert table[0].split()[:3] == ["suite", "case", "model"]
    assert "vs numpy" in table[0]
    # The machine next to the table: the CPU and its extensions.
    cpu = [line for line in table if line.startswith("CPU: ")]
    assert cpu == [_bench.cpu_description()]
    assert "extensions: " in cpu[0] and "bfloat16 GEMMs: " in cpu[0]
    body = table[2:table.index("")]
    assert len(body) == len(models)
    for line, model in zip(body, models):
        assert line.split()[4] == model  # after "tiny h(7,) b50 float32"
        assert "s/epoch" in line


def test_inference_rows(tiny):
    models = ["sklearn", "fastmlp[numpy]"]
    rows = _bench.bench_inference(quick=True, models=models, n_train=300,
                                  n_test=200, peak_size=PEAK_SIZE)
    assert [(r["model"], r["case"].split()[0], r["unit"]) for r in rows] == [
        (m, case, unit) for m in models
        for case, unit in (("predict_proba", "ms/call"), ("predict_proba", "us/call"),
                           ("predict", "us/call"))]
    for row in rows:
        assert _finite_positive(row["seconds"])
    batch = [r for r in rows if r["unit"] == "ms/call"]
    assert all(_finite_positive(r["floor_ratio"]) for r in batch)
    assert len(_bench.format_table(rows).splitlines()[2:]) > len(rows)


def test_small_suite_rows(monkeypatch):
    fits = []
    real_fit = _bench.fit_quietly

    def counting_fit(estimator, X, y):
        fits.append(type(estimator).__module__.split(".")[0])
        return real_fit(estimator, X, y)

    monkeypatch.setattr(_bench.training, "fit_quietly", counting_fit)
    models = ["sklearn", "fastmlp[numpy]"]
    rows = _bench.bench_small(models=models + [_bench.TORCH], rounds=2,
                              datasets=("iris", "diabetes"), solvers=("lbfgs",))
    assert [(r["case"], r["model"]) for r in rows] == [
        (case, m) for case in ("iris lbfgs", "diabetes lbfgs") for m in models]
    # per case: one untimed fit per model, then two rounds of each
    assert fits == ["sklearn", "fastmlp"] * 3 * 2
    for row in rows:
        assert _finite_positive(row["seconds"]) and row["unit"] == "ms/fit"
        assert row["vs_sklearn"] == pytest.approx(
            next(r["seconds"] for r in rows
                 if r["case"] == row["case"] and r["model"] == "sklearn")
            / row["seconds"])
    accuracy = {r["case"]: r["accuracy"] for r in rows if r["model"] == "sklearn"}
    assert accuracy["iris lbfgs"] > 0.8 and np.isfinite(accuracy["diabetes lbfgs"])  # R^2
    assert "ms/fit" in _bench.format_table(rows)


def test_rss_rise_and_heap_peak():
    with _bench.RssRise() as rise:
        block = np.ones(1 << 20)  # 8 MB
    assert rise.mb is None or rise.mb >= 0
    assert _bench.heap_peak_mb(lambda: np.ones(1 << 20)) >= 7.9
    del block


def test_cli_rejects_an_unknown_suite(capsys):
    with pytest.raises(SystemExit):
        main(["bench", "--suite", "nope"])
    assert "invalid choice" in capsys.readouterr().err


def test_rounds_reach_only_the_training_suites(monkeypatch):
    seen = {}

    def recorder(name):
        def suite(**kwargs):
            seen[name] = kwargs
            return []
        return suite

    for name in _bench.SUITES:
        monkeypatch.setitem(_bench._SUITE_FUNCTIONS, name, recorder(name))
    _bench.run(_bench.SUITES, torch=False, rounds=4)
    assert {name for name in seen if seen[name].get("rounds") == 4} == {
        "mnist", "options", "tabular", "small", "digits", "threads"}
    assert all("rounds" not in seen[name] for name in ("inference", "startup"))
    seen.clear()
    _bench.run(["tabular"], torch=False)
    assert "rounds" not in seen["tabular"]  # the suite's own default


def test_rounds_take_the_best_fit(tiny, monkeypatch):
    X, y, X_test, y_test = tiny
    times = iter([0.5, 0.2, 0.9])

    class Fitted:
        def score(self, X, y):
            return 0.5

    monkeypatch.setattr(_bench.training, "timed_fit",
                        lambda *args: (next(times), Fitted()))
    result = _bench.time_training("sklearn", X, y, X_test, y_test, (7,), 50,
                                  epochs=2, rounds=3, memory=False, warm=False)
    assert result["seconds_per_epoch"] == pytest.approx(0.2 / 2)


def test_cli_rejects_zero_rounds(capsys):
    with pytest.raises(SystemExit):
        main(["bench", "--rounds", "0"])
    assert "--rounds must be at least 1" in capsys.readouterr().err


def test_options_suite_rows(monkeypatch):
    # Tiny MNIST-shaped data: one row per option after the two default rows,
    # each fitted with its option (the accuracy column is a real score).
    from fastmlp._bench import training

    X = np.random.RandomState(0).uniform(size=(300, 784)).astype(np.float32)
    y = np.arange(300) % 10
    monkeypatch.setattr(training, "mnist_data", lambda dtype, n_train, n_test: (
        X[:240], y[:240], X[240:], y[240:]))
    fitted = []
    original = training.timed_fit

    def recording(model, X, y, hidden, batch, epochs, options=None):
        seconds, estimator = original(model, X, y, hidden, batch, epochs, options)
        fitted.append((model, dict(options or {}), estimator.get_params()))
        return seconds, estimator

    monkeypatch.setattr(training, "timed_fit", recording)
    rows = _bench.bench_options(epochs=1, cases=(((8,), 64, "float32"),))
    labels = [row["model"] for row in rows]
    assert labels[:2] == ["sklearn", "fastmlp[cpu]"]
    assert labels[2:] == [f"cpu {label}" for label, _ in _bench.OPTIONS]
    for (_, options, params), row in zip(fitted[2:], rows[2:]):
        assert all(params[k] == v for k, v in options.items()) and options
        assert row["overhead"] == row["seconds"] / rows[1]["seconds"]
        assert row["vs_sklearn"] == rows[0]["seconds"] / row["seconds"]
    assert "cpu gelu" in _bench.format_table(rows)


def test_digits_suite_rows():
    models = ["sklearn", "fastmlp[numpy]"]
    rows = _bench.bench_digits(models=models + [_bench.TORCH], epochs=2, rounds=1,
                               cases=(((8,), 200, "float32"),))
    assert [(r["suite"], r["case"], r["model"]) for r in rows] == [
        ("digits", "h(8,) b200 float32", m) for m in models]
    for row in rows:
        assert _finite_positive(row["seconds"]) and row["unit"] == "ms/epoch"
        assert row["n_samples"] == 1797 and row["epochs"] == 2
    assert rows[0]["vs_sklearn"] == 1.0 and rows[1]["vs_numpy"] == 1.0
    assert rows[0]["vs_numpy"] == pytest.approx(rows[1]["seconds"] / rows[0]["seconds"])
    assert "ms/epoch" in _bench.format_table(rows)


def test_threads_suite_rows(monkeypatch):
    searches = []
    real = _bench.threads.make_grid_search

    def recording(n_jobs):
        searches.append(real(n_jobs))
        return searches[-1]

    monkeypatch.setattr(_bench.threads, "make_grid_search", recording)
    monkeypatch.setattr(_bench.threads, "THREADS_N_JOBS", (1,))
    rows = _bench.bench_threads(n_train=300, rounds=2)
    assert [(r["suite"], r["model"], r["unit"]) for r in rows] == [
        ("threads", "fastmlp n_jobs=1", "s/search")]
    assert rows[0]["case"] == "GridSearchCV 4 candidates x 3 folds"
    assert _finite_positive(rows[0]["seconds"]) and rows[0]["vs_sklearn"] is None
    assert [s.n_jobs for s in searches] == [1, 1]
    assert all(len(s.cv_results_["params"]) == 4 for s in searches)


def _bench_suites():
    """The suites bench/ has: one test_bench_<suite>.py each."""
    if not BENCH.is_dir():
        pytest.skip("no bench/ here (not a source tree)")
    return sorted(p.stem[len("test_bench_"):] for p in BENCH.glob("test_bench_*.py"))


def test_cli_offers_the_suites_of_bench(capsys):
    suites = _bench_suites()
    assert suites == sorted(_bench.SUITES) == sorted(_bench._SUITE_FUNCTIONS)
    with pytest.raises(SystemExit) as exit:
        main(["bench", "--help"])
    assert exit.value.code == 0
    listed = re.search(r"suites to run \(default: all\): ([\w,\s]+)",
                       capsys.readouterr().out)
    assert sorted(listed.group(1).replace(",", " ").split()) == suites


def test_cli_runs_any_suite_of_bench(monkeypatch):
    calls = []
    monkeypatch.setattr(_bench, "run_bench", lambda **kwargs: calls.append(kwargs))
    for suite in _bench_suites():
        assert main(["bench", "--suite", suite, "--quick"]) == 0
        assert calls[-1]["suites"] == [suite] and calls[-1]["quick"]
    main(["bench"])
    assert calls[-1]["suites"] == _bench.SUITES


def test_cli_version(capsys):
    with pytest.raises(SystemExit) as exit:
        main(["--version"])
    assert exit.value.code == 0
    assert capsys.readouterr().out.strip() == f"fastmlp {fastmlp.__version__}"
    try:
        assert metadata.version("fastmlp") == fastmlp.__version__
    except metadata.PackageNotFoundError:
        pass  # run from a source tree that is not installed


def _collect(*args):
    """The node ids that ``pytest --collect-only`` lists, run at the root."""
    if not (ROOT / "pyproject.toml").is_file() or not BENCH.is_dir():
        pytest.skip("not run from a source tree")
    env = {k: v for k, v in os.environ.items() if k != "PYTEST_ADDOPTS"}
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "--collect-only", "-q",
         "-p", "no:cacheprovider", *args],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert result.returncode in (0, 5), result.stdout + result.stderr
    return [line for line in result.stdout.splitlines() if "::" in line]


def test_benchmark_only_collects_the_benchmarks_from_the_root():
    ids = _collect("--benchmark-only")
    assert ids and all(i.startswith("bench/") for i in ids)
    assert sorted({i.split("::")[0] for i in ids}) == [
        f"bench/test_bench_{suite}.py" for suite in _bench_suites()]


def test_default_collection_leaves_the_benchmarks_out():
    tomllib = pytest.importorskip("tomllib")
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())
    assert config["tool"]["pytest"]["ini_options"]["testpaths"] == ["tests"]
    # Without --benchmark-only the testpaths stay what is collected (one file
    # of them here, to keep this cheap).
    this_file = "tests/test_bench_harness.py"
    ids = _collect("-o", f"testpaths={this_file}")
    assert ids and all(i.startswith(f"{this_file}::") for i in ids)
    # Paths given are what runs, with --benchmark-only too.
    ids = _collect("--benchmark-only", this_file)
    assert ids and all(i.startswith(f"{this_file}::") for i in ids)


_FAKE_SUITE = """
import pytest

SECONDS = {"sklearn": 0.4, "fastmlp[numpy]": 0.2, "fastmlp[cpu]": 0.1}


@pytest.mark.parametrize("model", list(SECONDS))
def test_fake_epoch(record, time_rounds, model):
    time_rounds(lambda: SECONDS[model], rounds=3, per=2)
    record("fake", "h(7,) b50 float32", model, "epoch")
"""


def test_bench_rows_show_their_group_unit_and_speedups(tmp_path):
    # bench/conftest.py over a suite whose rounds are given, not measured.
    if not (BENCH / "conftest.py").is_file():
        pytest.skip("no bench/ here (not a source tree)")
    (tmp_path / "conftest.py").write_text((BENCH / "conftest.py").read_text())
    (tmp_path / "test_bench_fake.py").write_text(_FAKE_SUITE)
    (tmp_path / "pytest.ini").write_text("[pytest]\n")
    report = tmp_path / "benchmarks.json"
    env = {k: v for k, v in os.environ.items() if k != "PYTEST_ADDOPTS"}
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "--benchmark-only", "-p", "no:cacheprovider",
         f"--benchmark-json={report}", str(tmp_path)],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300)
    out = result.stdout
    assert result.returncode == 0, out + result.stderr
    assert "benchmark 'fake h(7,) b50 float32, time per epoch': 3 tests" in out
    assert re.search(r"^fastmlp\[cpu\] +4\.00x vs sklearn +2\.00x vs numpy ", out, re.M)
    assert re.search(r"^fastmlp\[numpy\] +2\.00x vs sklearn +1\.00x vs numpy ",
                     out, re.M)
    # scikit-learn's row ran before the numpy engine's and still has its ratio
    assert re.search(r"^sklearn +1\.00x vs sklearn +0\.50x vs numpy ", out, re.M)
    assert "x vs sklearn, x vs numpy:" in out
    benchmarks = {b["extra_info"]["model"]: b
                  for b in json.loads(report.read_text())["benchmarks"]}
    for model, seconds in {"sklearn": 0.2, "fastmlp[numpy]": 0.1,
                           "fastmlp[cpu]": 0.05}.items():
        bench = benchmarks[model]
        assert bench["group"] == "fake h(7,) b50 float32, time per epoch"
        assert bench["stats"]["iterations"] == 2 and bench["stats"]["rounds"] == 3
        assert bench["stats"]["min"] == bench["stats"]["max"] == pytest.approx(seconds)
        assert bench["extra_info"]["seconds"] == pytest.approx(seconds)
        assert bench["extra_info"]["vs_sklearn"] == pytest.approx(0.2 / seconds)
        assert bench["extra_info"]["vs_numpy"] == pytest.approx(0.1 / seconds)


# ----------------------------------------------------------------- the cuda suite


def _simulator_env():
    env = {k: v for k, v in os.environ.items() if k != "PYTEST_ADDOPTS"}
    env["NUMBA_ENABLE_CUDASIM"] = "1"
    return env


def test_cuda_suite_quick_in_the_simulator(tmp_path):
    # The command a GPU machine runs, at the quick sizes, in Numba's CUDA
    # simulator: every row, its figures, the JSON and the table last.
    pytest.importorskip("numba_cuda", reason="numba-cuda is in the test extras")
    report = tmp_path / "cuda.json"
    result = subprocess.run(
        [sys.executable, "-m", "fastmlp", "bench", "--suite", "cuda", "--quick",
         "--json", str(report)],
        cwd=tmp_path, env=_simulator_env(), capture_output=True, text=True,
        timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
    saved = json.loads(report.read_text())
    assert saved["quick"] and saved["suites"] == ["cuda"]
    assert saved["gpu"] == "Numba's CUDA simulator (no GPU)"
    assert saved["cuda_skipped"] is None and saved["targets"] == []
    rows = saved["rows"]
    cases = [_bench._case_name(*case) for case in _bench.CUDA_QUICK_CASES]
    assert [(r["suite"], r["case"], r["model"]) for r in rows] == [
        ("cuda", case, model) for case in cases for model in _bench.CUDA_MODELS]
    torch_reason = ("PyTorch is not installed" if not _bench.torch_available()
                    else "Numba's CUDA simulator is on: there is no GPU for "
                         "PyTorch to share")
    for case in cases:
        by_model = {r["model"]: r for r in rows if r["case"] == case}
        cpu = by_model["fastmlp[cpu]"]
        for model in ("fastmlp[cuda] graph", "fastmlp[cuda] eager", "fastmlp[cpu]"):
            row = by_model[model]
            assert row["status"] == "ok" and row["reason"] is None, row
            assert row["unit"] == "ms/epoch" and row["timer"] == "perf_counter"
            assert (row["warmup_epochs"], row["epochs"]) == (2, 1)
            assert len(row["warmup_seconds"]) == 2 and len(row["epoch_seconds"]) == 1
            for key in ("seconds", "min_seconds", "max_seconds",
                        "wall_seconds_per_epoch", "fit_seconds_per_epoch"):
                assert _finite_positive(row[key]), (model, key)
            assert row["seconds"] == row["epoch_seconds"][0]
            assert 0 <= row["accuracy"] <= 1 and row["n_samples"] == 200
            # Every row trains the same problem the same way.
            assert row["loss"] == pytest.approx(cpu["loss"], rel=1e-4)
            assert math.isfinite(row["accuracy_vs_cpu_pp"])
            assert row["vs_torch_eager"] is None
        # The simulator replays no graph, and says so.
        assert by_model["fastmlp[cuda] graph"]["graph_epochs"] == 0
        assert "graph_epochs" not in cpu
        for model in ("pytorch[cuda] eager", "pytorch[cuda] graph"):
            row = by_model[model]
            assert (row["status"], row["reason"]) == ("skipped", torch_reason)
            assert row["seconds"] is None and row["accuracy"] is None
    table = result.stdout.splitlines()
    assert table[0].split()[:3] == ["case", "model", "time"]
    assert "skipped: " + torch_reason in " ".join(table)
    assert "h(8,) b64 float32 fastmlp[cuda] graph: 0 of its 1 timed" in result.stdout
    assert "wrote " + str(report) in result.stderr


def test_cuda_suite_without_a_gpu_says_why(monkeypatch, tmp_path, capsys):
    from fastmlp.engines import cuda_engine

    reason = "backend='cuda' found no usable NVIDIA GPU (a test's)."
    monkeypatch.setattr(cuda_engine, "unavailable_reason", lambda: reason)
    monkeypatch.setattr(cuda_engine, "_simulated", lambda: False)
    monkeypatch.chdir(tmp_path)
    assert main(["bench", "--suite", "cuda", "--no-torch"]) == 0
    out = capsys.readouterr()
    assert out.out.startswith("cuda suite skipped: the cuda suite needs an NVIDIA GPU")
    assert "(a test's)" in out.out and "(a test's)" in out.err
    assert list(tmp_path.iterdir()) == []   # no JSON without a GPU
    # The same rows, marked, when asked for them.
    assert main(["bench", "--suite", "cuda", "--quick", "--json", "rows.json"]) == 0
    rows = json.loads((tmp_path / "rows.json").read_text())["rows"]
    assert len(rows) == len(_bench.CUDA_QUICK_CASES) * len(_bench.CUDA_MODELS)
    assert all(r["status"] == "skipped" and "NVIDIA GPU" in r["reason"] for r in rows)


def test_cuda_suite_in_the_simulator_only_quick(monkeypatch):
    from fastmlp.engines import cuda_engine

    monkeypatch.setattr(cuda_engine, "unavailable_reason", lambda: None)
    monkeypatch.setattr(cuda_engine, "_simulated", lambda: True)
    assert "only with --quick" in _bench.cuda_skip_reason(quick=False)
    assert _bench.cuda_skip_reason(quick=True) is None


def _cuda_row(case, model, seconds, accuracy):
    return {"suite": "cuda", "case": case, "model": model, "unit": "ms/epoch",
            "status": "ok", "reason": None, "seconds": seconds, "accuracy": accuracy,
            "min_seconds": seconds, "max_seconds": seconds, "epochs": 5,
            "warmup_epochs": 2, "fit_seconds_per_epoch": seconds}


def test_cuda_targets_and_table():
    from fastmlp._bench.gpu import _compare

    small, large = (_bench._case_name(*case) for case in _bench.CUDA_CASES)
    rows = _compare([
        _cuda_row(small, "fastmlp[cuda] graph", 0.008, 0.9110),
        _cuda_row(small, "pytorch[cuda] eager", 0.080, 0.9100),
        _cuda_row(small, "fastmlp[cpu]", 0.200, 0.9116),
    ]) + _compare([
        _cuda_row(large, "fastmlp[cuda] graph", 0.020, 0.9300),
        _cuda_row(large, "fastmlp[cuda] eager", 0.300, 0.9300),
        {**_cuda_row(large, "pytorch[cuda] eager", None, None),
         "status": "skipped", "reason": "PyTorch is not installed"},
        _cuda_row(large, "fastmlp[cpu]", 0.800, 0.9423),
    ])
    assert rows[0]["vs_torch_eager"] == pytest.approx(10.0)
    assert rows[0]["accuracy_vs_cpu_pp"] == pytest.approx(-0.06)
    checks = {(c["case"], c["check"]): c["met"] for c in _bench.cuda_targets(rows)}
    assert checks == {
        (small, "ms per epoch"): True, (small, "x PyTorch eager"): True,
        (small, "accuracy - cpu's (pp)"): True,
        (large, "ms per epoch"): False, (large, "x PyTorch eager"): None,
        (large, "accuracy - cpu's (pp)"): False,
    }
    assert _bench.cuda_targets(rows, quick=True) == []
    table = _bench.format_cuda_table(rows, _bench.cuda_targets(rows))
    assert "8.000 ms/epoch" in table and "10.00x" in table and "-0.06 pp" in table
    assert f"{small}  ms per epoch: 8.00 (at most 10): met" in table
    assert f"{large}  ms per epoch: 20.00 (at most 15): MISSED" in table
    assert f"{large}  x PyTorch eager: not measured (at least 5): not measured" in table
    assert "skipped: PyTorch is not installed (pytorch[cuda] eager)" in table


def test_timed_epochs_wrap_the_engines_trainer(tiny):
    # The fastmlp rows time each run_epoch of the estimator's own trainer,
    # and leave the engine as it was.
    from fastmlp.engines import NumpyEngine

    X, y, _, _ = tiny
    original = vars(NumpyEngine)["trainer"]
    with _bench.gpu._timed_epochs("numpy") as laps:
        fastmlp.MLPClassifier(backend="numpy", hidden_layer_sizes=(7,), max_iter=3,
                              batch_size=50, random_state=0).fit(X, y)
    assert vars(NumpyEngine)["trainer"] is original
    assert len(laps) == 3
    assert all(lap["clock"] == "perf_counter" and lap["seconds"] > 0 for lap in laps)
    assert all("graph" not in lap for lap in laps)


def test_torch_rows_start_where_the_estimator_starts(tiny, monkeypatch):
    # The PyTorch rows' weights and shuffles are the numbers fastmlp's
    # estimator draws: same initial weights, same minibatches.
    from fastmlp._layout import ParamLayout
    from fastmlp.engines import NumpyEngine

    X, y, _, _ = tiny
    original = vars(NumpyEngine)["trainer"]
    seen = {"orders": []}

    def trainer(self, *args):
        made = original(self, *args)
        start, run_epoch = made.start, made.run_epoch

        def recording_start(params, optimizer, dropout_seed=0):
            seen["params"] = params.copy()
            return start(params, optimizer, dropout_seed)

        def recording_epoch(order, batch_size):
            seen["orders"].append(np.array(order))
            return run_epoch(order, batch_size)

        made.start, made.run_epoch = recording_start, recording_epoch
        return made

    monkeypatch.setattr(NumpyEngine, "trainer", trainer)
    fastmlp.MLPClassifier(backend="numpy", hidden_layer_sizes=(7,), max_iter=2,
                          batch_size=50, random_state=0).fit(X, y)
    units = (20, 7, 3)
    weights, rs = _bench.initial_weights(units)
    layout = ParamLayout(units)
    for (coef, intercept), got_coef, got_intercept in zip(
            weights, layout.coef_views(seen["params"]),
            layout.intercept_views(seen["params"]), strict=True):
        np.testing.assert_array_equal(got_coef, coef.astype(np.float32))
        np.testing.assert_array_equal(got_intercept, intercept.astype(np.float32))
    positions = np.arange(len(X))
    for order in seen["orders"]:
        rs.shuffle(positions)
        np.testing.assert_array_equal(order, positions)


def test_cpu_description_names_the_extensions():
    line = _bench.cpu_description()
    flags = set()
    with open("/proc/cpuinfo") as cpuinfo:
        for entry in cpuinfo:
            if entry.startswith("flags"):
                flags = set(entry.split(":", 1)[1].split())
                break
    for flag in ("avx2", "avx512f", "avx512_bf16", "amx_tile", "amx_bf16"):
        assert (f" {flag}" in line) == (flag in flags), flag
    from fastmlp._kernels import _train

    assert line.endswith(_train.bf16_support() or "none (no AMX nor AVX512-BF16)")


def test_mnist_bfloat16_rows(monkeypatch):
    # Only in float32 cases; fastmlp's where the CPU has a kernel.
    from fastmlp._kernels import _train

    X, y, X_test, y_test = _bench.mnist_data("float32", 300, 100)
    monkeypatch.setattr(_bench.training, "mnist_data",
                        lambda dtype, n, m: (X.astype(dtype), y, X_test.astype(dtype),
                                             y_test))
    rows = _bench.bench_mnist(models=["fastmlp[cpu]"], epochs=1,
                              cases=(((8,), 50, "float32"), ((8,), 50, "float64")))
    models = [(row["dtype"], row["model"]) for row in rows]
    bf16 = [("float32", "fastmlp[cpu] bfloat16")] if _train.bf16_support() else []
    assert models == [("float32", "fastmlp[cpu]"), *bf16, ("float64", "fastmlp[cpu]")]
    if bf16:
        assert rows[1]["vs_cpu"] == pytest.approx(rows[0]["seconds"] / rows[1]["seconds"])
