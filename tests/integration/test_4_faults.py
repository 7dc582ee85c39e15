"""Ordinary failures on the local default, each with the recovery time it measured (printed)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pytest
import requests
from stage_cli import ci

from ci import local_hosts
from ci.docker_engine import Engine, docker
from ci.host_exec import SERVICES, airflow_host
from ci.paths import ROOT

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


def test_interrupted_site_yml_converges_on_the_next_run():
    host = airflow_host("local")
    with host.sudo():  # something for the run to repair: a stopped service and a weakened SSH setting
        host.check_output("systemctl stop airflow-triggerer")
        host.check_output("sed -i 's/^MaxAuthTries 2/MaxAuthTries 6/' /etc/ssh/sshd_config.d/00-tiny-hardening.conf")
    proc = subprocess.Popen([sys.executable, "-m", "ci", "configure", "--env", "local"], cwd=ROOT,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True)
    time.sleep(25)  # the facts play and part of base have run
    os.killpg(proc.pid, signal.SIGINT)  # what Ctrl-C does: the whole run, ansible-playbook included
    output = proc.communicate(timeout=120)[0]
    assert proc.returncode != 0, output
    started = time.monotonic()
    again = ci("configure", "--env", "local")
    assert again.code == 0, again.output
    with host.sudo():
        assert host.service("airflow-triggerer").is_running
        assert "maxauthtries 2" in host.check_output("sshd -T").splitlines()
    print(f"\nsite.yml interrupted after 25 s; the next run converged in {time.monotonic() - started:.0f} s, "
          f"healthy {health_wait():.1f} s later")
