"""`python -m ci jenkins sync [--dry-run] | promote SHA --to ENV | status`: Jenkins from the command line.

URL, user and API token come from JENKINS_URL, JENKINS_USER, JENKINS_API_TOKEN only.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path

from ci.jenkins.client import PROMOTE_JOB, Client, JenkinsError, Settings
from ci.jenkins.render import RenderError, render


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Sub-commands."""
    subs = parser.add_subparsers(dest="action", required=True)
    sync = subs.add_parser("sync", help="create or update the jobs of jobs/ on the controller")
    sync.add_argument("--dry-run", action="store_true", help="only say what would be created or changed")
    promote = subs.add_parser("promote", help="run the promotion job for a commit and follow it")
    promote.add_argument("sha", help="the commit (40 hex digits) that passed staging")
    promote.add_argument("--to", dest="target", default="production", choices=("production",))
    subs.add_parser("status", help="every job and the state of its last build")


def _render(out: Path) -> None:
    try:
        render(out)
    except RenderError as exc:
        raise JenkinsError(f"jenkins-jobs could not render jobs/: {exc}") from exc


def _promote(client: Client, sha: str, target: str) -> int:
    if len(sha) != 40 or any(c not in "0123456789abcdef" for c in sha):
        raise JenkinsError(f"{sha!r} is not a full commit SHA (40 lower-case hex digits)")
    number = client.start(PROMOTE_JOB, {"SHA": sha, "TARGET": target})
    print(f"{PROMOTE_JOB} #{number} started", flush=True)
    for text in client.console(PROMOTE_JOB, number):
        sys.stdout.write(text)
        sys.stdout.flush()
    result = client.result(PROMOTE_JOB, number)
    print(f"{PROMOTE_JOB} #{number}: {result}")
    return 0 if result == "SUCCESS" else 1


def run(args: argparse.Namespace) -> int:
    """Dispatch; every failure is one line and exit code 1 (2 for a usage error)."""
    try:
        client = Client(Settings.from_env(), poll=float(os.environ.get("JENKINS_POLL_SECONDS", "1")))
        if args.action == "sync":
            with tempfile.TemporaryDirectory(prefix="jjb-") as tmp:
                _render(Path(tmp))
                plan = client.sync(Path(tmp), dry_run=args.dry_run)
            for name, action in plan:
                verb = {"create": "would create", "update": "would update"}.get(action, action) if args.dry_run \
                    else {"create": "created", "update": "updated"}.get(action, action)
                print(f"{verb:12} {name}")
            return 0
        if args.action == "promote":
            return _promote(client, args.sha, args.target)
        for job in client.status():
            print(f"{job.get('color', '-'):12} {job.get('fullname', job['name'])}")
        return 0
    except JenkinsError as exc:
        print(f"jenkins {args.action} failed: {exc}")
        return 1
