"""Daily aggregates of every tenant: one DAG per tenant (dag_id `tenant_analytics__<tenant>`), started
when any of the tenant's warehouse tables is updated (Airflow assets from tenant_etl).

For each day loaded it rebuilds `analytics.daily_totals` (tenant, source, day, rows, sum of the source's
first derived column) in one transaction, so re-runs replace rather than add.

Paused like the tenant's ETL DAG: unpaused for an `active` tenant (the default), paused for an inactive one
(`is_paused_upon_creation`, kept in step by `make deploy`, checked by `make verify`). Airflow queues an asset
update only for consumers that are unpaused when it happens: updates while paused start no run later.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from airflow.sdk import DAG, task

from tiny_etl.assets import source_asset
from tiny_etl.tenant import Tenant, tenants_folder, valid_tenants

TENANTS = tenants_folder(Path(__file__).parent)


def build(tenant: Tenant) -> DAG:
    """The analytics DAG of one tenant."""
    with DAG(
        dag_id=f"tenant_analytics__{tenant.tenant}",
        schedule=[source_asset(tenant, s) for s in tenant.sources],
        start_date=tenant.start_datetime,
        catchup=False,
        is_paused_upon_creation=not tenant.active,
        max_active_runs=1,
        tags=["analytics", f"tenant:{tenant.tenant}"],
        default_args=tenant.default_args,
        # Only the tenant's own people (and Admin) reach it: its roles' DAG-level permissions.
        access_control=tenant.access_control,
        doc_md=__doc__,
    ) as dag:

        @task
        def daily_totals(triggering_asset_events=None) -> dict:  # noqa: ANN001
            """Rebuild the daily totals of the days the triggering loads wrote (all days if run by hand)."""
            from tiny_etl.airflow_io import warehouse_connection
            from tiny_etl.analytics import rebuild_daily_totals

            days = sorted({e.extra["ds"] for events in (triggering_asset_events or {}).values()
                           for e in events if e.extra and "ds" in e.extra})
            conn = warehouse_connection(tenant.warehouse_conn_id)
            try:
                return rebuild_daily_totals(conn, tenant, [dt.date.fromisoformat(d) for d in days] or None)
            finally:
                conn.close()

        daily_totals()
    return dag


for _tenant in valid_tenants(TENANTS):
    globals()[f"tenant_analytics__{_tenant.tenant}"] = build(_tenant)
