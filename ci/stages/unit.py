"""Stage `unit`: pytest over tests/unit and tests/dags (the DAG integrity suite and each DAG's tests)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from ci.paths import reports_dir
from ci.runner import Stage

DEFAULT_PATHS = ["tests/unit", "tests/dags"]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Optional DAG folder override and pytest paths."""
    parser.add_argument("--dags-folder", type=Path,
                        help="check this DAG folder instead of dags/ (used by the fixture tests)")
    parser.add_argument("--jobs", default="auto",
                        help="pytest-xdist workers: auto = one per core, 0 = none (default: %(default)s)")
    parser.add_argument("paths", nargs="*", default=DEFAULT_PATHS, help="pytest paths (default: %(default)s)")


def run(args: argparse.Namespace) -> int:
    """Run pytest with its output streamed; JUnit XML goes to reports/unit-pytest.xml."""
    env = {"TINY_DAGS_FOLDER": str(args.dags_folder.resolve())} if args.dags_folder else {}
    stage = Stage("unit")
    stage.command("pytest", [
        sys.executable, "-m", "pytest", *args.paths, "--numprocesses", args.jobs,
        f"--junitxml={reports_dir() / 'unit-pytest.xml'}",
    ], env=env, stream=True)
    return stage.finish()
