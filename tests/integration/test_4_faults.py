"""Ordinary failures on the local default, each with the recovery time it measured (printed)."""

from __future__ import annotations

import time

import pytest
import requests

from ci import local_hosts
from ci.docker_engine import Engine, docker
from ci.host_exec import SERVICES, airflow_host

pytestmark = [pytest.mark.slow, pytest.mark.usefixtures("local_cloud")]


def health_wait(timeout: float = 180.0) -> float:
    """Seconds until every component reports healthy through the API server."""
    started = time.monotonic()
    while True:
        try:
            health = requests.get(f"{local_hosts.ui_url('local')}/api/v2/monitor/health", timeout=5).json()
            if all(health[c]["status"] == "healthy" for c in ("metadatabase", "scheduler", "dag_processor",
                                                             "triggerer")):
                return time.monotonic() - started
        except (requests.RequestException, ValueError, KeyError):
            pass
        if time.monotonic() - started > timeout:
            raise AssertionError(f"not healthy after {timeout:.0f} s")
        time.sleep(1)


def test_killed_scheduler_is_restarted_by_systemd():
    host = airflow_host("local")
    with host.sudo():
        before = host.check_output("systemctl show -p MainPID --value airflow-scheduler")
        started = time.monotonic()
        host.check_output("systemctl kill --signal=SIGKILL airflow-scheduler")
        while True:
            pid = host.check_output("systemctl show -p MainPID --value airflow-scheduler")
            if host.service("airflow-scheduler").is_running and pid not in ("0", before):
                break
            assert time.monotonic() - started < 60, "the scheduler did not come back within 60 s"
            time.sleep(0.5)
    back = time.monotonic() - started
    healthy = health_wait()
    print(f"\nscheduler SIGKILL: running again after {back:.1f} s (new PID {pid}), "
          f"healthy after {back + healthy:.1f} s")


def test_restarted_host_brings_every_service_back():
    engine = Engine().state()
    assert engine, "the local cloud's engine is not running"
    started = time.monotonic()
    docker(engine, "restart", "--time", "30", local_hosts.hosts("local")[0].container)
    healthy = health_wait()
    host = airflow_host("local")
    assert all(host.service(s).is_running for s in SERVICES)
    print(f"\nAirflow host container restart: all services healthy {time.monotonic() - started:.1f} s after the "
          f"restart began ({healthy:.1f} s after the container was up)")
