"""`python -m ci integration`: tests/etl, the ETL DAGs run for real against S3 (moto) and PostgreSQL."""

from __future__ import annotations

import argparse
import sys

from ci.paths import REPORTS
from ci.runner import Stage


def run(args: argparse.Namespace) -> int:
    """pytest tests/etl with its output streamed."""
    stage = Stage("integration")
    stage.command("pytest tests/etl", [sys.executable, "-m", "pytest", "tests/etl",
                                       f"--junitxml={REPORTS / 'integration-pytest.xml'}"], stream=True)
    return stage.finish()
