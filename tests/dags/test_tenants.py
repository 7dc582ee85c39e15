"""Every tenant file in dags/tenants/ is valid: a malformed one fails here, naming file, field, expectation."""

from __future__ import annotations

import pytest

from ci.paths import DAGS
from tiny_etl.tenant import TenantFileError, load_tenant, tenant_files

FILES = tenant_files(DAGS / "tenants")


@pytest.mark.parametrize("path", FILES, ids=[p.name for p in FILES])
def test_tenant_file_is_valid(path):
    try:
        load_tenant(path)
    except TenantFileError as exc:
        pytest.fail(str(exc), pytrace=False)


@pytest.mark.parametrize("path", FILES, ids=[p.name for p in FILES])
def test_each_tenant_has_its_dags(path):
    from ci.dag_integrity import load_dag_file

    tenant = load_tenant(path).tenant
    assert f"tenant_etl__{tenant}" in load_dag_file((DAGS / "tenant_etl.py").resolve()).dags
    assert f"tenant_analytics__{tenant}" in load_dag_file((DAGS / "tenant_analytics.py").resolve()).dags


def _tenant_dags(folder) -> dict:
    """dag_id -> DAG of tenant_etl.py and tenant_analytics.py parsed with the tenant files of folder."""
    from airflow.dag_processing.dagbag import DagBag

    dags = {}
    for name in ("tenant_etl.py", "tenant_analytics.py"):
        bag = DagBag(dag_folder=str((DAGS / name).resolve()), load_op_links=False)
        assert not bag.import_errors, bag.import_errors
        dags.update(bag.dags)
    return dags


def test_an_inactive_tenants_dags_are_created_paused_and_an_active_ones_unpaused(tmp_path, monkeypatch):
    acme = (DAGS / "tenants" / "acme.yml").read_text()
    (tmp_path / "acme.yml").write_text(acme)  # active by default
    (tmp_path / "dormant.yml").write_text(acme.replace("tenant: acme", "tenant: dormant") + "active: false\n")
    monkeypatch.setenv("TINY_TENANTS_DIR", str(tmp_path))
    declared = {dag_id: dag.is_paused_upon_creation for dag_id, dag in _tenant_dags(tmp_path).items()}
    assert declared == {"tenant_etl__acme": False, "tenant_analytics__acme": False,
                        "tenant_etl__dormant": True, "tenant_analytics__dormant": True}


@pytest.mark.parametrize("path", FILES, ids=[p.name for p in FILES])
def test_each_tenants_dags_declare_the_state_of_its_file(path):
    from ci.dag_integrity import load_dag_file

    tenant = load_tenant(path)
    for name, prefix in (("tenant_etl.py", "tenant_etl"), ("tenant_analytics.py", "tenant_analytics")):
        dag = load_dag_file((DAGS / name).resolve()).dags[f"{prefix}__{tenant.tenant}"]
        assert dag.is_paused_upon_creation is (not tenant.active)


@pytest.mark.parametrize("path", FILES, ids=[p.name for p in FILES])
def test_each_tenants_dags_admit_only_its_own_roles(path):
    """Both DAGs of a tenant name exactly its two roles in access_control (the DAG processor revokes every other
    non-admin role's permissions on them): viewers read, operators also edit and trigger."""
    from ci.dag_integrity import load_dag_file

    tenant = load_tenant(path).tenant
    expected = {f"tenant_{tenant}_viewer": {"DAGs": {"can_read"}},
                f"tenant_{tenant}_operator": {"DAGs": {"can_read", "can_edit"}, "DAG Runs": {"can_read", "can_create"}}}
    for name, prefix in (("tenant_etl.py", "tenant_etl"), ("tenant_analytics.py", "tenant_analytics")):
        dag = load_dag_file((DAGS / name).resolve()).dags[f"{prefix}__{tenant}"]
        assert {role: {res: set(acts) for res, acts in grants.items()}
                for role, grants in dag.access_control.items()} == expected, dag.dag_id


def test_a_scheduled_etl_run_loads_the_day_before_it_runs():
    """The nightly run loads the day that has ended: the acme run at 03:00 on the 27th has `ds` the 26th
    (Airflow 3's plain cron trigger would give the 27th, a day whose deliveries have not arrived)."""
    import datetime as dt

    from airflow.timetables.base import DataInterval, TimeRestriction

    from ci.dag_integrity import load_dag_file

    dag = load_dag_file((DAGS / "tenant_etl.py").resolve()).dags["tenant_etl__acme"]
    last = DataInterval(dt.datetime(2026, 11, 25, 3, tzinfo=dt.UTC), dt.datetime(2026, 11, 26, 3, tzinfo=dt.UTC))
    info = dag.timetable.next_dagrun_info(last_automated_data_interval=last,
                                          restriction=TimeRestriction(earliest=None, latest=None, catchup=True))
    assert info.run_after == dt.datetime(2026, 11, 27, 3, tzinfo=dt.UTC)
    assert info.logical_date.date() == dt.date(2026, 11, 26)
