"""The warehouse's shared tables and each tenant's access to it, converged from the SQL files in sql/.

rds_bootstrap runs the same files on every environment (as the owner `etl` for platform.sql, as the master user
for tenant.sql and retired_tenants.sql); the ETL tests run them here. Each file ends with one row saying whether
it changed anything.
"""

from __future__ import annotations

from pathlib import Path

SQL = Path(__file__).with_name("sql")
PLATFORM_SQL = SQL / "platform.sql"
TENANT_SQL = SQL / "tenant.sql"
RETIRED_TENANTS_SQL = SQL / "retired_tenants.sql"


def _converge(conn, sql: str, params: dict | None = None) -> bool:  # noqa: ANN001 - a psycopg2 connection
    with conn, conn.cursor() as cur:
        cur.execute(sql, params)
        return bool(cur.fetchone()[0])


def converge_platform(conn) -> bool:  # noqa: ANN001
    """Create etl.etl_runs and analytics.daily_totals with their row-level security where missing; True if
    anything changed. The connection's role becomes their owner; the schemas must exist."""
    return _converge(conn, PLATFORM_SQL.read_text(encoding="utf-8"))


def converge_tenant(conn, tenant: str) -> bool:  # noqa: ANN001
    """Give the existing role etl_<tenant> its schema and its rows of the shared tables, and nothing else;
    True if anything changed."""
    return _converge(conn, TENANT_SQL.read_text(encoding="utf-8"), {"tenant": tenant})


def retire_tenants(conn, tenants: list[str]) -> bool:  # noqa: ANN001
    """Take LOGIN from the role of every tenant not in `tenants` (its data stays); True if any lost it."""
    return _converge(conn, RETIRED_TENANTS_SQL.read_text(encoding="utf-8"), {"tenants": ",".join(tenants)})
