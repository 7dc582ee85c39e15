"""`python -m ci smoke --env ENV [--tenant T]`: the platform does its job end to end.

Seeds a day of sample data into the raw bucket, triggers the tenant's ETL DAG through the Airflow REST
API (logged in as the admin whose password is in the secret store), waits for the run, and checks in the
warehouse, from the Airflow host with the DAGs' own connection, that every loaded row is there and that
rows in = loaded + quarantined.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import time

from ci.airflow_api import AirflowApi, AirflowApiError, UiEndpoint, ui_endpoint
from ci.browser_check import BrowserCheckError, check_ui
from ci.host_exec import WAREHOUSE_CONNECT, airflow_host, airflow_python
from ci.paths import reports_dir
from ci.platform import PlatformError, load_for_stage
from ci.promotion import VERIFIED, PromotionError, write_verification
from ci.runner import Stage, StepFailed
from ci.stages.deploy import DEPLOYED
from ci.stages.seed import upload_sample_day

# Runs on the Airflow host: the run's etl.etl_runs rows, each with the rows actually in its partition.
_RUN_RECORDS = """
import sys
sys.path.insert(0, '/opt/airflow/current/dags')
from pathlib import Path
from tiny_etl.tenant import load_tenant, tenants_folder
tenant = load_tenant(tenants_folder(Path('/opt/airflow/current/dags')) / (TENANT + '.yml'))
cur = conn.cursor()
cur.execute('select source, rows_in, rows_loaded, rows_quarantined, status from etl.etl_runs where run_id = %s',
            (RUN_ID,))
out = []
for source, rows_in, loaded, quarantined, status in cur.fetchall():
    table = next(s.table for s in tenant.sources if s.name == source)
    cur.execute(f'select count(*) from {tenant.schema}.{table} where ds = %s', (DAY,))
    out.append(dict(source=source, rows_in=rows_in, rows_loaded=loaded, rows_quarantined=quarantined,
                    status=status, rows_in_table=cur.fetchone()[0]))
print(json.dumps(out))
"""
WAREHOUSE_CHECK = WAREHOUSE_CONNECT + _RUN_RECORDS


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Which tenant and day."""
    parser.add_argument("--tenant", default="acme", help="tenant whose ETL DAG runs (default: %(default)s)")
    parser.add_argument("--day", type=dt.date.fromisoformat, default=dt.date.today() - dt.timedelta(days=1),
                        help="the day of sample data, on or after the tenant's start_date (default: yesterday)")
    parser.add_argument("--rows", type=int, default=200, help="rows per sample file")


def run(args: argparse.Namespace) -> int:
    """Seed, trigger, wait, check the warehouse."""
    stage = Stage("smoke")
    platform = load_for_stage(stage, args.env)
    if platform is None:
        return stage.finish()
    dag_id = f"tenant_etl__{args.tenant}"
    run_id = f"smoke__{time.strftime('%Y%m%dT%H%M%S')}"
    api: list[AirflowApi] = []
    endpoints: list[UiEndpoint] = []

    def seed() -> str:
        try:
            return "\n".join(upload_sample_day(platform, args.day, args.rows))
        except PlatformError as exc:
            raise StepFailed(str(exc)) from exc

    def trigger() -> str:
        try:
            endpoint = ui_endpoint(platform)
            endpoints.append(endpoint)  # the browser uses the same: one SSM and one EC2 read per smoke
            session = AirflowApi.login(endpoint.url, "admin", platform.secret("airflow_admin_password"),
                                       verify=endpoint.verify)
            api.append(session)
            session.wait_for_dag(dag_id)
            session.trigger_day(dag_id, run_id, args.day)  # `ds` (the day the ETL reads) is args.day
        except (AirflowApiError, PlatformError) as exc:
            raise StepFailed(str(exc)) from exc
        return f"{dag_id} run {run_id} for {args.day}"

    def browser() -> str:
        dag_ids = [f"tenant_etl__{args.tenant}", f"tenant_analytics__{args.tenant}"]
        try:
            endpoint = endpoints[0] if endpoints else ui_endpoint(platform)
            seen = check_ui(endpoint.url, "admin", platform.secret("airflow_admin_password"), dag_ids,
                            reports_dir() / f"airflow-ui-{args.env}.png", ca_file=endpoint.ca_file)
        except (BrowserCheckError, PlatformError) as exc:
            raise StepFailed(str(exc)) from exc
        return f"chromium logged in and saw {', '.join(dag_ids)} in {seen.seconds:.1f} s; {seen.screenshot}"

    def wait() -> str:
        try:
            state = api[0].wait_for_run(dag_id, run_id)
            tasks = api[0].task_states(dag_id, run_id)
        except AirflowApiError as exc:
            raise StepFailed(str(exc)) from exc
        summary = ", ".join(f"{task}={state}" for task, state in sorted(tasks.items()))
        if not tasks:
            raise StepFailed(f"{dag_id} run {run_id} ran no task: is {args.day} before the tenant's start_date?")
        if state != "success":
            raise StepFailed(f"{dag_id} run {run_id} ended {state}: {summary}")
        return summary

    def warehouse() -> str:
        code = f"TENANT = {args.tenant!r}\nRUN_ID = {run_id!r}\nDAY = {args.day.isoformat()!r}\n" + WAREHOUSE_CHECK
        rows = json.loads(airflow_python(airflow_host(args.env), code).strip().splitlines()[-1])
        if not rows:
            raise StepFailed(f"no etl.etl_runs rows for run {run_id}: the run recorded nothing")
        for row in rows:
            if row["rows_in_table"] != row["rows_loaded"] or row["rows_in"] != row["rows_loaded"] + row[
                    "rows_quarantined"] or row["rows_loaded"] == 0:
                raise StepFailed(f"warehouse counts do not reconcile for {row['source']}: {row}")
        return "\n".join(f"{r['source']}: in {r['rows_in']} = loaded {r['rows_loaded']} + quarantined "
                         f"{r['rows_quarantined']}; {r['rows_in_table']} rows in the table" for r in rows)

    def record() -> str:
        deployed, verified = platform.read_record(DEPLOYED), platform.read_record(VERIFIED)
        if not deployed or not verified or verified.get("sha256") != deployed["sha256"] or not verified["passed"]:
            raise StepFailed(f"verify has not passed for the bundle deployed to {args.env}: no verification record "
                             f"(run `make verify ENV={args.env}` first)")
        smoke = {"dag_id": dag_id, "run_id": run_id, "day": args.day.isoformat(), "result": "success"}
        try:  # a dev release (`make dev`) is refused: it never gets a record, so it can never be promoted
            return "verification record " + write_verification(platform, deployed, verified["tests"], smoke)
        except PromotionError as exc:
            raise StepFailed(str(exc)) from exc

    steps = (("seed", seed), ("trigger", trigger), ("browser", browser), ("wait for the run", wait),
             ("warehouse", warehouse), ("verification record", record))
    for name, step in steps:
        result = stage.call(name, step)
        if not result.ok:
            break
        print("\n".join(f"    {line}" for line in result.output.splitlines()))
    return stage.finish()
