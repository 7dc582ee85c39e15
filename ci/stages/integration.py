"""`python -m ci integration`: tests/etl (the ETL DAGs for real against S3 and PostgreSQL) and tests/integration
(the whole pipeline on the local default: hosts, site.yml, deploy, verify, smoke)."""

from __future__ import annotations

import argparse
import sys

from ci.paths import reports_dir
from ci.runner import Stage


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """--etl-only skips the pipeline (no Docker needed)."""
    parser.add_argument("--etl-only", action="store_true", help="only tests/etl (no local hosts)")


def run(args: argparse.Namespace) -> int:
    """pytest tests/etl, then the whole pipeline on the local default (tests/integration), output streamed."""
    stage = Stage("integration")
    stage.command("pytest tests/etl", [sys.executable, "-m", "pytest", "tests/etl",
                                       f"--junitxml={reports_dir() / 'integration-pytest.xml'}"], stream=True)
    if not args.etl_only:
        stage.command("pytest tests/integration", [
            sys.executable, "-m", "pytest", "tests/integration", "-s",
            f"--junitxml={reports_dir() / 'integration-pipeline-pytest.xml'}"], stream=True)
    return stage.finish()
