"""`python -m ci pipeline-tests`: tests/integration, the whole pipeline on the local default (hosts, site.yml,
deploy, verify, smoke, promotion, security, faults, load, the dev loop). It brings the local default up if
it is not (and takes it down again at the end then). Tens of minutes: Jenkins runs it on main and nightly,
`make test` always."""

from __future__ import annotations

import argparse
import sys

from ci.paths import reports_dir
from ci.runner import Stage


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """-k passes a pytest selection on (one test while working on it)."""
    parser.add_argument("-k", dest="select", default="", help="pytest -k expression (default: every test)")


def run(args: argparse.Namespace) -> int:
    """pytest tests/integration, output streamed, JUnit to reports/pipeline-tests-pytest.xml."""
    stage = Stage("pipeline-tests")
    select = ["-k", args.select] if args.select else []
    stage.command("pytest tests/integration", [
        sys.executable, "-m", "pytest", "tests/integration", "-s", *select,
        f"--junitxml={reports_dir() / 'pipeline-tests-pytest.xml'}"], stream=True)
    return stage.finish()
