"""fastmlp/_tunables.py is the one place of the tunables: the compiled
kernels carry its C-level values, the Python modules read the others."""

from fastmlp import _inference, _tunables
from fastmlp._kernels import _train


def test_the_kernels_were_built_with_the_tunables():
    expected = {name: getattr(_tunables, name) for name in _tunables.C_MACROS}
    assert _train.compiled_tunables() == expected


def test_python_modules_read_the_tunables():
    from fastmlp.engines import cpu_engine

    assert _inference.BLOCK_ROWS == _tunables.INFERENCE_BLOCK_ROWS
    assert cpu_engine.SLICE_SECONDS == _tunables.SLICE_SECONDS


def test_the_tunables_file_imports_nothing():
    # setup.py runs it before anything is built or installed.
    import ast
    from pathlib import Path

    tree = ast.parse(Path(_tunables.__file__).read_text())
    assert not [node for node in ast.walk(tree)
                if isinstance(node, (ast.Import, ast.ImportFrom))]
