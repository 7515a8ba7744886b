"""Command line: ``python -m fastmlp demo``."""

import argparse
import sys


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m fastmlp")
    commands = parser.add_subparsers(dest="command", required=True)
    demo = commands.add_parser(
        "demo",
        help="train fastmlp and scikit-learn side by side on load_digits",
    )
    demo.add_argument("--max-iter", type=int, default=200)
    demo.add_argument("--random-state", type=int, default=0)
    args = parser.parse_args(argv)

    if args.command == "demo":
        from ._demo import run_demo

        run_demo(max_iter=args.max_iter, random_state=args.random_state)
    return 0


if __name__ == "__main__":
    sys.exit(main())
