"""`python -m ci promote --sha SHA --from staging --to production`: move exactly what was tested.

Refuses a SHA without a verification record on FROM (nothing is deployed then). Otherwise: fetch the
bundle from FROM's artifacts bucket, check it has the recorded digest, store the same bytes in TO's
artifacts bucket, deploy it to TO, run verify there, and append an audit record (who, when, what, from
which record, the result) to TO's artifacts bucket, also when a step failed.
"""

from __future__ import annotations

import argparse

from ci import bundle
from ci.cli import ENVIRONMENTS
from ci.platform import Platform, PlatformError
from ci.promotion import PromotionError, actor, build_url, now, read_verification, verification_key, write_audit
from ci.runner import Stage, StepFailed
from ci.stages.deploy import deploy_bundle
from ci.stages.verify import infra_tests, record_result


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """SHA, source and target."""
    parser.add_argument("--sha", required=True, help="the verified commit")
    parser.add_argument("--from", dest="source", default="staging", choices=ENVIRONMENTS,
                        help="the environment that verified it (default: %(default)s)")
    parser.add_argument("--to", dest="target", default="production", choices=ENVIRONMENTS,
                        help="the environment to deploy it to (default: %(default)s)")


def run(args: argparse.Namespace) -> int:
    """Check, copy, deploy, verify, audit."""
    stage = Stage("promote")
    if args.source == args.target:
        stage.fail("arguments", f"--from and --to are both {args.source}")
        return stage.finish()
    found: dict = {}

    def check() -> str:
        try:
            found["sha"] = bundle.resolve(args.sha)
            found["source"], found["target"] = Platform.load(args.source), Platform.load(args.target)
            found["record"] = read_verification(found["source"], found["sha"])
        except (bundle.BundleError, PlatformError, PromotionError) as exc:
            raise StepFailed(f"refused: {exc}") from exc
        record = found["record"]
        return f"{found['sha']} verified on {record['env']} at {record['verified_at']}, sha256 {record['sha256']}"

    def copy() -> str:
        source, target, record = found["source"], found["target"], found["record"]
        try:
            artifact = bundle.fetch(source.client("s3"), source.bucket("artifacts"), found["sha"], record["sha256"])
            bundle.upload(target.client("s3"), target.bucket("artifacts"), artifact)
            found["artifact"] = bundle.fetch(target.client("s3"), target.bucket("artifacts"), found["sha"],
                                             record["sha256"])
        except bundle.BundleError as exc:
            raise StepFailed(str(exc)) from exc
        return f"sha256 {artifact.digest} copied to s3://{target.bucket('artifacts')}/{artifact.key}"

    if not stage.call("verification record", check).ok:
        return stage.finish()
    ok = stage.call("copy the artifact", copy).ok
    ok = ok and deploy_bundle(stage, found["target"], found["artifact"]) == 0
    if ok:
        ok = infra_tests(stage, args.target)
        record_result(found["target"], ok)
    entry = {"action": "promote", "sha": found["sha"], "sha256": found["record"]["sha256"], "from_env": args.source,
             "to_env": args.target, "who": actor(), "when": now(), "build_url": build_url(),
             "verification_record": f"s3://{found['source'].bucket('artifacts')}/{verification_key(found['sha'])}",
             "verified_at": found["record"]["verified_at"], "result": "success" if ok else "failed"}
    stage.call("audit record", lambda: write_audit(found["target"], entry))
    return stage.finish()
