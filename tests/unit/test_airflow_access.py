"""The tenants' Airflow access script (ansible/roles/airflow/files/airflow_access.py) agrees with the tenant
model on every name, and refuses a malformed state before it changes anything. What it does to FAB's tables is
tested on the live local default (tests/integration/test_3_security.py, tests/infra/test_access.py)."""

from __future__ import annotations

import importlib.util
import re

import pytest
import yaml

from ci.paths import DAGS, ROOT
from tiny_etl import tenant as model

SCRIPT = ROOT / "ansible" / "roles" / "airflow" / "files" / "airflow_access.py"
spec = importlib.util.spec_from_file_location("airflow_access", SCRIPT)
access = importlib.util.module_from_spec(spec)
spec.loader.exec_module(access)
# FAB's DAG-level resources and their actions (the provider's permissions.RESOURCE_DETAILS_MAP): a DAG naming
# anything else fails to import.
DAG_LEVEL = {"DAGs": {"can_read", "can_edit", "can_delete", "menu_access"},
             "DAG Runs": {"can_read", "can_create", "can_delete", "menu_access"}}


def test_the_script_and_the_model_name_the_same_roles_and_logins():
    tenant = model.load_tenant(DAGS / "tenants" / "acme.yml")
    assert access.LEVELS == model.LEVELS
    assert set(tenant.access_control) == {access.role_name("acme", level) for level in access.LEVELS}
    for level in access.LEVELS:
        assert tenant.airflow_role(level) == access.role_name("acme", level)
    for person in tenant.people:
        assert access.LOGIN.match(tenant.username(person)).groups() == ("acme", person.name)


def test_a_login_is_a_tenant_id_and_a_person_s_name_as_everywhere_else():
    """The script's login rule is the model's IDENTIFIER and PERSON joined by a dot, and provision's check."""
    core = re.compile(r"^\^(.*)\$$")
    expected = rf"^({core.match(model.IDENTIFIER.pattern)[1]})\.({core.match(model.PERSON.pattern)[1]})$"
    assert access.LOGIN.pattern == expected
    provision = yaml.safe_load((ROOT / "ansible/roles/aws_platform/vars/main.yml").read_text())
    assert provision["aws_platform_person_login_regex"] == expected.replace("(", "").replace(")", "")
    # the users the fingerprint query digests (site.yml's skip): the same logins
    sql = (ROOT / "ansible/roles/airflow/files/access_fingerprint.sql").read_text()
    assert f"u.username ~ '{expected.replace('(', '').replace(')', '').replace(chr(92) + '.', '[.]')}'" in sql


def test_site_yml_reads_the_note_the_script_leaves():
    variables = yaml.safe_load((ROOT / "ansible/roles/airflow/vars/main.yml").read_text())
    assert variables["airflow_access_note_prefix"] == access.NOTE


def test_the_dags_grant_only_what_fab_knows_per_dag():
    tenant = model.load_tenant(DAGS / "tenants" / "acme.yml")
    for grants in tenant.access_control.values():
        for resource, actions in grants.items():
            assert resource in DAG_LEVEL and actions <= DAG_LEVEL[resource], (resource, actions)


def test_the_roles_reach_no_dag_and_no_asset_by_themselves():
    """Global DAG permissions would show every tenant's DAGs; assets carry other tenants' names and events."""
    for level, permissions in access.PERMISSIONS.items():
        resources = {resource for _, resource in permissions}
        assert ("can_read", "DAGs") not in permissions and ("can_edit", "DAGs") not in permissions, level
        assert not resources & {"Assets", "Asset Aliases", "Connections", "Variables", "Users", "Roles"}, level
        assert not any(r.startswith(access.DAG_RESOURCE_PREFIXES) for r in resources), level
    assert access.VIEWER < access.OPERATOR


@pytest.mark.parametrize(("wanted", "message"), [
    ({"tenants": ["acme"], "people": {"globex.gus": {"level": "viewer"}}, "passwords": {"globex.gus": "s3cret-1"}},
     "globex.gus: not <tenant>.<name> of a tenant among ['acme']"),
    ({"tenants": ["acme"], "people": {"acme.ana": {"level": "admin"}}, "passwords": {"acme.ana": "s3cret-1"}},
     "acme.ana: level 'admin' is not one of viewer, operator"),
    ({"tenants": ["acme"], "people": {"acme.ana": {"level": "viewer"}}, "passwords": {}},
     "acme.ana: no password"),
    ({"tenants": ["acme"], "people": {"Acme.ana": {"level": "viewer"}}, "passwords": {"Acme.ana": "s3cret-1"}},
     "Acme.ana: not <tenant>.<name>"),
    ({"tenants": ["acme"], "people": {}, "passwords": {}, "state_hash": "1' IS NULL; DROP TABLE ab_user; --"},
     "state_hash: not a sha256 digest"),
])
def test_a_malformed_state_is_refused_naming_the_login_and_no_password(wanted, message):
    with pytest.raises(ValueError, match=re.escape(message)) as exc:
        access.check_wanted(wanted)
    assert "s3cret" not in str(exc.value)
