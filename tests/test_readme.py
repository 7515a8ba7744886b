"""The README's Python code blocks run as written.

Each ```python block is run on its own, in a fresh namespace, in a
temporary directory (some write files). A block that imports an optional
dependency that is not installed is skipped, naming it.
"""

import ast
import importlib.util
import re
from pathlib import Path

import pytest

README = Path(__file__).resolve().parents[1] / "README.md"
# The optional extras' modules (pyproject.toml): a block needing one that is
# missing is skipped; anything else missing is a failure.
OPTIONAL = {"dask", "distributed", "dask_ml", "matplotlib", "onnxruntime", "rich",
            "skl2onnx", "skops", "torch"}


def python_blocks():
    """(heading the block sits under, its code) for each ```python block."""
    blocks, heading = [], "top"
    lines = README.read_text(encoding="utf-8").splitlines()
    i = 0
    while i < len(lines):
        line = lines[i]
        if line.startswith("#"):
            heading = line.lstrip("#").strip()
        if line.strip() == "```python":
            end = lines.index("```", i + 1)
            blocks.append((heading, "\n".join(lines[i + 1:end]) + "\n"))
            i = end
        i += 1
    return blocks


def imported_modules(code):
    names = set()
    for node in ast.walk(ast.parse(code)):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            names.add(node.module.split(".")[0])
    return names


BLOCKS = python_blocks()


def test_the_readme_has_its_sections_and_snippets():
    headings = {heading for heading, _ in BLOCKS}
    for section in ("Quick start", "Callbacks", "Plotting", "ONNX", "skops",
                    "Scaling out"):
        assert any(section in heading for heading in headings), section
    assert len(BLOCKS) >= 7


@pytest.mark.parametrize(
    "heading, code", BLOCKS,
    ids=[f"{i}-{re.sub(r'[^a-z]+', '-', h.lower()).strip('-')}"
         for i, (h, _) in enumerate(BLOCKS)])
def test_readme_block_runs(heading, code, tmp_path, monkeypatch):
    missing = sorted(name for name in imported_modules(code) & OPTIONAL
                     if importlib.util.find_spec(name) is None)
    if missing:
        pytest.skip(f"needs the optional {', '.join(missing)}, not installed")
    if importlib.util.find_spec("matplotlib") is not None:
        import matplotlib

        matplotlib.use("Agg")
    monkeypatch.chdir(tmp_path)
    exec(compile(code, f"README.md ({heading})", "exec"), {"__name__": "__main__"})
