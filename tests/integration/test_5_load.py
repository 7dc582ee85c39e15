"""Load on the default single host: 50 tenant ETL runs triggered at once all complete, none lost, and the
scheduler stays healthy; prints the throughput (task instances per minute) and the host's peak memory."""

from __future__ import annotations

import datetime as dt
import time

import pytest
from platform_probe import MemorySampler, admin_api, health

from ci.host_exec import airflow_host, warehouse_query
from ci.localcloud import hosts
from ci.platform import Platform
from ci.stages.seed import upload_sample_day

pytestmark = [pytest.mark.slow, pytest.mark.usefixtures("local_cloud")]

RUNS = 50
DAY = "2026-11-04"
TENANTS = ("acme", "globex")


def test_fifty_runs_at_once_all_complete():
    upload_sample_day(Platform.load("local"), dt.date.fromisoformat(DAY), 200)
    api = admin_api()
    stamp = time.strftime("%H%M%S")
    runs = [(f"tenant_etl__{TENANTS[i % 2]}", f"load_{stamp}_{i:02d}") for i in range(RUNS)]
    unhealthy: list[dict] = []
    with MemorySampler(hosts.hosts("local")[0].container) as memory:
        started = time.monotonic()
        for i, (dag_id, run_id) in enumerate(runs):  # each its own logical date, all reading DAY
            api.trigger_day(dag_id, run_id, dt.date.fromisoformat(DAY), offset_seconds=i)
        triggered = time.monotonic() - started
        pending = {run_id: dag_id for dag_id, run_id in runs}
        states: dict[str, str] = {}
        while pending:
            assert time.monotonic() - started < 1800, f"{len(pending)} runs still going after 30 min"
            for run_id, dag_id in list(pending.items()):
                state = api.call("GET", f"/dags/{dag_id}/dagRuns/{run_id}")["state"]
                if state in ("success", "failed"):
                    states[run_id] = state
                    del pending[run_id]
            now = health()
            if now is None or now["scheduler"] != "healthy":
                unhealthy.append(now)
            time.sleep(5)
        elapsed = time.monotonic() - started
    failed = sorted(r for r, s in states.items() if s != "success")
    assert not failed, f"runs that did not succeed: {failed}"
    tasks = {d: api.call("GET", f"/dags/{d}/tasks")["total_entries"] for d in {d for d, _ in runs}}
    not_done = {}
    for dag_id, run_id in runs:  # every task of every run ran to success: none skipped or lost
        ti_states = [ti["state"] for ti in api.task_instances(dag_id, run_id)]
        if len(ti_states) != tasks[dag_id] or set(ti_states) != {"success"}:
            not_done[run_id] = ti_states
    assert not not_done, f"runs whose task instances did not all succeed ({tasks} tasks per DAG): {not_done}"
    tis = sum(tasks[d] for d, _ in runs)
    records = warehouse_query(airflow_host("local"), "select run_id, status, rows_loaded from etl.etl_runs "
                              "where run_id like %s", (f"load_{stamp}_%",))
    assert sorted(r[0] for r in records) == sorted(r for _, r in runs), "a run left no (or a second) record"
    assert {r[1] for r in records} == {"ok"}, records
    assert not unhealthy, f"the scheduler was reported unhealthy: {unhealthy[:3]}"
    assert memory.samples, "the host's memory could not be read"
    print(f"\n{RUNS} runs triggered in {triggered:.1f} s, all succeeded in {elapsed:.0f} s: {tis} task instances, "
          f"{tis / (elapsed / 60):.1f} per minute; Airflow host peak memory {memory.peak_mb:.0f} MiB "
          f"({len(memory.samples)} samples); scheduler healthy throughout")
