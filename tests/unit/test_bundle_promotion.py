"""DAG bundles and promotion records, against an in-process moto S3 (no services)."""

from __future__ import annotations

import json

import boto3
import pytest
from moto import mock_aws

from ci import bundle, promotion
from ci.platform import Platform

REGION = "us-east-1"


@pytest.fixture
def platform(monkeypatch, tmp_path):
    monkeypatch.setattr(bundle, "BUNDLE_DIR", tmp_path / "bundles")
    with mock_aws():
        s3 = boto3.client("s3", region_name=REGION)
        for env in ("local", "local-prod"):
            s3.create_bucket(Bucket=f"artifacts-{env}")
        yield lambda env: Platform(env, {"aws_region": REGION, "buckets": {"artifacts": f"artifacts-{env}"}}, {})


def test_the_same_commit_gives_the_same_bytes():
    sha = bundle.resolve("HEAD")
    first, second = bundle.build(sha), bundle.build(sha)
    assert first.digest == second.digest and len(first.digest) == 64
    assert first.path.read_bytes()[:2] == b"\x1f\x8b"


def test_unknown_ref_is_named():
    with pytest.raises(bundle.BundleError, match="'no-such-ref' is not a commit"):
        bundle.resolve("no-such-ref")


def test_upload_is_idempotent_and_never_replaces_an_artifact(platform, tmp_path):
    s3 = platform("local").client("s3")
    built = bundle.build(bundle.resolve("HEAD"))
    assert bundle.upload(s3, "artifacts-local", built) is True
    assert bundle.upload(s3, "artifacts-local", built) is False
    impostor = bundle.Bundle(built.sha, "0" * 64, built.path)
    with pytest.raises(bundle.BundleError, match="never replaced"):
        bundle.upload(s3, "artifacts-local", impostor)


def test_fetch_refuses_a_digest_that_differs(platform):
    s3 = platform("local").client("s3")
    built = bundle.build(bundle.resolve("HEAD"))
    bundle.upload(s3, "artifacts-local", built)
    assert bundle.fetch(s3, "artifacts-local", built.sha, built.digest).digest == built.digest
    with pytest.raises(bundle.BundleError, match="refusing it"):
        bundle.fetch(s3, "artifacts-local", built.sha, "f" * 64)
    with pytest.raises(bundle.BundleError, match="never deployed there"):
        bundle.fetch(s3, "artifacts-local", "a" * 40)


def test_unverified_sha_is_refused_with_where_it_looked(platform):
    with pytest.raises(promotion.PromotionError, match=r"no verification record in s3://artifacts-local/"):
        promotion.read_verification(platform("local"), "b" * 40)


def test_verification_and_audit_records_round_trip(platform, monkeypatch):
    monkeypatch.setenv("PROMOTED_BY", "alice")
    monkeypatch.setenv("BUILD_URL", "https://jenkins.example/job/promote/7/")
    source = platform("local")
    deployed = {"sha": "c" * 40, "sha256": "d" * 64}
    where = promotion.write_verification(source, deployed, {"tests": 20, "failures": 0}, {"result": "success"})
    assert where == f"s3://artifacts-local/verifications/{'c' * 40}.json"
    record = promotion.read_verification(source, "c" * 40)
    assert record["sha256"] == "d" * 64 and record["build_url"].endswith("/7/")
    target = platform("local-prod")
    promotion.write_audit(target, {"sha": "c" * 40, "who": promotion.actor(), "result": "success"})
    assert [entry["who"] for entry in promotion.audit_records(target)] == ["alice"]
    assert json.loads(json.dumps(record))["tests"]["verify"]["failures"] == 0


@pytest.mark.parametrize("operation", ["head_object", "get_object"])
def test_a_refused_s3_call_is_one_line_not_a_traceback(platform, operation):
    """403 (credentials, a bucket policy): a BundleError naming the object and what to check."""
    from botocore.stub import Stubber

    s3 = platform("local").client("s3")
    built = bundle.build(bundle.resolve("HEAD"))
    with Stubber(s3) as stub:
        stub.add_client_error(operation, service_error_code="403", service_message="Forbidden", http_status_code=403)
        refused = r"cannot read s3://artifacts-local/bundles/.*: 403 .*check the AWS"
        with pytest.raises(bundle.BundleError, match=refused):
            if operation == "head_object":
                bundle.upload(s3, "artifacts-local", built)
            else:
                bundle.fetch(s3, "artifacts-local", built.sha)
