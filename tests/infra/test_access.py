"""Verify, on any environment: each tenant's people reach their own tenant's DAGs and nothing else, asked through
the API as each person of the tenant files (the password from the environment's secret store, as provision made
it)."""

from __future__ import annotations

import time

import pytest
import requests

from ci.airflow_api import AirflowApi, admin_login, ui_endpoint
from ci.paths import DAGS
from ci.stages.password import secret_name
from tiny_etl.tenant import valid_tenants


@pytest.fixture(scope="module")
def people() -> list[str]:
    """Every person's login (<tenant>.<name>) of the tenant files."""
    return sorted(tenant.username(person) for tenant in valid_tenants(DAGS / "tenants") for person in tenant.people)


def _seen(api: AirflowApi) -> list[str]:
    return sorted(dag["dag_id"] for dag in api.dags())


def test_every_person_sees_exactly_their_tenant_s_dags_and_is_refused_the_others(platform, people):
    """The DAG list of each person is the admin's list cut to the person's tenant (`<prefix>__<tenant>`); another
    tenant's DAG is 403. A DAG parsed before its roles existed gets its permissions at its next parse (seconds)."""
    if not people:
        pytest.skip("no tenant file lists people")
    endpoint = ui_endpoint(platform)
    every = _seen(admin_login(platform))
    for login in people:
        tenant = login.split(".", 1)[0]
        api = AirflowApi.login(endpoint.url, login, platform.secret(secret_name(login)),
                               verify=endpoint.verify)
        own = [dag for dag in every if dag.endswith(f"__{tenant}")]
        deadline = time.monotonic() + 60
        while (seen := _seen(api)) != own and time.monotonic() < deadline:
            time.sleep(5)
        assert seen == own, f"{login} sees {seen}, not {tenant}'s DAGs {own}"
        for other in [dag for dag in every if dag not in own][:2]:
            reply = requests.get(f"{endpoint.url}/api/v2/dags/{other}", timeout=15, verify=endpoint.verify,
                                 headers={"Authorization": f"Bearer {api.token}"})
            assert reply.status_code == 403, f"{login} reading {other}: HTTP {reply.status_code}"
