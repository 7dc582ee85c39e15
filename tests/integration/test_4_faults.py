"""Ordinary failures on the local default, each with the recovery time it measured (printed)."""

from __future__ import annotations

import datetime as dt
import os
import signal
import subprocess
import sys
import time

import pytest
from platform_probe import (
    admin_api,
    all_healthy,
    engine,
    health,
    health_wait,
    partition_rows,
    task_tries,
    warehouse_rows,
)
from stage_cli import ci

from ci.airflow_api import AirflowApi
from ci.host_exec import SERVICES, airflow_host, warehouse_query
from ci.localcloud import hosts
from ci.localcloud.engine import docker
from ci.paths import ROOT
from ci.platform import Platform
from ci.sample_data import sample_day
from ci.stages.seed import upload_sample_day

pytestmark = [pytest.mark.slow, pytest.mark.usefixtures("local_cloud")]


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
    started = time.monotonic()
    docker(engine(), "restart", "--time", "30", hosts.hosts("local")[0].container)
    healthy = health_wait()
    host = airflow_host("local")
    assert all(host.service(s).is_running for s in SERVICES)
    print(f"\nAirflow host container restart: all services healthy {time.monotonic() - started:.1f} s after the "
          f"restart began ({healthy:.1f} s after the container was up)")


BASE_TASKS_BEFORE_INTERRUPT = 6  # site.yml is stopped while the base role runs


def test_interrupted_site_yml_converges_on_the_next_run():
    host = airflow_host("local")
    with host.sudo():  # something for the run to repair: a stopped service and a weakened SSH setting
        host.check_output("systemctl stop airflow-triggerer")
        host.check_output("sed -i 's/^MaxAuthTries 2/MaxAuthTries 6/' /etc/ssh/sshd_config.d/00-tiny-hardening.conf")
    started_run = time.monotonic()
    proc = subprocess.Popen([sys.executable, "-m", "ci", "configure", "--env", "local"], cwd=ROOT,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True)
    seen, base_tasks = [], 0
    assert proc.stdout is not None
    for line in proc.stdout:  # until the facts play and part of base have run (a condition, not a sleep)
        seen.append(line)
        base_tasks += line.startswith("TASK [base : ")
        if base_tasks == BASE_TASKS_BEFORE_INTERRUPT:
            break
    assert base_tasks == BASE_TASKS_BEFORE_INTERRUPT, "".join(seen)
    interrupted_after = time.monotonic() - started_run
    os.killpg(proc.pid, signal.SIGINT)  # what Ctrl-C does in a terminal
    try:  # `ci` returns once ansible-playbook is gone (stopped harder if it hangs: ci.ansible.INTERRUPT_GRACE)
        output = "".join(seen) + proc.communicate(timeout=60)[0]
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)  # the run must not go on beside the next tests
        raise
    assert proc.returncode != 0, output
    started = time.monotonic()
    again = ci("configure", "--env", "local")
    assert again.code == 0, again.output
    with host.sudo():
        assert host.service("airflow-triggerer").is_running
        assert "maxauthtries 2" in host.check_output("sshd -T").splitlines()
    print(f"\nsite.yml interrupted after {interrupted_after:.0f} s (in base's task {BASE_TASKS_BEFORE_INTERRUPT}); the "
          f"next run converged in {time.monotonic() - started:.0f} s, "
          f"healthy {health_wait():.1f} s later")


ROWS = 200  # good rows per sample file (ci.sample_data)


def _seed(day: str) -> int:
    """Upload the day's sample files; the rows acme's run must load from them."""
    upload_sample_day(Platform.load("local"), dt.date.fromisoformat(day), ROWS)
    return sum(f.good_rows for f in sample_day(dt.date.fromisoformat(day), ROWS) if f.key.startswith("raw/acme/"))


def _assert_loaded_once(tenant: str, run_id: str, day: str, expected_rows: int) -> list[dict]:
    """One ok etl.etl_runs record per source for the run, and its partition holds exactly the rows it loaded."""
    rows = warehouse_rows(tenant, run_id, day)
    assert rows, f"{run_id} left no etl.etl_runs record"
    for r in rows:  # one record per source, and the partition holds exactly what the run loaded
        assert r["status"] == "ok", r
        assert r["rows_in_table"] == r["rows_loaded"] == r["rows_in"] - r["rows_quarantined"], r
    assert len({r["source"] for r in rows}) == len(rows), f"duplicate etl_runs records: {rows}"
    assert sum(r["rows_loaded"] for r in rows) == expected_rows, f"expected {expected_rows} rows loaded: {rows}"
    return rows


def _wait_running(api: AirflowApi, dag_id: str, run_id: str, task_id: str, wait: float = 180) -> None:
    """Until task_id of the run is running (polled often: the fault must hit it mid-flight)."""
    deadline = time.monotonic() + wait
    while (tries := task_tries(api, dag_id, run_id)).get(task_id, ("none", 0))[0] != "running":
        assert time.monotonic() < deadline, f"{task_id} was not seen running within {wait:.0f} s: {tries}"
        time.sleep(0.2)


def test_database_outage_during_a_run_recovers_and_loses_nothing():
    day, dag_id, task_id = "2026-11-02", "tenant_etl__acme", "orders.validate"
    expected = _seed(day)
    api = admin_api()
    run_id = f"db_outage__{time.strftime('%H%M%S')}"
    api.trigger_day(dag_id, run_id, dt.date.fromisoformat(day))
    _wait_running(api, dag_id, run_id, task_id)
    database = hosts.hosts("local")[1].container
    docker(engine(), "stop", "--time", "30", database)
    try:
        time.sleep(60)
        during = health()
    finally:
        docker(engine(), "start", database)
    back = time.monotonic()
    assert during is None, f"the API answered while the database was down: {during}"
    healthy = health_wait(timeout=300)
    state = admin_api().wait_for_run(dag_id, run_id, wait=900)
    finished = time.monotonic() - back
    tries = task_tries(admin_api(), dag_id, run_id)
    assert state == "success", tries
    assert tries[task_id][1] > 1, f"{task_id} was not retried after the outage: {tries}"
    assert all_healthy(health()), health()
    rows = _assert_loaded_once("acme", run_id, day, expected)
    host = airflow_host("local")
    assert all(host.service(s).is_running for s in SERVICES)
    print(f"\ndatabase stopped 60 s while {task_id} ran: the API gave no answer; every component healthy "
          f"{healthy:.1f} s after the database started, the run succeeded {finished:.0f} s after; tries "
          f"{({t: n for t, (_, n) in tries.items()})}; warehouse {rows}")


def test_full_log_volume_is_reported_and_the_run_recovers_once_space_returns():
    """Airflow may fail the task on the full volume or run it without its local log (both seen); either way the
    health check reports the volume, nothing is half loaded, and the run ends success exactly once."""
    day, dag_id, filler = "2026-11-03", "tenant_etl__acme", "/opt/airflow/logs/filler"
    expected = _seed(day)
    host = airflow_host("local")
    before = partition_rows("acme", day)
    since = host.check_output("date +%s")
    with host.sudo("airflow"):
        host.run(f"dd if=/dev/zero of={filler} bs=1M status=none")  # until the volume is full
    filled = time.monotonic()
    try:
        with host.sudo("airflow"):
            check = host.run("/usr/local/sbin/airflow-health")
            assert host.check_output("df --output=avail -B1 /opt/airflow/logs | tail -1").strip() == "0"
        assert check.rc == 1, check.stdout
        assert "FAIL log volume /opt/airflow/logs: 0 MB free" in check.stdout, check.stdout
        with host.sudo():  # the timer's next run fails its unit: `systemctl --failed`, the journal
            while "FAIL log volume" not in host.check_output(
                    f"journalctl -u airflow-health.service --since @{since} --no-pager -o cat"):
                assert time.monotonic() - filled < 150, "airflow-health.timer did not report the full volume"
                time.sleep(2)
            assert host.run("systemctl is-failed --quiet airflow-health.service").rc == 0
        reported = time.monotonic() - filled
        airflow_says = health()
        assert all_healthy(airflow_says), f"Airflow's health endpoint: {airflow_says}"
        api = admin_api()
        run_id = f"log_full__{time.strftime('%H%M%S')}"
        api.trigger_day(dag_id, run_id, dt.date.fromisoformat(day))
        while (first := task_tries(api, dag_id, run_id).get("orders.validate", ("none", 0))[0]) not in (
                "success", "up_for_retry", "failed"):
            assert time.monotonic() - filled < 300, f"orders.validate still {first} on the full volume after 300 s"
            time.sleep(1)
        if first == "success":  # ran without its local log: the run must finish and load the day exactly once
            assert api.wait_for_run(dag_id, run_id, wait=600) == "success", task_tries(api, dag_id, run_id)
            during = "succeeded while the volume was full"
        else:  # failed before writing anything: no record, the partition as it was
            records = warehouse_query(host, "select count(*) from etl.etl_runs where run_id = %s", (run_id,))
            assert records == [[0]], "a run wrote to the warehouse while its task could not log"
            assert partition_rows("acme", day) == before, "the partition changed while the task failed"
            during = f"ended its first try {first} with nothing written (partition as before: {before})"
    finally:
        with host.sudo("airflow"):
            host.run(f"rm -f {filler}")
    freed = time.monotonic()
    with host.sudo("airflow"):
        while host.run("/usr/local/sbin/airflow-health").rc != 0:
            assert time.monotonic() - freed < 120, "airflow-health still fails after the volume was freed"
            time.sleep(2)
    healthy = time.monotonic() - freed
    state = api.wait_for_run(dag_id, run_id, wait=600)
    assert state == "success", task_tries(api, dag_id, run_id)
    rows = _assert_loaded_once("acme", run_id, day, expected)
    assert all(host.service(s).is_running for s in SERVICES)
    print(f"\nlog volume full: airflow-health failed at once, airflow-health.timer reported it after "
          f"{reported:.0f} s while Airflow's health endpoint said {airflow_says}; the run {during}; airflow-health "
          f"ok {healthy:.1f} s after freeing space; the run ended success {time.monotonic() - freed:.0f} s after, "
          f"loaded once: {rows}")
