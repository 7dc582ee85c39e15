"""`python -m ci teardown --env ENV [--confirm production]`: ansible/teardown.yml."""

from __future__ import annotations

import argparse

import yaml

from ci.ansible import ANSIBLE_ENV, LocalCloudError, aws_target, playbook_argv
from ci.paths import ROOT
from ci.runner import Stage


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Confirmation for production, and extra vars."""
    parser.add_argument("--confirm", default="", help="must be 'production' to remove production")
    parser.add_argument("-e", "--extra-vars", action="append", default=[], metavar="KEY=VALUE")


def run(args: argparse.Namespace) -> int:
    """Remove the environment (the playbook itself refuses production without confirmation)."""
    stage = Stage("teardown")
    region = yaml.safe_load((ROOT / "inventory" / args.env / "group_vars" / "all.yml").read_text())["aws_region"]
    try:
        env, endpoint_vars = aws_target(args.env, region)
    except LocalCloudError as exc:
        stage.fail("local cloud", str(exc))
        return stage.finish()
    extra = [*args.extra_vars, f"teardown_confirm={args.confirm}"]
    stage.command("ansible-playbook teardown.yml", playbook_argv(args.env, "teardown.yml", extra) + endpoint_vars,
                  env={**ANSIBLE_ENV, **env}, stream=True)
    return stage.finish()
