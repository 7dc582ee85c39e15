"""The warehouse seen from the Airflow host: through the platform's `warehouse` connection (role etl) and each
tenant's own `warehouse_<tenant>` (role etl_<tenant>), as the services' environment gives them."""

from __future__ import annotations

from hostlib import AIRFLOW_HOME, WAREHOUSE_CONNECT, airflow_python, live_tenants


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


def _server_of_the_warehouse_connection(host, conn_id: str = "warehouse") -> dict:
    """A warehouse connection's host, port and TLS settings, as the services' environment gives them."""
    out = airflow_python(host, (
        "import json, os\n"
        "from airflow.models.connection import Connection\n"
        f"c = Connection.from_json(os.environ['AIRFLOW_CONN_{conn_id.upper()}'], conn_id={conn_id!r})\n"
        "print(json.dumps({'host': c.host, 'port': c.port or 5432, **c.extra_dejson}))"))
    return __import__("json").loads(out.strip().splitlines()[-1])


def test_warehouse_connection_verifies_the_server(host):
    """TLS verified, not only required: the DAGs' connections run with sslmode=verify-full against a CA file."""
    conn_ids = ["warehouse"] + [f"warehouse_{t}" for t in live_tenants(host)]
    for conn_id in conn_ids:
        server = _server_of_the_warehouse_connection(host, conn_id)
        assert server.get("sslmode") == "verify-full", (conn_id, server)
        assert host.file(server["sslrootcert"]).is_file
    # the DAGs' own function, from the live release, with a tenant's connection, seen from the server's side
    out = airflow_python(host, (
        f"import json, sys; sys.path.insert(0, '{AIRFLOW_HOME}/current/dags')\n"
        "from tiny_etl.airflow_io import warehouse_connection\n"
        f"conn = warehouse_connection({conn_ids[-1]!r})\n"
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


def test_every_tenant_role_holds_its_own_schema_and_no_other(host):
    """The grants as the catalog shows them: each tenant's role etl_<tenant> logs in without administrative
    rights, owns tenant_<tenant>, may not create schemas, and has no use of another tenant's schema; the role
    of a tenant whose file is gone cannot log in; the platform's role `etl` may neither create schemas nor use
    any tenant's."""
    tenants = live_tenants(host)
    assert tenants, "the live release has no tenant"
    out = airflow_python(host, WAREHOUSE_CONNECT + (
        f"tenants = {tenants!r}\n"
        "cur = conn.cursor()\n"
        "cur.execute('''select r.rolname, r.rolcanlogin, r.rolsuper or r.rolcreaterole or r.rolcreatedb,\n"
        "    has_database_privilege(r.rolname, current_database(), 'CREATE'),\n"
        "    (select pg_get_userbyid(nspowner) from pg_namespace where nspname = 'tenant_' || t.name),\n"
        "    array(select o from unnest(%s::text[]) o where o <> t.name\n"
        "          and has_schema_privilege(r.rolname, 'tenant_' || o, 'USAGE'))\n"
        "  from unnest(%s::text[]) t(name) left join pg_roles r on r.rolname = 'etl_' || t.name\n"
        "  order by t.name''', (tenants, tenants))\n"
        "rows = cur.fetchall()\n"
        "cur.execute('select has_database_privilege(current_user, current_database(), %s), '\n"
        "            'array(select o from unnest(%s::text[]) o where has_schema_privilege(\\'tenant_\\' || o, %s))',\n"
        "            ('CREATE', tenants, 'USAGE'))\n"
        "platform_role = cur.fetchone()\n"
        "cur.execute('select r.rolname from pg_roles r join pg_namespace n on n.nspowner = r.oid '\n"
        "            'and n.nspname = \\'tenant_\\' || substr(r.rolname, 5) where r.rolcanlogin '\n"
        "            'and not substr(r.rolname, 5) = any(%s::text[])', (tenants,))\n"
        "print(json.dumps([rows, platform_role, [row[0] for row in cur.fetchall()]]))"))
    rows, platform_role, departed = __import__("json").loads(out.strip().splitlines()[-1])
    assert platform_role == [False, []], f"the platform's role may create schemas or use {platform_role[1]}"
    assert departed == [], f"roles of tenants no longer in the release can still log in: {departed}"
    assert [row[0] for row in rows] == [f"etl_{t}" for t in tenants], f"a tenant has no role: {rows}"
    for role, login, admin, create_schemas, schema_owner, others in rows:
        assert login and not admin and not create_schemas, (role, login, admin, create_schemas)
        assert schema_owner == role, f"tenant_{role[4:]} is owned by {schema_owner}, not {role}"
        assert others == [], f"{role} may use the schemas of {others}"


def test_each_tenants_connection_reaches_only_its_own_tenant(host):
    """Through each tenant's own connection, as its DAGs connect: its role; only its own rows of the shared
    tables; `permission denied` on every other tenant's schema (checked before any table is looked up, so it
    holds on a fresh environment too); a row forged for another tenant refused by row-level security (rolled
    back, so nothing is written even where it is not)."""
    tenants = live_tenants(host)
    for tenant in tenants:
        out = airflow_python(host, f"TENANT = {tenant!r}\n" + WAREHOUSE_CONNECT + (
            f"others = {[t for t in tenants if t != tenant]!r}\n"
            "cur = conn.cursor()\n"
            "cur.execute('select current_user')\n"
            "result = {'user': cur.fetchone()[0], 'others': {}}\n"
            "conn.rollback()\n"
            "cur.execute('select distinct tenant from etl.etl_runs union select tenant from analytics.daily_totals')\n"
            "result['rows_of'] = sorted(row[0] for row in cur.fetchall())\n"
            "conn.rollback()\n"
            "for other in others:\n"
            "    answers = []\n"
            "    for sql in ('select 1 from tenant_' + other + '.etl_probe',\n"
            "                \"insert into analytics.daily_totals values (%s, 'probe', '1970-01-01', 0, 0)\"):\n"
            "        try:\n"
            "            cur.execute(sql, (other,))\n"
            "            answers.append('done')\n"
            "        except psycopg2.Error as exc:\n"
            "            answers.append(str(exc).strip().splitlines()[0])\n"
            "        conn.rollback()  # nothing written either way\n"
            "    result['others'][other] = answers\n"
            "print(json.dumps(result))"))
        result = __import__("json").loads(out.strip().splitlines()[-1])
        assert result["user"] == f"etl_{tenant}", result
        assert set(result["rows_of"]) <= {tenant}, f"etl_{tenant} sees rows of {result['rows_of']}"
        for other, (read, forged) in result["others"].items():
            assert read == f"permission denied for schema tenant_{other}", (tenant, other, read)
            assert "row-level security" in forged, (tenant, other, forged)
