"""Deployed DAGs run: after `make deploy`, acme's ETL DAG runs its scheduled run and the analytics DAG it feeds
runs from the asset, without anyone unpausing or triggering anything; `make verify` names a DAG whose paused
flag differs from its tenant file.

The test starts from the state Airflow leaves a first deploy in (new DAGs are paused) and that an older
deploy of this project left every DAG in: both acme DAGs paused, and the most recent tick of the ETL's
schedule not run yet (its scheduled run, if an earlier unpause made one, is deleted; the DAG processor then
schedules that tick again). Then the only actions are the user's: `ci verify`, `ci deploy`, `ci verify`.
"""

from __future__ import annotations

import datetime as dt
import time

import pytest
from stage_cli import ci

from ci.airflow_api import AirflowApi, admin_login
from ci.platform import Platform
from ci.stages.seed import upload_sample_day

pytestmark = [pytest.mark.slow, pytest.mark.usefixtures("local_cloud")]

ETL, ANALYTICS = "tenant_etl__acme", "tenant_analytics__acme"
RUN_WAIT_SECONDS = 900.0


@pytest.fixture(scope="module")
def platform() -> Platform:
    return Platform.load("local")


@pytest.fixture(scope="module")
def api(platform) -> AirflowApi:
    return admin_login(platform)


def new_run(api: AirflowApi, dag_id: str, run_type: str, known: set[str], wait: float) -> dict:
    """The first run of dag_id of run_type whose id is not in known, once the scheduler has made it."""
    deadline = time.monotonic() + wait
    while True:
        runs = [r for r in api.dag_runs(dag_id, run_type) if r["dag_run_id"] not in known]
        if runs:
            return runs[-1]
        assert time.monotonic() < deadline, f"no new {run_type} run of {dag_id} within {wait:.0f} s"
        time.sleep(5)


def paused(api: AirflowApi, dag_id: str) -> bool:
    return api.dag_details(dag_id)["is_paused"]


def test_a_deploy_makes_the_acme_dags_run_on_their_own(api, platform):
    # The state a first deploy meets: both DAGs paused, the latest tick of the ETL's schedule not run.
    for dag_id in (ETL, ANALYTICS):
        api.set_paused(dag_id, True)
    # The latest complete daily interval started less than two days ago.
    latest = dt.datetime.now(dt.UTC) - dt.timedelta(days=2)
    for run in api.dag_runs(ETL, "scheduled"):
        if dt.datetime.fromisoformat(run["logical_date"]) > latest:
            api.call("DELETE", f"/dags/{ETL}/dagRuns/{run['dag_run_id']}")
    # The day the latest interval loads (`ds`) is yesterday (or the day before, early in the day): deliver both.
    today = dt.datetime.now(dt.UTC).date()
    for day in (today - dt.timedelta(days=2), today - dt.timedelta(days=1)):
        upload_sample_day(platform, day, 200)
    known = {r["dag_run_id"] for dag_id in (ETL, ANALYTICS) for r in api.dag_runs(dag_id)}

    before = ci("verify", "--env", "local")
    assert before.code != 0, before.output
    assert f"2 DAG(s) not paused as their file declares: {ANALYTICS}, {ETL}" in before.output, before.output

    deployed = ci("deploy", "--env", "local")
    assert deployed.code == 0, deployed.output
    assert not paused(api, ETL) and not paused(api, ANALYTICS), "deploy left an active tenant's DAGs paused"

    started = time.monotonic()
    scheduled = new_run(api, ETL, "scheduled", known, wait=300)
    assert api.wait_for_run(ETL, scheduled["dag_run_id"], wait=RUN_WAIT_SECONDS) == "success", \
        api.task_states(ETL, scheduled["dag_run_id"])
    etl_seconds = time.monotonic() - started
    fed = new_run(api, ANALYTICS, "asset_triggered", known, wait=180)
    assert api.wait_for_run(ANALYTICS, fed["dag_run_id"], wait=RUN_WAIT_SECONDS) == "success", \
        api.task_states(ANALYTICS, fed["dag_run_id"])
    print(f"{ETL} {scheduled['dag_run_id']} succeeded {etl_seconds:.0f} s after the deploy, "
          f"{ANALYTICS} {fed['dag_run_id']} {time.monotonic() - started:.0f} s after it")
    # Nobody unpaused or triggered anything: both runs were made by the scheduler.
    assert (scheduled["triggered_by"], fed["triggered_by"]) == ("timetable", "asset")

    after = ci("verify", "--env", "local")
    assert after.code == 0, after.output
    assert "all are in it" in after.output
