"""`python -m ci power --env ENV --state running|stopped`: the office-hours schedule's action."""

from __future__ import annotations

import argparse

import yaml

from ci.ansible import ANSIBLE_ENV, LocalCloudError, aws_target, playbook_argv
from ci.paths import ROOT
from ci.runner import Stage


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Wanted state."""
    parser.add_argument("--state", required=True, choices=("running", "stopped"))


def run(args: argparse.Namespace) -> int:
    """Stop or start the environment's EC2 host and database."""
    stage = Stage("power")
    region = yaml.safe_load((ROOT / "inventory" / args.env / "group_vars" / "all.yml").read_text())["aws_region"]
    try:
        env, endpoint_vars = aws_target(args.env, region)
    except LocalCloudError as exc:
        stage.fail("local cloud", str(exc))
        return stage.finish()
    stage.command(f"ansible-playbook power.yml ({args.state})",
                  playbook_argv(args.env, "power.yml", [f"power_state={args.state}"]) + endpoint_vars,
                  env={**ANSIBLE_ENV, **env}, stream=True)
    return stage.finish()
