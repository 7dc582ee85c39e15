"""`python -m ci provision --env ENV [-e KEY=VALUE]`: budget gate, then ansible/provision.yml."""

from __future__ import annotations

import argparse

from ci.ansible import ANSIBLE_ENV, LocalCloudError, aws_target, parse_recap, playbook_argv
from ci.cost import CostError, check_budget, environment_vars, estimate, parse_extra_vars, render
from ci.localcloud import LOCAL_ENVS
from ci.localcloud.endpoint import Moto
from ci.localcloud.inventory import ensure_ssh_key
from ci.runner import Stage, StepFailed


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Extra vars for the playbook (and the budget gate)."""
    parser.add_argument("-e", "--extra-vars", action="append", default=[], metavar="KEY=VALUE",
                        help="override an inventory variable (repeatable)")


def run(args: argparse.Namespace) -> int:
    """Refuse over budget; otherwise provision and report the recap's changed count."""
    stage = Stage("provision")
    variables: dict = {}

    def budget() -> str:
        try:
            variables.update(environment_vars(args.env, parse_extra_vars(args.extra_vars)))
            est = estimate(args.env, variables)
            check_budget(est)
        except (CostError, KeyError) as exc:
            raise StepFailed(f"refused before any AWS call: {exc}") from exc
        return render(est)

    if not stage.call("budget", budget).ok:
        return stage.finish()
    try:
        if args.env in LOCAL_ENVS:  # creating the environment: the local cloud's AWS API and key pair first
            Moto().up()
            ensure_ssh_key()
        env = aws_target(args.env, variables["aws_region"])
    except LocalCloudError as exc:
        stage.fail("local cloud", str(exc))
        return stage.finish()
    result = stage.command("ansible-playbook provision.yml",
                           playbook_argv(args.env, "provision.yml", args.extra_vars),
                           env={**ANSIBLE_ENV, **env}, stream=True)
    for recap in parse_recap(result.output):
        print(f"recap {recap.host}: ok={recap.ok} changed={recap.changed} failed={recap.failed}")
    return stage.finish()
