"""Daily aggregate tables built from the tenants' warehouse tables.

analytics.daily_totals is shared by every tenant under row-level security (sql/platform.sql): run as the
tenant's role, a rebuild reads and replaces only the tenant's own rows.
"""

from __future__ import annotations

import datetime as dt

from tiny_etl.tenant import Tenant


def rebuild_daily_totals(conn, tenant: Tenant, days: list[dt.date] | None = None) -> dict:  # noqa: ANN001
    """Replace the tenant's rows of analytics.daily_totals for `days` (None: every day) in one transaction."""
    written = 0
    with conn, conn.cursor() as cur:
        for source in tenant.sources:
            total = source.derived[0].name if source.derived else "NULL::numeric"
            only_days, params = (" AND ds = ANY(%s)", [days]) if days else ("", [])
            cur.execute("DELETE FROM analytics.daily_totals WHERE tenant = %s AND source = %s" + only_days,  # noqa: S608 - fixed text, values bound  # nosec B608
                        [tenant.tenant, source.name, *params])
            cur.execute(
                "INSERT INTO analytics.daily_totals (tenant, source, ds, rows, total) "  # noqa: S608 - checked ids  # nosec B608
                f"SELECT %s, %s, ds, count(*), sum({total}) FROM {tenant.schema}.{source.table} "
                f"WHERE true{only_days} GROUP BY ds",
                [tenant.tenant, source.name, *params])
            written += cur.rowcount
    return {"tenant": tenant.tenant, "days_written": written}
