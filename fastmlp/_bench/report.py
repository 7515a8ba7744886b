"""Rows into words: speed-ups over scikit-learn, progress lines, the text
table and the line that describes the machine and the library versions."""

import os

import numpy as np

from .models import _blas_threads, engine_names, torch_available


def _add_speedups(rows):
    """``vs_sklearn``: sklearn's time over each row's, within each case."""
    baseline = {(r["suite"], r["case"]): r["seconds"]
                for r in rows if r["model"] == "sklearn"}
    for row in rows:
        base = baseline.get((row["suite"], row["case"]))
        row["vs_sklearn"] = base / row["seconds"] if base else None
    return rows


def _log(log, message):
    if log is not None:
        log(message)


def _format_time(row):
    unit = row["unit"]
    scale = {"s/epoch": 1, "s": 1, "ms/call": 1e3, "ms/fit": 1e3, "us/step": 1e6,
             "us/call": 1e6}[unit]
    value = row["seconds"] * scale
    digits = 3 if value < 10 else 1
    return f"{value:.{digits}f} {unit}"


def _cell(value, spec, suffix=""):
    return "-" if value is None else f"{value:{spec}}{suffix}"


COLUMNS = ("suite", "case", "model", "time", "vs sklearn", "/floor",
           "/roofline", "accuracy", "heap MB", "RSS MB")


def format_table(rows):
    """The rows as a text table, with a note on how each column is measured."""
    cells = [COLUMNS]
    for row in rows:
        cells.append((
            row["suite"], row["case"], row["model"], _format_time(row),
            _cell(row.get("vs_sklearn"), ".2f", "x"),
            _cell(row.get("floor_ratio"), ".2f"),
            _cell(row.get("roofline_ratio"), ".2f"),
            _cell(row.get("accuracy"), ".4f"),
            _cell(row.get("heap_mb"), ".1f"),
            _cell(row.get("rss_mb"), ".1f"),
        ))
    widths = [max(len(line[i]) for line in cells) for i in range(len(COLUMNS))]
    lines = []
    for k, line in enumerate(cells):
        lines.append("  ".join(
            text.ljust(width) if i < 3 else text.rjust(width)
            for i, (text, width) in enumerate(zip(line, widths))).rstrip())
        if k == 0:
            lines.append("  ".join("-" * width for width in widths))
    notes = [
        "vs sklearn: scikit-learn's time over the row's (higher is faster).",
        "accuracy: on held-out data (R^2 for the small suite's diabetes rows).",
        "/floor: time over the same GEMMs timed alone (np.matmul, real shapes);"
        " /roofline: time over GEMM work / the GEMM peak below.",
        "heap MB: tracemalloc peak of a one-epoch fit, or of one predict_proba"
        " call (sees NumPy's allocations, not PyTorch's); RSS MB: rise of the"
        " process's resident high-water mark (VmHWM) during the timed fit or"
        " call.",
    ]
    peaks = {(row["dtype"], row["peak_size"]): row["peak_flops"]
             for row in rows if row.get("peak_flops")}
    if peaks:
        notes.append("GEMM peak in this run: " + ", ".join(
            f"{'sgemm' if dtype == 'float32' else 'dgemm'} {size}^3 "
            f"{flops / 1e9:.0f} GFLOP/s"
            for (dtype, size), flops in sorted(peaks.items())))
    return "\n".join(lines + [""] + notes)


def describe_environment(torch=True, threads=None):
    """One line: versions, cores, BLAS threads, engines, load."""
    import sklearn

    from .. import __version__

    parts = [f"fastmlp {__version__}", f"numpy {np.__version__}",
             f"scikit-learn {sklearn.__version__}"]
    if torch and torch_available():
        import torch as torch_module

        parts.append(f"torch {torch_module.__version__}")
    blas = f"BLAS threads {_blas_threads()}"
    if threads:
        blas += f" (limited to {threads} for this run)"
    parts += [f"{os.cpu_count()} cores", blas,
              f"engines {engine_names()}"]
    if hasattr(os, "getloadavg"):
        parts.append(f"load average {os.getloadavg()[0]:.2f}")
    return ", ".join(parts)
