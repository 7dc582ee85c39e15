"""The promotion path on the local cloud: `local` plays staging, `local-prod` plays production (its own
host, database, buckets and secrets). Runs after test_1_pipeline.py, which verified HEAD on `local` from the
push job's workspace; the promote and office-hours jobs run from their own fresh workspaces. The `production`
fixture (conftest.py) is built beside the earlier tests."""

from __future__ import annotations

import pytest
from stage_cli import ci

from ci.bundle import resolve
from ci.platform import Platform
from ci.promotion import audit_records, read_verification
from ci.stages.rollback import current_release

pytestmark = [pytest.mark.slow, pytest.mark.usefixtures("local_cloud")]


def test_unverified_sha_is_refused_and_nothing_is_deployed(production, workspace):
    before = current_release("local-prod")
    run = ci("promote", "--sha", "HEAD~1", "--from", "local", "--to", "local-prod", workspace=workspace("promote"))
    assert run.code != 0
    assert "no verification record" in run.output and "nothing was deployed" in run.output
    assert current_release("local-prod") == before


def test_verified_sha_reaches_production_with_the_same_digest(production, monkeypatch, workspace):
    previous = ci("deploy", "--env", "local-prod", "--sha", "HEAD~1")  # what production ran before
    assert previous.code == 0, previous.output
    record = read_verification(Platform.load("local"), resolve("HEAD"))  # smoke verified HEAD on local
    monkeypatch.setenv("PROMOTED_BY", "platform-lead")
    run = ci("promote", "--sha", record["sha"], "--from", "local", "--to", "local-prod", workspace=workspace("promote"))
    assert run.code == 0, run.output
    assert current_release("local-prod") == {"sha": record["sha"], "sha256": record["sha256"]}
    audit = audit_records(production)[-1]
    assert (audit["action"], audit["who"], audit["sha256"], audit["from_env"], audit["result"]) == (
        "promote", "platform-lead", record["sha256"], "local", "success")
    assert audit["verification_record"].endswith(f"/verifications/{record['sha']}.json")


def test_production_rollback_restores_the_previous_digest(production):
    promoted = current_release("local-prod")
    run = ci("rollback", "--env", "local-prod")
    assert run.code == 0, run.output
    restored = current_release("local-prod")
    assert restored["sha256"] != promoted["sha256"]
    assert restored["sha"] == resolve("HEAD~1")



def test_office_hours_stop_and_start_staging_from_their_own_workspace(workspace):
    """The office-hours job (`make power`) in a fresh workspace: it finds the environment's host and database
    through the environment alone. Leaves them running."""
    ec2, rds = (Platform.load("local").client(s) for s in ("ec2", "rds"))
    for state, db_status in (("stopped", "stopped"), ("running", "available")):
        run = ci("power", "--env", "local", "--state", state, workspace=workspace("office-hours"))
        assert run.code == 0, run.output
        reservations = ec2.describe_instances(
            Filters=[{"Name": "tag:Name", "Values": ["tiny-analytics-local-airflow"]}])["Reservations"]
        assert {i["State"]["Name"] for r in reservations for i in r["Instances"]} - {"terminated"} == {state}
        db = rds.describe_db_instances(DBInstanceIdentifier="tiny-analytics-local-db")["DBInstances"][0]
        assert db["DBInstanceStatus"] == db_status
