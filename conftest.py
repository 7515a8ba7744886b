"""pytest at the repository root: the tests by default, the benchmarks with
``--benchmark-only``.

``pytest`` collects ``testpaths`` (tests/, in pyproject.toml). Under
pytest-benchmark's ``--benchmark-only`` every test there would only be
skipped, so when no paths are given that option collects bench/ instead:
``pytest --benchmark-only`` runs the benchmark suites. Paths given on the
command line are always what runs.
"""

import pytest


def pytest_configure(config):
    if (config.getoption("benchmark_only", default=False)
            and config.args_source == pytest.Config.ArgsSource.TESTPATHS):
        config.args = [str(config.rootpath / "bench")]
