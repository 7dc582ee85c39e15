"""The warehouse seen from the Airflow host, through the DAGs' own `warehouse` connection."""

from __future__ import annotations

from hostlib import WAREHOUSE_CONNECT, airflow_python


def test_warehouse_reachable_as_etl_role_not_superuser(host):
    out = airflow_python(host, WAREHOUSE_CONNECT + (
        "cur = conn.cursor()\n"
        "cur.execute('select current_user, rolsuper, rolcreaterole, rolcreatedb from pg_roles "
        "where rolname = current_user')\n"
        "print(json.dumps(cur.fetchone()))"))
    user, superuser, createrole, createdb = __import__("json").loads(out.strip().splitlines()[-1])
    assert user == "etl"
    assert not (superuser or createrole or createdb), "the ETL role must hold no administrative rights"


def test_etl_role_cannot_reach_airflow_metadata(host):
    out = airflow_python(host, "DB = 'airflow'\n" + (
        "try:\n" + "".join(f"    {line}\n" for line in WAREHOUSE_CONNECT.splitlines()) +
        "    print('connected')\n"
        "except psycopg2.OperationalError as exc:\n"
        "    print('refused:', str(exc).strip().splitlines()[0])\n"))
    assert "refused" in out, out
