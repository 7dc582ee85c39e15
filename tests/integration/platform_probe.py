"""What the fault and load tests observe on the local default: the API (as the admin), component health,
the warehouse rows of a run, and the Airflow host's memory."""

from __future__ import annotations

import functools
import json
import threading
import time
from types import TracebackType

import requests

from ci.airflow_api import AirflowApi
from ci.host_exec import WAREHOUSE_CONNECT, airflow_host, airflow_python
from ci.localcloud import hosts
from ci.localcloud.engine import Engine, EngineState, docker
from ci.platform import Platform
from ci.stages.smoke import WAREHOUSE_CHECK

COMPONENTS = ("metadatabase", "scheduler", "dag_processor", "triggerer")


def engine() -> EngineState:
    """The running engine of the local cloud."""
    state = Engine().state()
    assert state, "the local cloud's engine is not running"
    return state


@functools.cache
def ca_file(env: str = "local") -> str:
    """The platform CA's certificate file, which the UI's certificate is verified against."""
    return str(Platform.load(env).ca_file())


def health(env: str = "local") -> dict[str, str] | None:
    """component -> status from /api/v2/monitor/health; None only when the API server gives no answer
    (connection refused, a timeout, or a 5xx). Any other reply must carry every component, or this raises;
    so does a certificate that does not verify."""
    try:
        reply = requests.get(f"{hosts.ui_url(env)}/api/v2/monitor/health", timeout=5, verify=ca_file(env))
    except requests.exceptions.SSLError as exc:
        if "CERTIFICATE_VERIFY_FAILED" in str(exc):
            raise  # a certificate that does not verify is an answer: the wrong one
        return None  # a connection closed mid-handshake (the host restarting behind the published port)
    except requests.RequestException:
        return None
    if reply.status_code >= 500:
        return None
    reply.raise_for_status()
    body = reply.json()
    missing = [c for c in COMPONENTS if c not in body]
    assert not missing, f"/api/v2/monitor/health has no {missing}: {body}"
    return {c: body[c]["status"] for c in COMPONENTS}


def all_healthy(now: dict[str, str] | None) -> bool:
    """Every component reported, and each one healthy (False when the API gave no answer)."""
    return bool(now) and set(now) == set(COMPONENTS) and all(s == "healthy" for s in now.values())


def health_wait(timeout: float = 180.0, env: str = "local") -> float:
    """Seconds until every component reports healthy through the API server."""
    started = time.monotonic()
    while True:
        now = health(env)
        if all_healthy(now):
            return time.monotonic() - started
        if time.monotonic() - started > timeout:
            raise AssertionError(f"not healthy after {timeout:.0f} s: {now or 'no answer'}")
        time.sleep(1)


def admin_api(env: str = "local") -> AirflowApi:
    """An API session as the admin, whose password is read from the secret store."""
    platform = Platform.load(env)
    return AirflowApi.login(hosts.ui_url(env), "admin", platform.secret("airflow_admin_password"),
                            verify=ca_file(env))


def warehouse_rows(tenant: str, run_id: str, day: str, env: str = "local") -> list[dict]:
    """The run's etl.etl_runs records, each with the rows now in its partition (smoke's check)."""
    code = f"TENANT = {tenant!r}\nRUN_ID = {run_id!r}\nDAY = {day!r}\n" + WAREHOUSE_CHECK
    return json.loads(airflow_python(airflow_host(env), code).strip().splitlines()[-1])


# Runs on the Airflow host: source -> rows in the tenant's partition of DAY (whatever loaded them).
_PARTITION_ROWS = """
import sys
sys.path.insert(0, '/opt/airflow/current/dags')
from pathlib import Path
from tiny_etl.tenant import load_tenant, tenants_folder
tenant = load_tenant(tenants_folder(Path('/opt/airflow/current/dags')) / (TENANT + '.yml'))
cur = conn.cursor()
out = {}
for source in tenant.sources:
    cur.execute(f'select count(*) from {tenant.schema}.{source.table} where ds = %s', (DAY,))
    out[source.name] = cur.fetchone()[0]
print(json.dumps(out))
"""


def partition_rows(tenant: str, day: str, env: str = "local") -> dict[str, int]:
    """source -> rows now in the tenant's partition for day (0 when the day was never loaded)."""
    code = f"TENANT = {tenant!r}\nDAY = {day!r}\n" + WAREHOUSE_CONNECT + _PARTITION_ROWS
    return json.loads(airflow_python(airflow_host(env), code).strip().splitlines()[-1])


# Memory in use by a container as `docker stats` counts it: the cgroup's usage less its inactive file cache
# (cgroup v2, else v1).
MEMORY_IN_USE = (
    "if [ -f /sys/fs/cgroup/memory.current ]; then d=/sys/fs/cgroup; u=$(cat $d/memory.current); k=inactive_file;"
    " else d=/sys/fs/cgroup/memory; u=$(cat $d/memory.usage_in_bytes); k=total_inactive_file; fi;"
    " echo $((u - $(awk -v k=$k '$1 == k {print $2}' $d/memory.stat)))"
)


class MemorySampler:
    """Samples a host container's memory in use every `interval` seconds; `peak_mb` is the highest."""

    def __init__(self, container: str, interval: float = 2.0) -> None:
        self.container, self.interval = container, interval
        self.samples: list[int] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._engine = engine()

    def _run(self) -> None:
        while not self._stop.is_set():
            out = docker(self._engine, "exec", self.container, "sh", "-c", MEMORY_IN_USE, check=False)
            if out.returncode == 0:
                self.samples.append(int(out.stdout.decode().strip()))
            self._stop.wait(self.interval)

    @property
    def peak_mb(self) -> float:
        """Highest sample in MiB."""
        return max(self.samples, default=0) / 2**20

    def __enter__(self) -> MemorySampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: type[BaseException] | BaseException | TracebackType | None) -> None:
        self._stop.set()
        self._thread.join(timeout=30)


def task_tries(api: AirflowApi, dag_id: str, run_id: str) -> dict[str, tuple[str, int]]:
    """task_id -> (state, try_number) of one run."""
    return {ti["task_id"]: (ti["state"], ti["try_number"]) for ti in api.task_instances(dag_id, run_id)}
