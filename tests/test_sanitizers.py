"""The kernel and engine tests, run against kernels built with AddressSanitizer
and UndefinedBehaviorSanitizer.

Design: the sanitized build must not touch the checkout's own. setup.py and
kernels/ are copied into a temporary directory and built there with the
sanitizer flags (``python setup.py build_ext``, so the extensions, directives
and flags are the shipped ones plus the sanitizers); a copy of the fastmlp/
Python package goes next to the built extensions. A child pytest runs the
test modules that reach the compiled kernels, directly or through the Numba
loops, with that directory first on its path, so it and every process it
starts import the sanitized kernels. The Python executable is not linked
against the sanitizer runtimes, so they are preloaded (ASan must be the first
library loaded). The Numba-compiled loops are not instrumented, but every
pointer they hand to a kernel is checked inside the kernel, which is where
the raw-pointer arithmetic is. A report aborts the process that found it,
so the child pytest captures output at the sys level only (a capture at the
file-descriptor level would take the report down with the aborted process)
and ASan also writes its reports to log files, which keeps those of the
processes the tests start with their output captured.

Linux and a GCC-style compiler with its sanitizer runtimes only; elsewhere
the test skips and says which is missing. ``pytest -m "not sanitizer"``
leaves it out (it takes one to two minutes on two cores: the build about
half a minute, the tests under the sanitizers the rest).
"""

import os
import shlex
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

pytestmark = pytest.mark.sanitizer

# The modules whose tests reach the compiled kernels: the kernels' own
# (inference and training shims, the epochs' shuffle), the cpu engine's
# Numba loops over them, and the thread pool of _pool.h.
SANITIZED_MODULES = [
    "test_train_kernels.py",
    "test_random.py",
    "test_inference.py",
    "test_cpu_engine.py",
    "test_blas_pool.py",
    "test_bfloat16.py",
]

# Python's own CFLAGS carry -fwrapv, which defines signed overflow and so
# switches off UBSan's signed-integer-overflow check: -fno-wrapv (later on
# the command line, so it wins) turns it back on for the kernels' index
# arithmetic.
SANITIZE = "-fsanitize=address,undefined"
CFLAGS = f"{SANITIZE} -fno-sanitize-recover=all -fno-omit-frame-pointer -fno-wrapv"
LDFLAGS = SANITIZE

# Python frees nothing at exit by design: leak reports would be noise. The
# pool's dispatcher hands worker threads descriptions of the work that live
# on its stack, so a worker still reading one after the dispatcher returned
# is a stack use after return: checked too.
ASAN_OPTIONS = "detect_leaks=0:detect_stack_use_after_return=1"
# -fno-sanitize-recover already makes every UBSan check abort. GCC's
# libubsan ignores log_path when ASan is loaded too: its reports go to
# stderr (hence --capture=sys below).
UBSAN_OPTIONS = "print_stacktrace=1"

# What a report looks like when it reaches the output instead of a log file.
REPORT_MARKERS = ("ERROR: AddressSanitizer", "runtime error:", "SUMMARY: AddressSanitizer",
                  "SUMMARY: UndefinedBehaviorSanitizer")

# The child: name the kernel modules it imported, then run pytest.
CHILD = """\
import sys
import pytest
from fastmlp._kernels import _forward, _train
print("kernels:", _forward.__file__, _train.__file__, flush=True)
sys.exit(pytest.main(sys.argv[1:]))
"""


def _compiler():
    """The C compiler setuptools will build with (CC, else Python's)."""
    cc = os.environ.get("CC") or sysconfig.get_config_var("CC") or "cc"
    return shlex.split(cc)[0]


def _runtime(cc, library):
    """The path of the compiler's runtime library, or None if it has none."""
    try:
        out = subprocess.run([cc, f"-print-file-name={library}"],
                             capture_output=True, text=True, check=True).stdout
    except (OSError, subprocess.CalledProcessError):
        return None
    path = out.strip()
    # Without the library, GCC prints the bare name back.
    return path if os.path.isabs(path) and os.path.exists(path) else None


def _runtimes():
    """(libasan, libubsan) of the compiler, or pytest.skip saying what is missing."""
    if not sys.platform.startswith("linux"):
        pytest.skip(f"the sanitizer run preloads the runtimes with LD_PRELOAD, "
                    f"Linux only (this is {sys.platform})")
    cc = _compiler()
    if shutil.which(cc) is None:
        pytest.skip(f"no C compiler: {cc!r} (CC or Python's) is not on PATH")
    runtimes = tuple(_runtime(cc, name) for name in ("libasan.so", "libubsan.so"))
    missing = [name for name, path in zip(("libasan", "libubsan"), runtimes) if path is None]
    if missing:
        pytest.skip(f"{cc} has no {' or '.join(missing)} runtime "
                    f"(install GCC's sanitizer libraries, e.g. libasan8 libubsan1)")
    return runtimes


def _build(tmp):
    """Build the sanitized kernels under tmp; return the importable directory."""
    src, lib = tmp / "src", tmp / "lib"
    src.mkdir()
    shutil.copy2(ROOT / "setup.py", src)
    (src / "fastmlp").mkdir()
    shutil.copy2(ROOT / "fastmlp" / "_tunables.py", src / "fastmlp")
    shutil.copy2(ROOT / "fastmlp" / "_kernel_api.py", src / "fastmlp")
    shutil.copytree(ROOT / "kernels", src / "kernels",
                    ignore=shutil.ignore_patterns("*.c", "*_api.h", "_train_api.pxi"))
    env = dict(os.environ, CFLAGS=CFLAGS, LDFLAGS=LDFLAGS)
    build = subprocess.run(
        [sys.executable, "setup.py", "build_ext", "--build-lib", str(lib),
         "--build-temp", str(tmp / "build"), "--parallel", "2"],
        cwd=src, env=env, capture_output=True, text=True,
    )
    assert build.returncode == 0, (
        "the sanitized build failed (it needs the test extras: "
        f"pip install -e '.[test]'):\n{build.stdout[-4000:]}\n{build.stderr[-4000:]}")
    # The package's Python files, without the checkout's (unsanitized)
    # extensions and bytecode.
    shutil.copytree(ROOT / "fastmlp", lib / "fastmlp", dirs_exist_ok=True,
                    ignore=shutil.ignore_patterns("*.so", "*.pyd", "__pycache__"))
    return lib


def _reports(log_dir, output):
    """The sanitizer reports: ASan's log files, then the output from the
    first report in it on (UBSan's, and any that missed a log file)."""
    logs = [p.read_text(errors="replace") for p in sorted(log_dir.iterdir())]
    starts = [output.find(marker) for marker in REPORT_MARKERS]
    starts = [i for i in starts if i >= 0]
    if starts:
        first = output.rfind("\n", 0, min(starts)) + 1
        logs.append(output[first:first + 8000])
    return "\n".join(logs)


def test_kernel_and_engine_tests_pass_under_asan_and_ubsan(tmp_path):
    libasan, libubsan = _runtimes()
    lib = _build(tmp_path)
    extensions = sorted((lib / "fastmlp" / "_kernels").glob("*.so"))
    assert [p.name.split(".")[0] for p in extensions] == ["_forward", "_train"]
    for so in extensions:
        binary = so.read_bytes()
        assert b"__asan_report" in binary and b"__ubsan_handle" in binary, (
            f"{so} is not instrumented")

    log_dir = tmp_path / "reports"
    log_dir.mkdir()
    env = dict(
        os.environ,
        PYTHONPATH=os.pathsep.join(filter(None, [str(lib), os.environ.get("PYTHONPATH")])),
        LD_PRELOAD=" ".join(filter(None, [libasan, libubsan, os.environ.get("LD_PRELOAD")])),
        ASAN_OPTIONS=f"{ASAN_OPTIONS}:log_path={log_dir / 'asan'}",
        UBSAN_OPTIONS=UBSAN_OPTIONS,
    )
    tests = [str(ROOT / "tests" / name) for name in SANITIZED_MODULES]
    # cwd=lib: `python -c` puts the working directory first on sys.path.
    child = subprocess.run(
        [sys.executable, "-c", CHILD, "-q", "-p", "no:cacheprovider", "--capture=sys",
         "--rootdir", str(ROOT), "-c", str(ROOT / "pyproject.toml"), *tests],
        cwd=lib, env=env, capture_output=True, text=True, timeout=900,
    )
    output = child.stdout + child.stderr
    reports = _reports(log_dir, output)
    assert not reports, f"sanitizer reports:\n{reports}"
    assert child.returncode == 0, f"the sanitized tests failed:\n{output[-8000:]}"
    imported = output.split("kernels:", 1)[1].split()[:2]
    assert [Path(p).resolve() for p in imported] == [p.resolve() for p in extensions], (
        f"the child imported {imported}, not the sanitized build")
