"""Tenant files: precise errors for malformed ones; one bad file never hides the other tenants' DAGs;
a new tenant is one YAML file."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from ci.paths import DAGS, ROOT
from tiny_etl.tenant import TenantFileError, load_tenant

GOOD = (DAGS / "tenants" / "acme.yml").read_text()


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / f"{name}.yml"
    path.write_text(textwrap.dedent(text))
    return path


@pytest.mark.parametrize(("change", "message"), [
    (("schedule: \"0 3 * * *\"", "schedule: 3"), "acme.yml: schedule: expected a cron expression or preset such as "
                                                 "@daily, got 3"),
    (("format: csv", "format: xlsx"), "acme.yml: sources[0].format: expected one of csv, jsonl, got 'xlsx'"),
    (("type: decimal", "type: money"), "acme.yml: sources[0].columns[5].type: expected one of int, decimal, text, "
                                       "date, timestamp, got 'money'"),
    (("key: [order_id]", "key: [id]"), "acme.yml: sources[0].key: expected column names among"),
    (("tenant: acme", "tenant: Acme Corp"), "acme.yml: tenant: expected a lower-case identifier"),
    (("start_date: 2026-11-01", "start_date: soon"), "acme.yml: start_date: expected a date such as 2026-11-01"),
    (("retries: 3", "retries: 0"), "acme.yml: retries: expected a whole number >= 1, got 0"),
    (("retry_delay_minutes: 1", "retry_delay_minutes: 0"),
     "acme.yml: retry_delay_minutes: expected whole minutes between 1 and 1440, got 0"),
    (("retry_delay_minutes: 1", "retry_delay_minutes: 5m"),
     "acme.yml: retry_delay_minutes: expected whole minutes between 1 and 1440, got '5m'"),
    (("retries: 3", "retries: 3\nactive: no please"),
     "acme.yml: active: expected true (the schedule runs) or false (its DAGs stay paused), got 'no please'"),
    (("retries: 3", "retries: 3\ntimezone: Europe/Hamburg"),
     "acme.yml: timezone: expected an IANA time zone such as UTC or Europe/Berlin, got 'Europe/Hamburg'"),
    (("format: csv", "format: csv\n    encoding: utf-16"),
     "acme.yml: sources[0].encoding: expected a Python codec name that writes ASCII as ASCII"),
    (("format: csv", "format: csv\n    encoding: klingon"),
     "acme.yml: sources[0].encoding: expected a Python codec name that writes ASCII as ASCII"),
    (("multiply: [quantity, unit_price]", "multiply: [quantity, product]"),
     "acme.yml: sources[0].derived[0].multiply: expected two of the numeric columns"),
    (("{name: order_id, type: int, required: true}", "{name: order_id, type: int, required: maybe}"),
     "acme.yml: sources[0].columns[0].required: expected true or false, got 'maybe'"),
    (("level: viewer", "level: admin"), "acme.yml: people[1].level: expected one of viewer, operator, got 'admin'"),
    (("{name: ben,", "{name: Ben B,"), "acme.yml: people[1].name: expected a lower-case name"),
    (("{name: ben,", "{name: ana,"), "acme.yml: people: expected unique names, got ['ana', 'ana']"),
    (("email: ana@acme.example", "email: ana"), "acme.yml: people[0].email: expected an e-mail address, got 'ana'"),
    (("- {name: ben, level: viewer}", "- ben"), "acme.yml: people[1]: expected a mapping {name, level, email}"),
])
def test_malformed_tenant_names_file_field_and_expectation(tmp_path, change, message):
    assert re.match(r"acme\.yml: \w[\w.\[\]]*: expected \S", message), "a case names the file, field and expectation"
    old, new = change
    assert old in GOOD
    path = write(tmp_path, "acme", GOOD.replace(old, new, 1))
    with pytest.raises(TenantFileError) as exc:
        load_tenant(path)
    assert message in str(exc.value)


def test_invalid_yaml_names_file_and_line(tmp_path):
    path = write(tmp_path, "acme", GOOD.replace("  - name: orders\n", "  - name: orders\n    oops: [\n", 1))
    with pytest.raises(TenantFileError, match=r"acme\.yml:\d+: not valid YAML: "):
        load_tenant(path)


def test_retry_delay_is_per_tenant_with_a_default(tmp_path):
    acme = load_tenant(DAGS / "tenants" / "acme.yml")
    assert acme.default_args["retry_delay"].total_seconds() == 60
    plain = load_tenant(write(tmp_path, "acme", GOOD.replace("retry_delay_minutes: 1\n", "")))
    assert plain.default_args["retry_delay"].total_seconds() == 300


def _dag_ids(*folders: Path) -> list[tuple[set[str], str]]:
    """Each folder's tenant_etl.py parsed as Airflow would, in one fresh interpreter (about 3 s of imports)."""
    code = ("import json, sys; from ci.dag_integrity import load_dag_file; from pathlib import Path; "
            "bags = [load_dag_file(Path(f)) for f in sys.argv[1:]]; "
            "print(json.dumps([[sorted(b.dags), b.import_error] for b in bags]))")
    proc = subprocess.run([sys.executable, "-c", code, *(str(f / "tenant_etl.py") for f in folders)], cwd=ROOT,
                          capture_output=True, text=True, check=True,
                          env={"PYTHONPATH": f"{ROOT}:{folders[0]}", "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
                               "PATH": "/usr/bin:/bin", "AIRFLOW_HOME": str(folders[0] / "home")})
    import json

    return [(set(ids), error or "") for ids, error in json.loads(proc.stdout.strip().splitlines()[-1])]


@pytest.fixture(scope="module")
def parsed(tmp_path_factory) -> dict[str, tuple[set[str], str]]:
    """Two copies of dags/, one with a broken tenant file and one with a new tenant's, parsed together."""
    cases = {
        "broken": ("broken.yml", "tenant: broken\nowner: x\nschedule: '@daily'\n"),
        "new": ("initech.yml", GOOD.replace("tenant: acme", "tenant: initech")),
    }
    folders = []
    for case, (name, text) in cases.items():
        folder = tmp_path_factory.mktemp(case) / "dags"
        shutil.copytree(DAGS, folder, ignore=shutil.ignore_patterns("__pycache__"))
        (folder / "tenants" / name).write_text(text)
        folders.append(folder)
    return dict(zip(cases, _dag_ids(*folders), strict=True))


def test_bad_tenant_file_does_not_break_the_others(parsed):
    ids, error = parsed["broken"]
    assert error == ""
    assert ids == {"tenant_etl__acme", "tenant_etl__globex"}


def test_a_new_tenant_is_one_yaml_file(parsed):
    ids, _ = parsed["new"]
    assert "tenant_etl__initech" in ids
