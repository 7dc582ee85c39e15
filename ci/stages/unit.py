"""Stage `unit`: pytest over tests/unit and tests/dags (the DAG integrity suite and each DAG's tests).

Two tiers. `unit` (the push loop: a DAG author's answer within seconds) runs every test but those marked
`slow`, the ones that start processes or services (ansible-playbook, moto, a JVM, the unit stage itself);
`unit --tier slow` (`make unit-slow`, the next stage on every branch) runs exactly those.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from ci.paths import reports_dir
from ci.runner import Stage

DEFAULT_PATHS = ["tests/unit", "tests/dags"]
TIERS = {"fast": "not slow", "slow": "slow", "all": ""}  # tier -> pytest marker expression


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Optional DAG folder override and pytest paths."""
    parser.add_argument("--dags-folder", type=Path,
                        help="check this DAG folder instead of dags/ (used by the fixture tests)")
    parser.add_argument("--jobs", default="auto",
                        help="pytest-xdist workers: auto = one per core, 0 = none (default: %(default)s)")
    parser.add_argument("--tier", choices=TIERS, default="fast",
                        help="fast: all but the tests marked slow; slow: only those; all (default: %(default)s)")
    parser.add_argument("paths", nargs="*", default=DEFAULT_PATHS, help="pytest paths (default: %(default)s)")


def run(args: argparse.Namespace) -> int:
    """Run pytest with its output streamed; JUnit XML goes to reports/unit-pytest.xml."""
    env = {"TINY_DAGS_FOLDER": str(args.dags_folder.resolve())} if args.dags_folder else {}
    name = "unit" if args.tier == "fast" else f"unit-{args.tier}"
    stage = Stage(name)
    stage.command("pytest", [
        sys.executable, "-m", "pytest", *args.paths, "--numprocesses", args.jobs,
        *(["-m", TIERS[args.tier]] if TIERS[args.tier] else []), f"--junitxml={reports_dir() / f'{name}-pytest.xml'}",
    ], env=env, stream=True)
    return stage.finish()
