"""`python -m ci promote-check --env FROM --sha SHA`: is SHA promotable from FROM (has it a verification record)?"""

from __future__ import annotations

import argparse

from ci.bundle import BundleError, resolve
from ci.platform import Platform, PlatformError
from ci.promotion import PromotionError, read_verification
from ci.runner import Stage


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The commit."""
    parser.add_argument("--sha", required=True, help="the commit to check (full or abbreviated SHA)")


def run(args: argparse.Namespace) -> int:
    """Print the record, or refuse with exit 1."""
    try:
        sha = resolve(args.sha)
        record = read_verification(Platform.load(args.env), sha)
    except (BundleError, PlatformError, PromotionError) as exc:
        return Stage("promote-check").refuse("verification record", str(exc))
    tests = record["tests"]
    print(f"{sha} verified on {record['env']} at {record['verified_at']}: bundle sha256 {record['sha256']}; "
          f"verify {tests['verify']}; smoke {tests['smoke']['result']} ({tests['smoke']['dag_id']})")
    return 0
