"""The SQL files rds_bootstrap runs on every environment (dags/tiny_etl/sql, which the ETL tests run too, and
the role's own files/). Their runners bind parameters psycopg2-style (postgresql_query's named_args,
tiny_etl.access), so a percent sign other than a placeholder would be read as one; each file ends with the row
its runner reads."""

from __future__ import annotations

import re

import pytest

from ci.paths import ROOT
from tiny_etl.access import PLATFORM_SQL, RETIRED_TENANTS_SQL, TENANT_SQL

ACT_FOR_SQL = ROOT / "ansible" / "roles" / "rds_bootstrap" / "files" / "act_for_roles.sql"
PLACEHOLDERS = {PLATFORM_SQL: set(), TENANT_SQL: {"%(tenant)s"}, RETIRED_TENANTS_SQL: {"%(tenants)s"},
                ACT_FOR_SQL: {"%(roles)s"}}


@pytest.mark.parametrize("path", list(PLACEHOLDERS), ids=lambda p: p.name)
def test_percent_signs_are_the_bound_parameters_only(path):
    text = path.read_text(encoding="utf-8")
    assert set(re.findall(r"%\(\w+\)s", text)) == PLACEHOLDERS[path]
    assert re.sub(r"%\(\w+\)s", "", text).count("%") == 0, f"{path.name}: a % that is no placeholder"


@pytest.mark.parametrize("path", list(PLACEHOLDERS), ids=lambda p: p.name)
def test_each_file_ends_with_the_changed_row(path):
    statements = [s.strip() for s in path.read_text(encoding="utf-8").split("$$;")]
    assert statements[-1] == "SELECT current_setting('tiny.changed')::boolean AS changed;"


def test_the_tenant_id_rule_is_one_rule():
    """tiny_etl.tenant checks a tenant file's id; provision checks the ids it makes secrets for; tenant.sql checks
    the id it builds role and schema names from; retired_tenants.sql knows tenant roles by it. All accept exactly
    the same ids."""
    import yaml

    from tiny_etl.tenant import IDENTIFIER

    in_sql = re.search(r"tenant !~ '([^']+)'", TENANT_SQL.read_text(encoding="utf-8")).group(1)
    variables = yaml.safe_load((ROOT / "ansible" / "roles" / "aws_platform" / "vars" / "main.yml").read_text())
    assert in_sql == variables["aws_platform_tenant_id_regex"] == IDENTIFIER.pattern
    role_rule = re.search(r"rolname ~ '([^']+)'", RETIRED_TENANTS_SQL.read_text(encoding="utf-8")).group(1)
    assert role_rule == "^etl_" + IDENTIFIER.pattern.removeprefix("^")
