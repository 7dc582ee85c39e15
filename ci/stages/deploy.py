"""`python -m ci deploy --env ENV [--sha REF]`: one commit's DAG bundle onto the environment's hosts.

The bundle is built from the commit (not the work tree), stored in the artifacts bucket, fetched back with
its digest checked, and unpacked by ansible/deploy.yml into a release folder behind an atomic symlink.
Uncommitted changes under dags/ are named, since they are not in what is deployed (`make dev` deploys the
work tree on the local default).
"""

from __future__ import annotations

import argparse
import datetime as dt
import time

from ci import bundle, dag_states
from ci.ansible import run_playbook_stage
from ci.platform import Platform, load_for_stage
from ci.runner import Stage, StepFailed


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Which commit."""
    parser.add_argument("--sha", default="HEAD", help="commit to deploy (default: HEAD)")


DEPLOYED = "deployed"  # the environment's record of what the last deploy put on its hosts (read by verify).
# `sha` is the release folder's name: the commit, or dev-... for a dev release, which also carries `dev: true`,
# its base commit and dirty flag.


def deploy_bundle(stage: Stage, platform: Platform, artifact: bundle.Bundle | bundle.DevBundle) -> int:
    """Run deploy.yml with a fetched, digest-checked bundle; record it for verify; for a commit's release, wait
    for the DAG processor to parse it and pause or unpause each DAG as its file declares (ci.dag_states). A dev
    release (`make dev`) waits for its parse itself and leaves paused flags alone. 0 on success."""
    extra = [f"dag_bundle_sha={artifact.sha}", f"dag_bundle_digest={artifact.digest}",
             f"dag_bundle_file={artifact.path}"]
    if artifact.release != artifact.sha:
        extra.append(f"dag_bundle_release_name={artifact.release}")
    if run_playbook_stage("deploy", platform.env, "deploy.yml", extra, stage=stage) != 0:
        return 1
    platform.write_record(DEPLOYED, {"sha": artifact.release, "sha256": artifact.digest,
                                     "deployed_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
                                     **artifact.deployed_fields()})
    if isinstance(artifact, bundle.DevBundle):
        return 0
    return 0 if dag_states.apply_after_switch(stage, platform, artifact.path, dt.datetime.now(dt.UTC)) else 1


def uncommitted_warning(sha: str, changes: list[bundle.Change]) -> str:
    """The lines naming uncommitted changes under dags/ that a deploy of sha leaves out ("" when none)."""
    if not changes:
        return ""
    lines = [f"warning: {len(changes)} uncommitted change(s) under dags/ are not in this deploy: it deploys commit "
             f"{sha[:12]}, not the working tree"]
    lines += [f"  {change}" for change in changes]
    lines.append("commit them to deploy them (or try them on the local default first with `make dev`)")
    return "\n".join(lines)


def run(args: argparse.Namespace) -> int:
    """Build, store, fetch back, deploy."""
    stage = Stage("deploy")
    commit: list[str] = []

    def resolve() -> str:  # bad input is refused before the environment is touched
        try:
            commit.append(bundle.resolve(args.sha))
            warning = uncommitted_warning(commit[0], bundle.uncommitted_changes())
        except bundle.BundleError as exc:
            raise StepFailed(str(exc)) from exc
        return "\n".join(filter(None, [commit[0], warning]))

    if not stage.call("commit", resolve).ok:
        return stage.finish()
    if "\n" in stage.results[-1].output:
        print("\n".join(f"  {line}" for line in stage.results[-1].output.splitlines()[1:]))
    platform = load_for_stage(stage, args.env)
    if platform is None:
        return stage.finish()
    s3 = platform.client("s3")
    bucket = platform.bucket("artifacts")
    fetched: list[bundle.Bundle] = []

    def build_and_store() -> str:
        try:
            built = bundle.build(commit[0])
            stored = bundle.upload(s3, bucket, built)
            fetched.append(bundle.fetch(s3, bucket, built.sha, built.digest))
        except bundle.BundleError as exc:
            raise StepFailed(str(exc)) from exc
        verb = "stored" if stored else "already stored"
        return f"{built.sha[:12]} sha256 {built.digest} {verb} in s3://{bucket}/{built.key}"

    if stage.call("bundle", build_and_store).ok:
        print(f"  {stage.results[-1].output}")
        deploy_bundle(stage, platform, fetched[0])
    return stage.finish()
