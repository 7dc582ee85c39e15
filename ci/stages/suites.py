"""`python -m ci suites TARGET...`: the suites of `make test`, in order, each one `make` call, stopping at the
first that fails; ends with the time of each suite and the total beside the suite's budget, so the figure the
README quotes is printed by every run."""

from __future__ import annotations

import argparse
import shlex

from ci.runner import Stage

BUDGET_MINUTES = 30  # the whole `make test` on the reference machine (2 cores), installs included


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The make targets, in order; one argument may name several targets, run as one make call."""
    parser.add_argument("targets", nargs="+", help='make targets, e.g. lint unit "localcloud provision" ...')


def run(args: argparse.Namespace) -> int:
    """Each target as a streamed step; the stage's summary table is the per-suite time table."""
    stage = Stage("suites")
    for target in args.targets:
        if not stage.command(target, ["make", "--no-print-directory", *shlex.split(target)], stream=True).ok:
            break
    code = stage.finish()
    minutes = sum(r.seconds for r in stage.results) / 60
    print(f"suites took {minutes:.1f} min: {minutes / BUDGET_MINUTES:.2f}x the {BUDGET_MINUTES}-minute budget")
    return code
