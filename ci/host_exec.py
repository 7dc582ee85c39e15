"""Running code on an environment's Airflow host the way the Airflow services run it.

Used by the infra tests and the smoke stage: testinfra's connection from the inventory (SSH as the
login user), then `sudo -u airflow` with the services' environment file and the Airflow venv.
"""

from __future__ import annotations

import json
import shlex
from typing import TYPE_CHECKING

from ci.ansible import ANSIBLE_ENV, tool_path_env
from ci.paths import ROOT

if TYPE_CHECKING:
    from testinfra.host import Host

AIRFLOW_HOME = "/opt/airflow"
SERVICES = ["airflow-api-server", "airflow-scheduler", "airflow-dag-processor", "airflow-triggerer"]
# Python (for airflow_python) that opens `conn`: psycopg2 with the platform's `warehouse` connection
# (AIRFLOW_CONN_WAREHOUSE, JSON or URI), or a tenant's when the code sets TENANT (AIRFLOW_CONN_WAREHOUSE_<TENANT>,
# as the tenant's DAGs connect), and its TLS settings as the DAGs read them (tiny_etl/libpq.py, sent with
# the code, one line so it may be indented or follow other code: a live release built before that module existed,
# after a rollback, has none), to database DB instead when the code sets DB.
WAREHOUSE_CONNECT = (
    f"exec({(ROOT / 'dags' / 'tiny_etl' / 'libpq.py').read_text()!r})\n"
    "import json, os, psycopg2\n"
    "from airflow.models.connection import Connection\n"
    "conn_id = 'warehouse_' + TENANT if globals().get('TENANT') else 'warehouse'\n"
    "raw = os.environ['AIRFLOW_CONN_' + conn_id.upper()]\n"
    "c = Connection.from_json(raw, conn_id=conn_id) if raw.lstrip().startswith('{') "
    "else Connection(conn_id=conn_id, uri=raw)\n"
    "tls = tls_settings(c.extra_dejson)\n"
    "conn = psycopg2.connect(host=c.host, port=c.port or 5432, dbname=globals().get('DB') or c.schema, "
    "user=c.login, password=c.password, connect_timeout=10, **tls)\n"
)


def airflow_host(env: str) -> Host:
    """The first host of env's `airflow` group, reached as Ansible reaches it."""
    import os

    import testinfra

    os.environ.update({k: v for k, v in ANSIBLE_ENV.items() if k not in os.environ})
    os.environ.update(tool_path_env())
    hosts = testinfra.get_hosts(["airflow"], connection="ansible", ansible_inventory=str(ROOT / "inventory" / env))
    if not hosts:
        raise RuntimeError(f"inventory/{env} has no host in the `airflow` group")
    return hosts[0]


def airflow_python(host: Host, code: str) -> str:
    """Run Python in the Airflow venv as the airflow user with the services' environment; its stdout."""
    script = (f"set -a; . {AIRFLOW_HOME}/airflow.env; set +a; export AIRFLOW_HOME={AIRFLOW_HOME}; "
              f"exec {AIRFLOW_HOME}/venv/bin/python -c {shlex.quote(code)}")
    with host.sudo("airflow"):
        return host.check_output("bash -c %s", script)


def live_tenants(host: Host) -> list[str]:
    """The tenants of the live release (one file each in its dags/tenants/)."""
    with host.sudo():  # AIRFLOW_HOME is closed to other users
        names = host.check_output(f"ls {AIRFLOW_HOME}/current/dags/tenants").split()
    return sorted(name.removesuffix(".yml") for name in names if name.endswith(".yml"))


def warehouse_query(host: Host, sql: str, params: tuple = ()) -> list[list]:
    """Rows of one query in the warehouse, as the platform's etl role, from the Airflow host."""
    code = (WAREHOUSE_CONNECT + "cur = conn.cursor()\n"
            f"cur.execute({sql!r}, {params!r})\n"
            "print(json.dumps(cur.fetchall(), default=str))\n")
    return json.loads(airflow_python(host, code).strip().splitlines()[-1])
