"""Build the Cython kernels in kernels/ as extension modules of fastmlp._kernels.

Everything declarative lives in pyproject.toml; this file only lists the
extensions, because their include paths (numpy's headers) are known at build
time only, hands them the C-level tunables of fastmlp/_tunables.py, and
generates the kernels' exported twins from fastmlp/_kernel_api.py.
"""

import ctypes.util
import platform
import runpy
import sys
from pathlib import Path

import numpy as np
from Cython.Build import cythonize
from setuptools import Extension, setup

KERNELS = Path("kernels")
TUNABLES = Path("fastmlp", "_tunables.py")
KERNEL_API = Path("fastmlp", "_kernel_api.py")

# The C-level tunables, as FASTMLP_<NAME> macros (the file imports nothing).
tunables = runpy.run_path(str(TUNABLES))
tunable_macros = [(f"FASTMLP_{name}", str(tunables[name])) for name in tunables["C_MACROS"]]

# glibc's vector math library (x86-64, glibc >= 2.35): the added
# activations' loops call its erfc, exp and expm1 (kernels/_activations.h).
libc, libc_version = platform.libc_ver()
use_libmvec = (
    sys.platform.startswith("linux") and platform.machine() == "x86_64"
    and libc == "glibc"
    and tuple(int(v) for v in libc_version.split(".")[:2]) >= (2, 35)
    and ctypes.util.find_library("mvec") is not None
)
vector_math = {"define_macros": [("FASTMLP_LIBMVEC", "1")], "libraries": ["mvec"]} \
    if use_libmvec else {"define_macros": [], "libraries": []}

# The exported float32/float64 twins of the training kernels, from their one
# list (fastmlp/_kernel_api.py; it imports nothing). Rewritten only when it
# changes, so an unchanged build stays up to date.
api_pxi = KERNELS / "_train_api.pxi"
api_text = runpy.run_path(str(KERNEL_API))["generate_pxi"]()
if not api_pxi.exists() or api_pxi.read_text() != api_text:
    api_pxi.write_text(api_text)

extensions = [
    Extension(
        f"fastmlp._kernels.{pyx.stem}",
        [str(pyx)],
        include_dirs=[np.get_include(), str(KERNELS)],
        define_macros=[("NPY_NO_DEPRECATED_API", "NPY_1_9_API_VERSION"), *tunable_macros,
                       *vector_math["define_macros"]],
        libraries=vector_math["libraries"],
        depends=[str(TUNABLES), str(KERNEL_API), *map(str, KERNELS.glob("*.pxi")),
                 *map(str, KERNELS.glob("*.h")), *map(str, KERNELS.glob("*.pxd"))],
    )
    for pyx in sorted(KERNELS.glob("*.pyx"))
]

setup(
    ext_modules=cythonize(
        extensions,
        include_path=[str(KERNELS)],
        compiler_directives={"language_level": "3"},
    ),
)
