"""Runs last in tests/aws (file order): `ci teardown` removes the environment; nothing is left."""

from __future__ import annotations

import pytest
from conftest import ENV, run_stage

pytestmark = pytest.mark.skipif(ENV != "local", reason="the teardown check only removes the private local cloud")


def test_teardown_removes_everything(live):
    # the password of a tenant whose file is gone since: teardown finds it under the tenants' folder
    live.client("ssm").put_parameter(Name="/tiny-analytics/local/tenants/departed/etl_db_password",
                                     Value="departed-tenant-password", Type="SecureString")
    # and its role (provision removes it; one made behind its back): teardown finds it under the tenants' path
    live.admin_client("iam").create_role(
        RoleName="tiny-analytics-local-tenant-gone", Path="/tiny-analytics-local/tenants/",
        AssumeRolePolicyDocument='{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", '
                                 '"Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"}]}')
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
    profiles = live.client("iam").list_instance_profiles()["InstanceProfiles"]
    assert [p for p in profiles if p["InstanceProfileName"].startswith(prefix)] == []
    assert ec2.describe_key_pairs(Filters=[{"Name": "key-name", "Values": [prefix]}])["KeyPairs"] == []


def test_production_teardown_needs_confirmation(provisioned):
    run = run_stage(["teardown", "--env", "production"],
                    {**provisioned.stage_env, "AWS_ENDPOINT_URL": "http://127.0.0.1:9"})
    assert run.returncode != 0
    assert "refusing to remove production: run again with -e teardown_confirm=production" in run.stdout


def test_production_teardown_lifts_protection_keeps_a_snapshot_and_runs_twice(provisioned, tmp_path):
    """Production on the same private local cloud: deletion protection on (refused by RDS until lifted), a final
    snapshot with a unique id per teardown (DeleteDBInstance, FinalDBSnapshotIdentifier), and a second teardown
    that finds nothing left and passes."""
    prod = ["-e", "deploy_env=production", "-e", "db_deletion_protection=true"]  # as a user types it
    made = run_stage(["provision", "--env", "local", "-e", f"outputs_dir={tmp_path}", *prod], provisioned.stage_env)
    assert made.returncode == 0, made.stdout[-4000:]
    rds, db = provisioned.client("rds"), "tiny-analytics-production-db"
    assert rds.describe_db_instances(DBInstanceIdentifier=db)["DBInstances"][0]["DeletionProtection"] is True
    for attempt in (1, 2):
        run = run_stage(["teardown", "--env", "local", "--confirm", "production", *prod], provisioned.stage_env)
        assert run.returncode == 0, f"teardown {attempt}: " + run.stdout[-4000:]
    assert [d for d in rds.describe_db_instances()["DBInstances"] if d["DBInstanceIdentifier"] == db] == []
    snapshots = [s["DBSnapshotIdentifier"] for s in rds.describe_db_snapshots(DBInstanceIdentifier=db)["DBSnapshots"]]
    assert len(snapshots) == 1 and snapshots[0].startswith(f"{db}-final-"), snapshots
    ec2 = provisioned.client("ec2")
    assert ec2.describe_vpcs(Filters=[{"Name": "tag:Name", "Values": ["tiny-analytics-production"]}])["Vpcs"] == []
