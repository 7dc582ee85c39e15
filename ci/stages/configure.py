"""`python -m ci configure --env ENV`: ansible/site.yml on the environment's hosts."""

from __future__ import annotations

import argparse

from ci.ansible import run_playbook_stage
from ci.localcloud import LOCAL_ENVS
from ci.localcloud.inventory import inventory_file
from ci.platform import Platform, PlatformError
from ci.runner import Stage


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Extra vars and the usual ansible-playbook narrowing."""
    parser.add_argument("-e", "--extra-vars", action="append", default=[], metavar="KEY=VALUE")
    parser.add_argument("--limit", help="only these hosts or groups (ansible-playbook --limit)")
    parser.add_argument("--tags", help="only the tasks with these tags (ansible-playbook --tags)")


def limit_option(limit: str | None) -> list[str]:
    """`--limit` for site.yml: the named hosts plus localhost, whose first play loads the platform facts."""
    return ["--limit", f"{limit},localhost"] if limit else []


def preflight(env: str) -> str | None:
    """Why site.yml cannot run yet, or None. Reads the environment's outputs from the environment (which also
    refreshes the local cache site.yml reads), so any workspace can configure a provisioned environment."""
    try:
        Platform.load(env)
    except PlatformError as exc:
        return str(exc)
    if env in LOCAL_ENVS and not inventory_file(env).exists():
        return "the local hosts are not running: run `python -m ci localcloud up` (part of `make up`)"
    return None


def run(args: argparse.Namespace) -> int:
    """Converge the hosts; the recap's changed count is printed per host."""
    reason = preflight(args.env)
    if reason:
        return Stage("configure").refuse("preflight", reason)
    tags = ["--tags", args.tags] if args.tags else []
    return run_playbook_stage("configure", args.env, "site.yml", args.extra_vars, limit_option(args.limit) + tags)
