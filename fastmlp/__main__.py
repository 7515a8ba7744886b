"""Command line: ``python -m fastmlp demo``, ``python -m fastmlp bench`` and
``python -m fastmlp --version``."""

import argparse
import sys


def main(argv=None):
    from . import __version__

    parser = argparse.ArgumentParser(prog="python -m fastmlp")
    parser.add_argument("--version", action="version", version=f"fastmlp {__version__}")
    commands = parser.add_subparsers(dest="command", required=True)
    demo = commands.add_parser(
        "demo",
        help="train fastmlp and scikit-learn side by side on load_digits",
    )
    demo.add_argument("--max-iter", type=int, default=200)
    demo.add_argument("--random-state", type=int, default=0)

    from ._bench import SUITES, TRAINING_SUITES

    bench = commands.add_parser(
        "bench",
        help="the project's benchmark suites (those of bench/): fastmlp's "
             "engines, scikit-learn and PyTorch (when installed) side by side",
        description="Runs the benchmark suites and prints one table: time, "
                    "speed-up over scikit-learn and over the pure-NumPy engine, "
                    "GEMM-floor and roofline ratios, held-out accuracy and peak "
                    "memory. Progress goes to stderr, the table to stdout. The "
                    "same suites run under pytest-benchmark with `pytest "
                    "--benchmark-only` from the repository root.",
    )
    bench.add_argument(
        "--quick", action="store_true",
        help="6000 training rows instead of 60000, fewer epochs and repeats "
             "(well under a minute); the cuda suite: 200 rows x 20 features, "
             "one timed epoch (what Numba's CUDA simulator can run)",
    )
    bench.add_argument(
        "--suite", action="extend", nargs="+", choices=SUITES, metavar="NAME",
        help=f"suites to run (default: all): {', '.join(SUITES)}",
    )
    bench.add_argument(
        "--epochs", type=int, default=None,
        help="epochs per timed fit in the mnist, options, tabular and digits "
             "suites (default: mnist and options 2, tabular 5, or 2 with "
             "--quick, digits 20); timed epochs after the 2 untimed ones in the "
             "cuda suite (default 5, or 1 with --quick)",
    )
    bench.add_argument(
        "--rounds", type=int, default=None,
        help=f"timed fits per row in the {', '.join(TRAINING_SUITES)} suites, "
             "the best one reported (default: mnist and options 1, tabular and "
             "small 3, or 1 with --quick, digits 3, threads 2); more rounds "
             "steady the figures on a noisy machine",
    )
    bench.add_argument(
        "--threads", type=int, default=None,
        help="limit BLAS/OpenMP threads (and PyTorch's) to this many; "
             "default: the libraries' own (all cores)",
    )
    bench.add_argument(
        "--no-torch", action="store_true",
        help="leave PyTorch out even when it is installed",
    )
    bench.add_argument(
        "--json", metavar="PATH", default=None,
        help="write every row as JSON to PATH (default: the cuda suite writes "
             "bench-cuda.json here when it runs; without a GPU it says why and "
             "exits 0, writing no JSON unless asked)",
    )
    args = parser.parse_args(argv)

    if args.command == "demo":
        from ._demo import run_demo

        run_demo(max_iter=args.max_iter, random_state=args.random_state)
    elif args.command == "bench":
        from ._bench import run_bench

        for option in ("epochs", "rounds", "threads"):
            value = getattr(args, option)
            if value is not None and value < 1:
                parser.error(f"--{option} must be at least 1")
        rows = run_bench(suites=args.suite or SUITES, quick=args.quick,
                         epochs=args.epochs, rounds=args.rounds,
                         torch=not args.no_torch, threads=args.threads,
                         json_path=args.json)
        # A row that raised (the cuda suite keeps it, marked failed).
        if any(row.get("status") == "failed" for row in rows or ()):
            return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
