"""Runs last in tests/aws (file order): `ci teardown` removes the environment; nothing is left."""

from __future__ import annotations

import pytest
from conftest import ENV, run_stage

pytestmark = pytest.mark.skipif(ENV != "local", reason="the teardown check only removes the private local cloud")


def test_teardown_removes_everything(live):
    run = run_stage(["teardown", "--env", "local"], live.stage_env)
    live.torn_down = True
    assert run.returncode == 0, run.stdout[-4000:]
    ec2, prefix = live.client("ec2"), "tiny-analytics-local"
    assert ec2.describe_vpcs(Filters=[{"Name": "tag:Name", "Values": [prefix]}])["Vpcs"] == []
    states = [i["State"]["Name"] for r in ec2.describe_instances()["Reservations"] for i in r["Instances"]]
    assert set(states) <= {"terminated"}
    assert live.client("rds").describe_db_instances()["DBInstances"] == []
    assert live.client("s3").list_buckets()["Buckets"] == []
    assert live.client("ssm").describe_parameters()["Parameters"] == []
    assert [r for r in live.client("iam").list_roles()["Roles"] if r["RoleName"].startswith(prefix)] == []
    assert ec2.describe_key_pairs(Filters=[{"Name": "key-name", "Values": [prefix]}])["KeyPairs"] == []


def test_production_teardown_needs_confirmation(provisioned):
    run = run_stage(["teardown", "--env", "production"],
                    {**provisioned.stage_env, "AWS_ENDPOINT_URL": "http://127.0.0.1:9"})
    assert run.returncode != 0
    assert "refusing to remove production: run again with -e teardown_confirm=production" in run.stdout
