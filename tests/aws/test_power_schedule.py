"""The office-hours schedule's action: `ci power` stops and starts the host and the database.

Runs after test_policy.py (file order) on the private local cloud, and leaves everything running.
"""

from __future__ import annotations

import pytest
from conftest import ENV, run_stage

pytestmark = pytest.mark.skipif(ENV != "local", reason="stopping hosts is only exercised on the local cloud")


def _states(live) -> tuple[str, str]:
    prefix = "tiny-analytics-local"
    reservations = live.client("ec2").describe_instances(
        Filters=[{"Name": "tag:Name", "Values": [f"{prefix}-airflow"]}])["Reservations"]
    (instance,) = [i for r in reservations for i in r["Instances"] if i["State"]["Name"] != "terminated"]
    db = live.client("rds").describe_db_instances(DBInstanceIdentifier=f"{prefix}-db")["DBInstances"][0]
    return instance["State"]["Name"], db["DBInstanceStatus"]


def test_stop_then_start(live):
    stop = run_stage(["power", "--env", "local", "--state", "stopped"], live.stage_env)
    assert stop.returncode == 0, stop.stdout[-3000:]
    assert _states(live) == ("stopped", "stopped")
    start = run_stage(["power", "--env", "local", "--state", "running"], live.stage_env)
    assert start.returncode == 0, start.stdout[-3000:]
    assert _states(live) == ("running", "available")
