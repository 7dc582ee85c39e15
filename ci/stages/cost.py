"""`python -m ci cost --env ENV`: the monthly estimate beside AWS MWAA's smallest environment."""

from __future__ import annotations

import argparse

from ci.cost import CostError, environment_vars, estimate, parse_extra_vars, render
from ci.runner import Stage


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Extra vars, as given to provision."""
    parser.add_argument("-e", "--extra-vars", action="append", default=[], metavar="KEY=VALUE")


def run(args: argparse.Namespace) -> int:
    """Print the estimate; exit 1 if it cannot be made."""
    try:
        est = estimate(args.env, environment_vars(args.env, parse_extra_vars(args.extra_vars)))
    except (CostError, KeyError) as exc:
        return Stage("cost").refuse("estimate", str(exc))
    print(render(est))
    return 0
