"""`python -m ci etl-tests`: tests/etl, the ETL DAGs for real (`dag.test()`) against S3 (a private moto) and
PostgreSQL (a throwaway cluster). Minutes, no Docker: Jenkins runs it on every branch."""

from __future__ import annotations

import argparse
import sys

from ci.paths import reports_dir
from ci.runner import Stage


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """No options: the suite brings up and stops its own services."""


def run(args: argparse.Namespace) -> int:
    """pytest tests/etl, output streamed, JUnit to reports/etl-tests-pytest.xml."""
    stage = Stage("etl-tests")
    stage.command("pytest tests/etl", [sys.executable, "-m", "pytest", "tests/etl",
                                       f"--junitxml={reports_dir() / 'etl-tests-pytest.xml'}"], stream=True)
    return stage.finish()
