"""Each tenant's warehouse role reaches its own schema and its own rows of the shared tables, nothing else;
the SQL that grants it converges (a second run changes nothing) and moves a schema of the shared role it
replaced. The same sql/ files set up every environment through rds_bootstrap."""

from __future__ import annotations

import dataclasses
import datetime as dt

import psycopg2
import pytest
from conftest import MASTER

from ci.paths import DAGS
from ci.sample_data import acme_orders_csv
from tiny_etl.access import converge_platform, converge_tenant, retire_tenants
from tiny_etl.load import partition_name, record_run, replace_day, table_ddl
from tiny_etl.tenant import load_tenant
from tiny_etl.transform import transform
from tiny_etl.validate import validate

DAY = dt.date(2026, 11, 21)
ACME = load_tenant(DAGS / "tenants" / "acme.yml")
SOURCE = ACME.sources[0]


def _rows():
    return transform(validate(acme_orders_csv(DAY, rows=20, seed=5), SOURCE).valid, SOURCE, DAY)[0]


def _denied(services, role: str, sql: str) -> str:
    with pytest.raises(psycopg2.Error) as caught:
        services.query(sql, role=role)
    return str(caught.value)


def _run_record(tenant: str, run_id: str) -> tuple:
    return (run_id, tenant, "orders", DAY, 1, 1, 0, 0, "ok")


@pytest.fixture(scope="module")
def both_tenants_loaded(services):
    """acme's day loaded by its role; a globex table, and a run record and daily total of each tenant, written
    by the superuser."""
    conn = services.connect(ACME.warehouse_role)
    try:
        replace_day(conn, ACME, SOURCE, DAY, _rows())
    finally:
        conn.close()
    with services.connect() as conn, conn.cursor() as cur:
        cur.execute("CREATE TABLE IF NOT EXISTS tenant_globex.secrets_of_globex (id int); "
                    "INSERT INTO tenant_globex.secrets_of_globex VALUES (1)")
        for tenant in ("acme", "globex"):
            cur.execute("INSERT INTO etl.etl_runs (run_id, tenant, source, ds, rows_in, rows_loaded, "
                        "rows_quarantined, files_rejected, status) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s)",
                        _run_record(tenant, f"isolation__{tenant}"))
            cur.execute("INSERT INTO analytics.daily_totals VALUES (%s, 'orders', %s, 1, 1) ON CONFLICT DO NOTHING",
                        (tenant, DAY))
    conn.close()
    return services


def test_a_tenant_role_cannot_read_or_write_another_tenants_schema(both_tenants_loaded):
    services = both_tenants_loaded
    assert services.query("SELECT count(*) FROM tenant_acme.orders WHERE ds = %s", (DAY,), role="etl_acme") == [(20,)]
    for sql in ("SELECT * FROM tenant_globex.secrets_of_globex", "DELETE FROM tenant_globex.secrets_of_globex",
                "CREATE TABLE tenant_globex.planted (id int)", "SELECT * FROM tenant_acme.orders"):
        role = "etl_globex" if "tenant_acme" in sql else "etl_acme"
        assert "permission denied for schema" in _denied(services, role, sql), sql
    assert services.query("SELECT count(*) FROM tenant_globex.secrets_of_globex") == [(1,)]


def test_a_tenant_role_cannot_make_schemas_or_reach_the_platform_roles_rights(services):
    assert "permission denied for database" in _denied(services, "etl_acme", "CREATE SCHEMA tenant_acme_2")
    assert "permission denied" in _denied(services, "etl_acme", "CREATE TABLE etl.planted (id int)")
    assert "permission denied" in _denied(services, "etl_acme", "SET ROLE etl_globex")


def test_a_tenant_role_sees_and_writes_only_its_own_rows_of_the_shared_tables(both_tenants_loaded):
    services = both_tenants_loaded
    runs = services.query("SELECT DISTINCT tenant FROM etl.etl_runs", role="etl_acme")
    assert runs == [("acme",)]
    assert services.query("SELECT DISTINCT tenant FROM analytics.daily_totals", role="etl_acme") == [("acme",)]
    for sql in ("INSERT INTO etl.etl_runs (run_id, tenant, source, ds, rows_in, rows_loaded, rows_quarantined, "
                "files_rejected, status) VALUES ('forged', 'globex', 'shipments', '2026-11-21', 0, 0, 0, 0, 'ok')",
                "INSERT INTO analytics.daily_totals VALUES ('globex', 'shipments', '2026-11-22', 1, 1)",
                "UPDATE etl.etl_runs SET tenant = 'globex' WHERE run_id = 'isolation__acme'"):
        assert "row-level security" in _denied(services, "etl_acme", sql), sql
    conn = services.connect("etl_acme")
    try:
        with conn, conn.cursor() as cur:
            cur.execute("DELETE FROM analytics.daily_totals WHERE tenant = 'globex'")
            assert cur.rowcount == 0
            cur.execute("UPDATE etl.etl_runs SET status = 'forged' WHERE tenant = 'globex'")
            assert cur.rowcount == 0
    finally:
        conn.close()
    assert services.query("SELECT status FROM etl.etl_runs WHERE run_id = 'isolation__globex'") == [("ok",)]
    assert services.query("SELECT count(*) FROM analytics.daily_totals WHERE tenant = 'globex'") == [(1,)]


def test_a_retried_task_replaces_its_run_record_as_the_tenants_role(services):
    """record_run's INSERT ... ON CONFLICT DO UPDATE under row-level security: the retry's record wins."""
    run = {"run_id": "retried", "tenant": "acme", "source": "orders", "ds": DAY, "rows_in": 3, "rows_loaded": 0,
           "rows_quarantined": 0, "files_rejected": 0, "status": "failed", "detail": "first try"}
    conn = services.connect("etl_acme")
    try:
        record_run(conn, run)
        record_run(conn, {**run, "rows_loaded": 3, "status": "ok", "detail": None})
    finally:
        conn.close()
    assert services.query("SELECT rows_loaded, status FROM etl.etl_runs WHERE run_id = 'retried'") == [(3, "ok")]


def test_the_access_sql_converges(services):
    owner = services.connect("etl")
    try:
        assert converge_platform(owner) is False
        with owner, owner.cursor() as cur:  # a policy loosened by hand, and one added beside it
            cur.execute("ALTER POLICY own_tenant_rows ON analytics.daily_totals USING (true); "
                        "CREATE POLICY everyone ON etl.etl_runs USING (true)")
        assert converge_platform(owner) is True
        assert converge_platform(owner) is False
        with owner, owner.cursor() as cur:
            cur.execute("SELECT n.nspname || '.' || c.relname, polname, pg_get_expr(polqual, polrelid) FROM pg_policy "
                        "JOIN pg_class c ON c.oid = polrelid JOIN pg_namespace n ON n.oid = c.relnamespace ORDER BY 1")
            policies = cur.fetchall()
    finally:
        owner.close()
    assert [(table, name) for table, name, _ in policies] == [("analytics.daily_totals", "own_tenant_rows"),
                                                              ("etl.etl_runs", "own_tenant_rows")]
    assert all("current_user" in rule.lower() for _, _, rule in policies), policies
    conn = services.connect(MASTER)
    try:
        assert converge_tenant(conn, "acme") is False
        with conn, conn.cursor() as cur:
            cur.execute("REVOKE INSERT ON etl.etl_runs FROM etl_acme")
        assert converge_tenant(conn, "acme") is True
        assert converge_tenant(conn, "acme") is False
        with pytest.raises(psycopg2.Error, match="role etl_nobody does not exist"):
            converge_tenant(conn, "nobody")
        conn.rollback()
        with pytest.raises(psycopg2.Error, match="not a tenant id"):
            converge_tenant(conn, "Acme; DROP SCHEMA etl")
    finally:
        conn.close()


def test_a_schema_of_the_shared_role_moves_to_the_tenants_role_with_its_tables(services):
    """What an earlier release left: tenant_<t>, its table and a day's partition owned by the one shared `etl`
    role. The master (no superuser) moves them all to the tenant's role, which then replaces that day as a load
    does, and gains no right to create schemas on the way."""
    moved = dataclasses.replace(ACME, tenant="moved")
    with services.connect(MASTER) as conn, conn.cursor() as cur:
        cur.execute("CREATE SCHEMA tenant_moved AUTHORIZATION etl; SET ROLE etl")
        cur.execute(table_ddl(moved, SOURCE))
        cur.execute(f"CREATE TABLE tenant_moved.{partition_name(SOURCE, DAY)} PARTITION OF tenant_moved.orders "
                    f"FOR VALUES IN ('{DAY}')")
    conn.close()
    assert services.add_tenant("moved") is True
    conn = services.connect(MASTER)
    try:
        assert converge_tenant(conn, "moved") is False
    finally:
        conn.close()
    assert services.query("SELECT DISTINCT pg_get_userbyid(relowner) FROM pg_class WHERE relnamespace = "
                          "'tenant_moved'::regnamespace AND relkind IN ('r', 'p')") == [("etl_moved",)]
    assert services.query("SELECT pg_get_userbyid(nspowner) FROM pg_namespace WHERE nspname = 'tenant_moved'") \
        == [("etl_moved",)]
    assert services.query("SELECT has_database_privilege('etl_moved', current_database(), 'CREATE')") == [(False,)]
    conn = services.connect("etl_moved")
    try:
        assert replace_day(conn, moved, SOURCE, DAY, _rows()) == 20
    finally:
        conn.close()


def test_a_tenant_whose_file_is_gone_can_no_longer_log_in_and_its_data_stays(services):
    assert services.add_tenant("departed") is True
    with services.connect("etl_departed") as conn, conn.cursor() as cur:
        cur.execute("CREATE TABLE tenant_departed.kept (id int); INSERT INTO tenant_departed.kept VALUES (7)")
    conn.close()
    staying = [row[0] for row in services.query("SELECT substr(rolname, 5) FROM pg_roles WHERE rolname ~ '^etl_' "
                                                "AND rolname <> 'etl_departed'")]
    conn = services.connect(MASTER)
    try:
        assert retire_tenants(conn, staying) is True
        assert retire_tenants(conn, staying) is False
    finally:
        conn.close()
    with pytest.raises(psycopg2.OperationalError, match="not permitted to log in"):
        services.connect("etl_departed")
    assert services.query("SELECT id FROM tenant_departed.kept") == [(7,)]
    assert services.query("SELECT rolname FROM pg_roles WHERE rolname ~ '^etl' AND NOT rolcanlogin") == [
        ("etl_departed",)], "only the departed tenant's role is touched"
    assert services.query("SELECT current_user", role="etl_acme") == [("etl_acme",)]


def test_a_tenant_s_connection_reaches_only_its_own_prefixes(services):
    """`aws_acme` assumes acme's role (the policy provision gives it, on a local cloud enforcing IAM): it lists and
    reads raw/acme/, writes staging/ and quarantine/acme/, and is denied globex's files, the bucket's root and
    writing raw files."""
    from botocore.exceptions import ClientError

    from tiny_etl.airflow_io import S3Storage

    for tenant in ("acme", "globex"):
        services.put(f"raw/{tenant}/{DAY}/orders-isolation.csv", b"id\n1\n")
    acme = S3Storage(ACME.aws_conn_id, bucket=services.bucket)
    assert acme.list_keys(f"raw/acme/{DAY}/orders-isolation") == [f"raw/acme/{DAY}/orders-isolation.csv"]
    assert acme.get(f"raw/acme/{DAY}/orders-isolation.csv") == b"id\n1\n"
    acme.put(f"staging/acme/{DAY}/isolation.parquet", b"x")
    acme.put(f"quarantine/acme/{DAY}/isolation.txt", b"x")
    denied = [lambda: acme.list_keys("raw/globex/"), lambda: acme.list_keys("raw/"), lambda: acme.list_keys(""),
              lambda: acme.get(f"raw/globex/{DAY}/orders-isolation.csv"),
              lambda: acme.put(f"staging/globex/{DAY}/isolation.parquet", b"x"),
              lambda: acme.put(f"raw/acme/{DAY}/forged.csv", b"x")]
    for attempt in denied:
        with pytest.raises(ClientError, match=r"AccessDenied|\(403\)"):
            attempt()
    # Other tests in this session leave globex's own staging files: only the keys acme tried must be absent.
    assert f"staging/globex/{DAY}/isolation.parquet" not in services.keys(f"staging/globex/{DAY}/")
    assert f"raw/acme/{DAY}/forged.csv" not in services.keys(f"raw/acme/{DAY}/")
