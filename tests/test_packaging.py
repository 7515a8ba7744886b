"""The source distribution and the README: what a user downloads must build,
carry its license and run its own tests; what the README names must exist."""

import re
import subprocess
import sys
import tarfile
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def _tracked(pattern):
    """Files git tracks under ROOT matching ``pattern``, as relative paths."""
    out = subprocess.run(["git", "ls-files", pattern], cwd=ROOT, capture_output=True,
                         text=True)
    return set(out.stdout.split()) if out.returncode == 0 else set()


@pytest.fixture(scope="module")
def sdist(tmp_path_factory):
    """Build the sdist in a child process, recording every warning."""
    if not (ROOT / "pyproject.toml").exists():
        pytest.skip("not run from a source tree (no pyproject.toml)")
    out = tmp_path_factory.mktemp("sdist")
    code = textwrap.dedent(f"""
        import warnings
        warnings.simplefilter("always")
        from setuptools import build_meta
        print("SDIST", build_meta.build_sdist({str(out)!r}))
    """)
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT,
                            capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr
    name = result.stdout.split("SDIST")[-1].strip()
    with tarfile.open(out / name) as tar:
        members = {m.split("/", 1)[1] for m in tar.getnames() if "/" in m}
        pkg_info = tar.extractfile(f"{name[:-len('.tar.gz')]}/PKG-INFO").read().decode()
    return members, pkg_info, result.stdout + result.stderr


def test_sdist_carries_its_tests_and_sources(sdist):
    members, _, _ = sdist
    needed = {"LICENSE", "README.md", "pyproject.toml", "setup.py", ".ci/run",
              "tests/conftest.py", "tests/_networks.py", "bench/conftest.py",
              "conftest.py"}
    for pattern in ("tests/*.py", "bench/*.py", "fastmlp/*.py", "kernels/*.pyx",
                    "kernels/*.pxd", "kernels/*.h"):
        needed |= _tracked(pattern)
    assert needed - members == set()


def test_license_metadata_is_an_spdx_expression(sdist):
    _, pkg_info, log = sdist
    assert "License-Expression: BSD-3-Clause" in pkg_info
    assert "License-File: LICENSE" in pkg_info
    assert not re.search(r"license.*deprecat|deprecat.*license", log, re.I | re.S), log


def test_every_file_the_readme_names_exists():
    readme = (ROOT / "README.md").read_text()
    names = set(re.findall(r"[\w./-]*\w\.(?:py|pyx|pxd|pxi|h|toml|md|in)\b", readme))
    names |= set(re.findall(r"(?<![\w/.])(?:\.ci|kernels|tests|bench|fastmlp)/[\w./-]*",
                            readme))
    assert names, "the README names no file"
    everything = {p.relative_to(ROOT).as_posix() for p in ROOT.rglob("*")
                  if ".git" not in p.parts}
    basenames = {Path(p).name for p in everything}
    missing = sorted(
        n for n in names
        if n.rstrip("/") not in everything and Path(n).name not in basenames
    )
    assert missing == []
