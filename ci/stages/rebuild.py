"""`python -m ci rebuild --env ENV [--limit HOSTS] [--check]`: re-run site.yml (the rebuild/drift jobs).

`--check` runs it check-only with a diff and fails when anything would change: a drifted server. A real
rebuild leaves an audit record in the environment (who approved it, what commit's playbooks, the result),
beside the promotions' records.
"""

from __future__ import annotations

import argparse

from botocore.exceptions import ClientError

from ci import bundle
from ci.ansible import run_playbook_stage
from ci.platform import Platform, PlatformError
from ci.promotion import actor, build_url, now, write_audit
from ci.runner import Stage, StepFailed
from ci.stages.configure import limit_option, preflight


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """--limit and --check."""
    parser.add_argument("--limit", help="only these hosts or groups")
    parser.add_argument("--check", action="store_true", help="check-only with --diff; fail on drift")


def run(args: argparse.Namespace) -> int:
    """Converge (or check) the environment's hosts."""
    stage = Stage("rebuild")
    reason = preflight(args.env)
    if reason:
        return stage.refuse("preflight", reason)
    options = limit_option(args.limit) + (["--check", "--diff"] if args.check else [])
    converged = run_playbook_stage("rebuild", args.env, "site.yml", [], options, stage=stage) == 0
    if not args.check:
        entry = {"action": "rebuild", "env": args.env, "sha": bundle.resolve("HEAD"), "limit": args.limit or "all",
                 "who": actor(), "when": now(), "build_url": build_url(),
                 "result": "success" if converged else "failed"}

        def audit() -> str:
            try:
                return write_audit(Platform.load(args.env), entry)
            except (PlatformError, ClientError) as exc:
                raise StepFailed(f"the rebuild ran, but its audit record could not be written: {exc}") from exc

        stage.call("audit record", audit)
    if converged and args.check:
        from ci.ansible import parse_recap

        drifted = [r.host for r in parse_recap(stage.results[-1].output) if r.changed]

        def drift() -> str:
            if drifted:
                raise StepFailed(f"drift on {', '.join(drifted)}: the servers differ from the playbooks (see the diff)")
            return "no drift"

        stage.call("drift", drift)
    return stage.finish()
