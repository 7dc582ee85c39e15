"""`python -m ci aws-policy --env ENV`: pytest tests/aws against the environment's AWS API.

On local the suite provisions a private local cloud of its own first (see tests/aws/conftest.py); on
staging/production it reads what `provision` built, with the caller's AWS credentials.
"""

from __future__ import annotations

import argparse
import sys

from ci.paths import reports_dir
from ci.runner import Stage


def run(args: argparse.Namespace) -> int:
    """Run the policy checks with their output streamed."""
    stage = Stage("aws-policy")
    stage.command("pytest tests/aws", [sys.executable, "-m", "pytest", "tests/aws",
                                       f"--junitxml={reports_dir() / 'aws-policy-pytest.xml'}"],
                  env={"TINY_AWS_ENV": args.env}, stream=True)
    return stage.finish()
