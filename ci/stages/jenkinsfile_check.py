"""`python -m ci jenkinsfile-check FILE...`: print `FILE:LINE:COL: error: ...` per finding, exit 1 on any."""

from __future__ import annotations

import argparse
from pathlib import Path

from ci.jenkinsfile import check_files
from ci.jenkinsfile.groovy import GroovyUnavailable


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """FILE arguments (default: the repository's Jenkinsfile)."""
    parser.add_argument("files", nargs="*", type=Path, default=[Path("Jenkinsfile")], metavar="FILE")


def run(args: argparse.Namespace) -> int:
    """Check the files; quiet when they are clean."""
    try:
        findings = check_files(args.files)
    except GroovyUnavailable as exc:
        print(f"jenkinsfile-check: {exc}")
        return 2
    for finding in findings:
        print(finding)
    return 1 if findings else 0
