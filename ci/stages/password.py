"""`python -m ci password --env ENV`: the Airflow admin password, read from the secret store.

It is printed to the terminal that asked for it and nowhere else (no report, no log file).
"""

from __future__ import annotations

import argparse

from ci.platform import Platform, PlatformError


def run(args: argparse.Namespace) -> int:
    """Print the password, or why it cannot be read."""
    try:
        print(Platform.load(args.env).secret("airflow_admin_password"))
    except PlatformError as exc:
        print(f"password failed: {exc}")
        return 1
    return 0
