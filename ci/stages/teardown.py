"""`python -m ci teardown --env ENV [--confirm production]`: ansible/teardown.yml."""

from __future__ import annotations

import argparse

from ci.ansible import run_playbook_stage


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Confirmation for production, and extra vars."""
    parser.add_argument("--confirm", default="", help="must be 'production' to remove production")
    parser.add_argument("-e", "--extra-vars", action="append", default=[], metavar="KEY=VALUE")


def run(args: argparse.Namespace) -> int:
    """Remove the environment (the playbook itself refuses production without confirmation)."""
    extra = [*args.extra_vars, f"teardown_confirm={args.confirm}"]
    return run_playbook_stage("teardown", args.env, "teardown.yml", extra)
