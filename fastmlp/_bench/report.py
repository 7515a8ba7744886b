"""Rows into words: speed-ups over scikit-learn, progress lines, the text
table and the line that describes the machine and the library versions."""

import os
import textwrap

import numpy as np

from .models import _blas_threads, cpu_description, engine_names, torch_available


# The rows each row's speed-ups are taken against: key, then the model named.
BASELINES = (("vs_sklearn", "sklearn"), ("vs_numpy", "fastmlp[numpy]"),
             ("vs_cpu", "fastmlp[cpu]"), ("vs_torch_bf16", "pytorch bfloat16"))


def speedups(seconds, baselines):
    """``{key: baseline's seconds / seconds}`` for each of ``BASELINES``,
    None where ``baselines`` (model name to seconds) lacks the model."""
    return {key: baselines[model] / seconds if baselines.get(model) else None
            for key, model in BASELINES}


def _add_speedups(rows):
    """``vs_sklearn`` and ``vs_numpy``: the time of scikit-learn's row and of
    the numpy engine's over each row's, within each case."""
    cases = {}
    for row in rows:
        cases.setdefault((row["suite"], row["case"]), {})[row["model"]] = row["seconds"]
    for row in rows:
        row.update(speedups(row["seconds"], cases[row["suite"], row["case"]]))
    return rows


def _log(log, message):
    if log is not None:
        log(message)


def _format_time(row):
    unit = row["unit"]
    scale = {"s/epoch": 1, "s": 1, "s/search": 1, "ms/epoch": 1e3, "ms/call": 1e3,
             "ms/fit": 1e3, "us/step": 1e6, "us/call": 1e6}[unit]
    value = row["seconds"] * scale
    digits = 3 if value < 10 else 1
    return f"{value:.{digits}f} {unit}"


def _cell(value, spec, suffix=""):
    return "-" if value is None else f"{value:{spec}}{suffix}"


COLUMNS = ("suite", "case", "model", "time", "vs sklearn", "vs numpy", "vs cpu",
           "vs torch bf16", "/floor", "/roofline", "accuracy", "heap MB", "RSS MB")


def _aligned(cells, n_left):
    """Lines of a text table: ``cells[0]`` the header, underlined; the first
    ``n_left`` columns left-aligned, the others right-aligned."""
    widths = [max(len(line[i]) for line in cells) for i in range(len(cells[0]))]
    lines = []
    for k, line in enumerate(cells):
        lines.append("  ".join(
            text.ljust(width) if i < n_left else text.rjust(width)
            for i, (text, width) in enumerate(zip(line, widths))).rstrip())
        if k == 0:
            lines.append("  ".join("-" * width for width in widths))
    return lines


def format_table(rows):
    """The rows as a text table, with a note on how each column is measured."""
    cells = [COLUMNS]
    for row in rows:
        cells.append((
            row["suite"], row["case"], row["model"], _format_time(row),
            _cell(row.get("vs_sklearn"), ".2f", "x"),
            _cell(row.get("vs_numpy"), ".2f", "x"),
            _cell(row.get("vs_cpu"), ".2f", "x"),
            _cell(row.get("vs_torch_bf16"), ".2f", "x"),
            _cell(row.get("floor_ratio"), ".2f"),
            _cell(row.get("roofline_ratio"), ".2f"),
            _cell(row.get("accuracy"), ".4f"),
            _cell(row.get("heap_mb"), ".1f"),
            _cell(row.get("rss_mb"), ".1f"),
        ))
    lines = _aligned(cells, 3)
    notes = [
        cpu_description(),
        "vs sklearn, vs numpy: the time of scikit-learn's row and of the pure-NumPy"
        " engine's (fastmlp[numpy]) in the same case over the row's (higher is"
        " faster); vs cpu, vs torch bf16: the same against fastmlp's cpu engine"
        " in the data's dtype and PyTorch under bfloat16 autocast (the"
        " 'bfloat16' rows: matmul_precision='bfloat16', float32 cases only).",
        "accuracy: on held-out data (R^2 for the small suite's diabetes rows).",
        "/floor: time over the same GEMMs timed alone (np.matmul, real shapes);"
        " /roofline: time over GEMM work / the GEMM peak below.",
        "heap MB: tracemalloc peak of a one-epoch fit, or of one predict_proba"
        " call (sees NumPy's allocations, not PyTorch's); RSS MB: rise of the"
        " process's resident high-water mark (VmHWM) during the first timed fit or"
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


CUDA_COLUMNS = ("case", "model", "time", "spread", "fit", "vs pytorch eager",
                "accuracy", "vs cpu")


def format_cuda_table(rows, checks=()):
    """The cuda suite's rows as a text table, then how they are measured,
    the rows that did not run and why, and issue 11's targets (``checks``,
    from ``gpu.cuda_targets``) met or missed."""
    reasons = {row["reason"] for row in rows if row["status"] == "skipped"}
    if len(reasons) == 1 and all(row["status"] == "skipped" for row in rows):
        return textwrap.fill(f"cuda suite skipped: {reasons.pop()}", 100,
                             subsequent_indent="  ")
    cells = [CUDA_COLUMNS]
    for row in rows:
        if row["status"] != "ok":
            cells.append((row["case"], row["model"], row["status"]) + ("-",) * 5)
            continue
        cells.append((
            row["case"], row["model"], _format_time(row),
            f"{row['min_seconds'] * 1e3:.3f}-{row['max_seconds'] * 1e3:.3f}",
            f"{row['fit_seconds_per_epoch'] * 1e3:.3f}",
            _cell(row.get("vs_torch_eager"), ".2f", "x"),
            _cell(row.get("accuracy"), ".4f"),
            _cell(row.get("accuracy_vs_cpu_pp"), "+.2f", " pp"),
        ))
    lines = _aligned(cells, 2)
    ok = [row for row in rows if row["status"] == "ok"]
    notes = []
    if ok:
        first = ok[0]
        notes += [
            f"time: ms per epoch, the mean of {first['epochs']} timed epochs after "
            f"{first['warmup_epochs']} untimed (the first compiles, the second captures "
            "the graph); CUDA events on the training stream around the trainer's epoch "
            "(the order's upload, the steps or the graph's replay, the loss's "
            "read-back); perf_counter for fastmlp[cpu] and in the simulator. "
            "spread: the fastest and slowest timed epoch.",
            "fit: ms per epoch of the whole training loop by the wall clock, the "
            "host's shuffle and per-epoch bookkeeping included.",
            "vs pytorch eager: PyTorch eager's time (data resident on the GPU, fused "
            "Adam) over the row's. accuracy: held out; vs cpu: minus fastmlp[cpu]'s, "
            "in percentage points.",
        ]
    for row in ok:
        if row.get("graph_epochs") is not None and "graph" in row["model"] \
                and row["graph_epochs"] < row["epochs"]:
            notes.append(f"{row['case']} {row['model']}: {row['graph_epochs']} of its "
                         f"{row['epochs']} timed epochs replayed a graph (Numba's "
                         "simulator captures none).")
    reasons = {}
    for row in rows:
        if row["status"] != "ok":
            reasons.setdefault(f"{row['status']}: {row['reason']}", []).append(row["model"])
    for reason, models in reasons.items():
        notes.append(f"{reason} ({', '.join(dict.fromkeys(models))})")
    if checks:
        notes.append("Targets (issue 11, point 8), fastmlp[cuda] graph:")
        for check in checks:
            value = "not measured" if check["value"] is None else f"{check['value']:.2f}"
            bound = ("within +-" if "pp" in check["check"] else
                     "at most " if "ms" in check["check"] else "at least ")
            verdict = {True: "met", False: "MISSED", None: "not measured"}[check["met"]]
            notes.append(f"  {check['case']}  {check['check']}: {value} "
                         f"({bound}{check['limit']:g}): {verdict}")
    return "\n".join(lines + [""] + [
        textwrap.fill(note, 100, subsequent_indent="  ")
        if not note.startswith("  ") else note for note in notes])


def _plain(value):
    """JSON for the figures NumPy returns (its scalars, tuples stay lists)."""
    if isinstance(value, np.generic):
        return value.item()
    raise TypeError(f"{type(value).__name__} is not JSON serializable")


def write_json(path, rows, **fields):
    """``{**fields, "rows": rows}`` as JSON at ``path``."""
    import json

    with open(path, "w", encoding="utf-8") as out:
        json.dump({**fields, "rows": rows}, out, indent=1, default=_plain,
                  allow_nan=True)
        out.write("\n")
