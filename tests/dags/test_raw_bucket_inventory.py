"""raw_bucket_inventory: structure and task logic (S3 access is exercised end to end in the ETL issue)."""

from __future__ import annotations

from ci.dag_integrity import load_dag_file
from ci.paths import DAGS

DAG_FILE = DAGS / "raw_bucket_inventory.py"


def _dag():
    return load_dag_file(DAG_FILE.resolve()).dags["raw_bucket_inventory"]


def test_tasks_and_order():
    dag = _dag()
    assert set(dag.task_dict) == {"list_raw_objects", "summarise_day", "report"}
    assert dag.task_dict["list_raw_objects"].downstream_task_ids == {"summarise_day"}
    assert dag.task_dict["summarise_day"].downstream_task_ids == {"report"}
    assert dag.task_dict["report"].downstream_task_ids == set()


def test_runs_daily_without_backfill():
    dag = _dag()
    assert dag.catchup is False
    assert dag.max_active_runs == 1


def test_summarise_task_callable():
    summarise_day = _dag().task_dict["summarise_day"].python_callable
    out = summarise_day([{"key": "raw/acme/2026-11-24/a.csv", "size": 3}], ds="2026-11-24")
    assert out["tenants"] == [{"tenant": "acme", "files": 1, "bytes": 3}]
