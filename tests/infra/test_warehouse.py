"""The warehouse seen from the Airflow host, through the DAGs' own `warehouse` connection."""

from __future__ import annotations

from hostlib import AIRFLOW_HOME, WAREHOUSE_CONNECT, airflow_python


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
    assert "refused" in out and "permission denied for database" in out, out


def _server_of_the_warehouse_connection(host) -> dict:
    """The warehouse connection's host, port and TLS settings, as the services' environment gives them."""
    out = airflow_python(host, (
        "import json, os\n"
        "from airflow.models.connection import Connection\n"
        "c = Connection.from_json(os.environ['AIRFLOW_CONN_WAREHOUSE'], conn_id='warehouse')\n"
        "print(json.dumps({'host': c.host, 'port': c.port or 5432, **c.extra_dejson}))"))
    return __import__("json").loads(out.strip().splitlines()[-1])


def test_warehouse_connection_verifies_the_server(host):
    """TLS verified, not only required: the DAGs' connection runs with sslmode=verify-full against a CA file."""
    server = _server_of_the_warehouse_connection(host)
    assert server.get("sslmode") == "verify-full", server
    assert host.file(server["sslrootcert"]).is_file
    # the DAGs' own function, from the live release, seen from the server's side
    out = airflow_python(host, (
        f"import json, sys; sys.path.insert(0, '{AIRFLOW_HOME}/current/dags')\n"
        "from tiny_etl.airflow_io import warehouse_connection\n"
        "conn = warehouse_connection()\n"
        "cur = conn.cursor()\n"
        "cur.execute('select a.application_name, s.ssl, s.version from pg_stat_ssl s join pg_stat_activity a '\n"
        "            'using (pid) where pid = pg_backend_pid()')\n"
        "print(json.dumps([conn.get_dsn_parameters().get('sslmode'), *cur.fetchone()]))"))
    sslmode, application, ssl, version = __import__("json").loads(out.strip().splitlines()[-1])
    assert (sslmode, application, ssl) == ("verify-full", "tiny-etl", True), out
    assert version in {"TLSv1.2", "TLSv1.3"}


def test_metadata_connection_verifies_the_server(host):
    out = airflow_python(host, (
        "import json\n"
        "from airflow.configuration import conf\n"
        "from sqlalchemy.engine import make_url\n"
        "print(json.dumps(dict(make_url(conf.get('database', 'sql_alchemy_conn')).query)))"))
    query = __import__("json").loads(out.strip().splitlines()[-1])
    assert query.get("sslmode") == "verify-full", query
    assert host.file(query["sslrootcert"]).is_file


def _verify_server_certificate(host, server: dict, name: str):
    """openssl's own check of the database's certificate chain and name, as libpq's verify-full makes it."""
    check = "-verify_ip" if name.replace(".", "").isdigit() else "-verify_hostname"
    return host.run("openssl s_client -starttls postgres -connect %s:%s -CAfile %s -verify_return_error %s %s "
                    "-brief </dev/null", server["host"], str(server["port"]), server["sslrootcert"], check, name)


def test_database_certificate_is_issued_for_the_address_dialled(host):
    """The server's certificate chains to the installed CA and names the address the clients dial; a name it
    does not hold is refused, so the check is real (RDS: AWS's CA and the endpoint's name)."""
    server = _server_of_the_warehouse_connection(host)
    good = _verify_server_certificate(host, server, server["host"])
    assert good.rc == 0, good.stderr
    wrong = "10.255.255.254" if server["host"].replace(".", "").isdigit() else "not-the-database.invalid"
    bad = _verify_server_certificate(host, server, wrong)
    assert bad.rc != 0 and "verify" in (bad.stdout + bad.stderr).lower(), bad.stdout + bad.stderr
