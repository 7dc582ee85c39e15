"""`python -m ci power --env ENV --state running|stopped`: the office-hours schedule's action."""

from __future__ import annotations

import argparse

from ci.ansible import run_playbook_stage


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Wanted state."""
    parser.add_argument("--state", required=True, choices=("running", "stopped"))


def run(args: argparse.Namespace) -> int:
    """Stop or start the environment's EC2 host and database."""
    return run_playbook_stage("power", args.env, "power.yml", [f"power_state={args.state}"])
