"""`python -m ci unit` fails on each kind of broken DAG, naming the file (and line where there is one).

One run of the real stage entry over tests/fixtures/dags/bad, which holds one broken DAG per case and
one good DAG that must not be reported.
"""

from __future__ import annotations

import subprocess
import sys

import pytest

from ci.paths import ROOT

FIXTURES = ROOT / "tests" / "fixtures" / "dags" / "bad"

CASES = {
    "syntax_error.py": ("test_imports_without_errors", "syntax_error.py:7: SyntaxError"),
    "missing_import.py": ("test_imports_without_errors",
                          "missing_import.py:5: ModuleNotFoundError: No module named 'tiny_nonexistent_package'"),
    "cycle.py": ("test_imports_without_errors", "cycle.py: AirflowDagCycleException: Cycle detected"),
    "missing_owner.py": ("test_owner_is_set", "missing_owner.hello has owner 'airflow'"),
    "top_level_http.py": ("test_imports_without_errors", "top_level_http.py:9: top-level network access"),
    "top_level_db.py": ("test_imports_without_errors", "top_level_db.py:8: top-level database access"),
    "moving_start_date.py": ("test_schedule_start_date_catchup_explicit",
                             "moving_start_date.py:7: start_date calls now()"),
    "wrong_name.py": ("test_dag_id_matches_file_name", "dag_id 'some_other_name' does not match the file name"),
}


@pytest.fixture(scope="module")
def fixture_run() -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "ci", "unit", "--dags-folder", str(FIXTURES), "tests/dags/test_dag_integrity.py"],
        cwd=ROOT, capture_output=True, text=True, timeout=300, check=False,
    )


def test_unit_stage_fails_on_broken_dags(fixture_run):
    assert fixture_run.returncode == 1, fixture_run.stdout[-3000:]
    assert "unit failed" in fixture_run.stdout


@pytest.mark.parametrize("file_name", sorted(CASES))
def test_each_broken_dag_is_reported_with_file_and_reason(fixture_run, file_name):
    test_name, message = CASES[file_name]
    out = fixture_run.stdout
    assert f"FAILED tests/dags/test_dag_integrity.py::{test_name}[{file_name}]" in out, out[-3000:]
    assert message in out, f"expected {message!r} in the output"


def test_good_dag_is_not_reported(fixture_run):
    assert "good_dag.py]" not in "\n".join(ln for ln in fixture_run.stdout.splitlines() if ln.startswith("FAILED"))
