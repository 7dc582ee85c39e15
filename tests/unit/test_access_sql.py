"""dags/tiny_etl/sql: the files rds_bootstrap runs on every environment and the ETL tests run here. Their
runners bind parameters psycopg2-style (postgresql_query's named_args, tiny_etl.access), so a percent sign other
than a placeholder would be read as one; each file ends with the row its runner reads."""

from __future__ import annotations

import re

import pytest

from tiny_etl.access import PLATFORM_SQL, TENANT_SQL

PLACEHOLDERS = {PLATFORM_SQL: set(), TENANT_SQL: {"%(tenant)s"}}


@pytest.mark.parametrize("path", [PLATFORM_SQL, TENANT_SQL], ids=lambda p: p.name)
def test_percent_signs_are_the_bound_parameters_only(path):
    text = path.read_text(encoding="utf-8")
    assert set(re.findall(r"%\(\w+\)s", text)) == PLACEHOLDERS[path]
    assert re.sub(r"%\(\w+\)s", "", text).count("%") == 0, f"{path.name}: a % that is no placeholder"


@pytest.mark.parametrize("path", [PLATFORM_SQL, TENANT_SQL], ids=lambda p: p.name)
def test_each_file_ends_with_the_changed_row(path):
    statements = [s.strip() for s in path.read_text(encoding="utf-8").split("$$;")]
    assert statements[-1] == "SELECT current_setting('tiny.changed')::boolean AS changed;"
