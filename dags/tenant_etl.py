"""ETL of every tenant: one DAG per file in dags/tenants/ (dag_id `tenant_etl__<tenant>`).

Per source and day: validate the raw files (bad rows and bad files to quarantine, with reasons) →
transform (dedupe on the key, derived columns) → load (COPY and swap the day's partition in one
transaction) → check quality and record the run in etl.etl_runs. The load updates the asset
`warehouse://tenant_<tenant>/<table>`, which starts the tenant's analytics DAG. Every warehouse task runs as
the tenant's own role (connection `warehouse_<tenant>`): it reaches the tenant's schema and its own rows of the
shared tables, nothing of another tenant.
A tenant file that does not parse is skipped here (its error is logged) and fails `make unit`.

Paused or running: the DAG of an `active` tenant (the default) is created unpaused, an inactive tenant's
paused (`is_paused_upon_creation`); `make deploy` sets an existing DAG's flag to match its tenant file and
`make verify` checks it. The tenant's cron schedule is a data interval (in UTC) with catchup off: a run
starts when its interval ends and loads the interval's first day (`ds`: the 03:00 run on the 27th loads the
26th); once unpaused, a DAG whose latest complete interval has no run yet runs it at once, as a *scheduled*
run, then one run per interval; missed older intervals are not run.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from airflow.sdk import DAG, TaskGroup, task
from airflow.timetables.interval import CronDataIntervalTimetable

from tiny_etl.assets import source_asset
from tiny_etl.tenant import Source, Tenant, tenants_folder, valid_tenants

TENANTS = tenants_folder(Path(__file__).parent)


def _source_tasks(tenant: Tenant, source: Source) -> None:
    @task(task_id="validate")
    def validate(ds: str | None = None) -> dict:
        from tiny_etl.airflow_io import S3Storage
        from tiny_etl.pipeline import validate_day

        return validate_day(S3Storage(tenant.aws_conn_id), tenant, source, dt.date.fromisoformat(ds))

    @task(task_id="transform")
    def transform(counts: dict, ds: str | None = None) -> dict:
        from tiny_etl.airflow_io import S3Storage
        from tiny_etl.pipeline import transform_day

        return transform_day(S3Storage(tenant.aws_conn_id), tenant, source, dt.date.fromisoformat(ds), counts)

    @task(task_id="load", outlets=[source_asset(tenant, source)])
    def load(counts: dict, ds: str | None = None, outlet_events=None) -> dict:  # noqa: ANN001
        from tiny_etl.airflow_io import S3Storage, warehouse_connection
        from tiny_etl.pipeline import load_day

        conn = warehouse_connection(tenant.warehouse_conn_id)
        try:
            counts = load_day(S3Storage(tenant.aws_conn_id), conn, tenant, source, dt.date.fromisoformat(ds), counts)
        finally:
            conn.close()
        outlet_events[source_asset(tenant, source)].extra = {"ds": ds, "rows_loaded": counts["rows_loaded"]}
        return counts

    @task(task_id="check_and_record")
    def check_and_record(counts: dict, ds: str | None = None, run_id: str | None = None) -> dict:
        from tiny_etl.airflow_io import warehouse_connection
        from tiny_etl.pipeline import check_and_record as check

        conn = warehouse_connection(tenant.warehouse_conn_id)
        try:
            return check(conn, tenant, source, dt.date.fromisoformat(ds), counts, run_id)
        finally:
            conn.close()

    check_and_record(load(transform(validate())))


def build(tenant: Tenant) -> DAG:
    """The ETL DAG of one tenant."""
    with DAG(
        dag_id=f"tenant_etl__{tenant.tenant}",
        # A data-interval timetable: each run starts when its interval ends and `ds` is the interval's first
        # day, so the 03:00 run on the 27th loads the 26th. (A plain cron string is Airflow 3's trigger
        # timetable, whose `ds` would be the day that has just begun.) UTC, like `ds` itself.
        schedule=CronDataIntervalTimetable(tenant.schedule, timezone="UTC"),
        start_date=tenant.start_datetime,
        catchup=False,
        is_paused_upon_creation=not tenant.active,
        max_active_runs=1,
        tags=["etl", f"tenant:{tenant.tenant}"],
        default_args=tenant.default_args,
        # Only the tenant's own people (and Admin) reach it: its roles' DAG-level permissions.
        access_control=tenant.access_control,
        doc_md=__doc__,
    ) as dag:
        for source in tenant.sources:
            with TaskGroup(group_id=source.name):
                _source_tasks(tenant, source)
    return dag


for _tenant in valid_tenants(TENANTS):
    globals()[f"tenant_etl__{_tenant.tenant}"] = build(_tenant)
