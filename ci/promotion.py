"""Verification and audit records: what makes a commit promotable, and the trail a promotion leaves.

A verification record says: this commit's bundle (by digest) passed verify and smoke on an environment.
It is written by smoke, after verify passed for the same digest, to that environment's artifacts bucket
(`verifications/<sha>.json`). A promotion reads it, moves exactly that digest, and writes an audit record
(`audit/<time>-<sha>.json`) to the target's artifacts bucket, whether it succeeded or not. A dev release
(`make dev`: the work tree, not a commit) never gets a verification record, so it can never be promoted.
"""

from __future__ import annotations

import getpass
import json
import os
import re
import time

from botocore.exceptions import ClientError

from ci.platform import Platform

COMMIT_SHA = re.compile(r"[0-9a-f]{40}")


class PromotionError(RuntimeError):
    """A promotion was refused (no record, digest mismatch) — nothing was deployed."""


def is_dev_release(deployed: dict) -> bool:
    """True for a dev release: marked `dev` by `make dev`, or a release folder that is no commit SHA (what
    `make rollback` records when it returns to a dev release)."""
    return bool(deployed.get("dev")) or not COMMIT_SHA.fullmatch(str(deployed.get("sha", "")))


def now() -> str:
    """UTC time as ISO 8601."""
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())


def verification_key(sha: str) -> str:
    """Object key of sha's verification record."""
    return f"verifications/{sha}.json"


VERIFIED = "verified"  # the environment's record of verify's result for the bundle deployed there (smoke turns a
# pass into the verification record)


def build_url() -> str | None:
    """The Jenkins build this runs in, if any."""
    return os.environ.get("BUILD_URL")


def actor() -> str:
    """Who acts: the approver Jenkins passes (the input's submitterParameter, kept by the approval stage as
    APPROVED_BY; `make promote APPROVER=` as PROMOTED_BY), the build's user, or the local user."""
    return (os.environ.get("APPROVED_BY") or os.environ.get("PROMOTED_BY") or os.environ.get("BUILD_USER_ID")
            or getpass.getuser())


def write_verification(platform: Platform, deployed: dict, verify: dict, smoke: dict) -> str:
    """Store the verification record for the deployed bundle; its s3:// address. PromotionError for a dev
    release: only a commit's bundle can be verified, hence promoted."""
    if is_dev_release(deployed):
        what = (f"a dev release (the work tree on {str(deployed['base_sha'])[:12]})" if deployed.get("base_sha")
                else "not a commit's release")
        raise PromotionError(f"{deployed.get('sha')} on {platform.env} is {what}: it gets no verification record, "
                             f"so it can never be promoted; `make deploy ENV={platform.env}` deploys a commit to "
                             "verify")
    record = {"sha": deployed["sha"], "sha256": deployed["sha256"], "env": platform.env, "verified_at": now(),
              "build_url": build_url(), "tests": {"verify": verify, "smoke": smoke}}
    bucket = platform.bucket("artifacts")
    platform.client("s3").put_object(Bucket=bucket, Key=verification_key(deployed["sha"]),
                                     Body=json.dumps(record, indent=2).encode())
    return f"s3://{bucket}/{verification_key(deployed['sha'])}"


def read_verification(platform: Platform, sha: str) -> dict:
    """sha's verification record on platform; PromotionError when there is none."""
    bucket = platform.bucket("artifacts")
    try:
        body = platform.client("s3").get_object(Bucket=bucket, Key=verification_key(sha))["Body"].read()
    except ClientError as exc:
        if exc.response["Error"]["Code"] in ("NoSuchKey", "404"):
            raise PromotionError(f"{sha} has no verification record in s3://{bucket}/{verification_key(sha)}: "
                                 f"it did not pass verify and smoke on {platform.env}; nothing was deployed") from exc
        raise
    record = json.loads(body)
    if record.get("sha") != sha or len(record.get("sha256", "")) != 64:
        raise PromotionError(f"the verification record of {sha} on {platform.env} is malformed: {record}")
    return record


def write_audit(platform: Platform, entry: dict) -> str:
    """Append one audit record to the target environment's artifacts bucket; its s3:// address."""
    bucket = platform.bucket("artifacts")
    key = f"audit/{time.strftime('%Y%m%dT%H%M%SZ', time.gmtime())}-{entry['sha'][:12]}.json"
    platform.client("s3").put_object(Bucket=bucket, Key=key, Body=json.dumps(entry, indent=2).encode())
    return f"s3://{bucket}/{key}"


def audit_records(platform: Platform) -> list[dict]:
    """Every audit record of the environment, oldest first."""
    s3 = platform.client("s3")
    bucket = platform.bucket("artifacts")
    keys = sorted(obj["Key"] for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix="audit/")
                  for obj in page.get("Contents", []))
    return [json.loads(s3.get_object(Bucket=bucket, Key=key)["Body"].read()) for key in keys]
