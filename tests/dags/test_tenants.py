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
