"""`python -m ci unit` fails on each kind of broken DAG, naming the file (and line where there is one).

One run of the real stage entry over tests/fixtures/dags/bad, which holds one broken DAG per case and
one good DAG. The run's pytest JUnit XML says what each integrity test did for each file: a broken DAG
fails its own rule and no other, the good DAG passes every rule. The stage's reports go to a temporary
folder: reports/ holds only what the real stages wrote.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path

import pytest

from ci.config import settings
from ci.paths import ROOT

pytestmark = pytest.mark.slow  # starts processes or services: `make unit-slow`, not the push loop

FIXTURES = ROOT / "tests" / "fixtures" / "dags" / "bad"
GOOD = "good_dag.py"
SUITE = "tests/dags/test_dag_integrity.py"
# The tests that tests/dags/test_dag_integrity.py runs once per DAG file: one rule each.
RULES = ("test_imports_without_errors", "test_dag_id_matches_file_name", "test_owner_is_set", "test_tags_present",
         "test_retries_at_least_one", "test_schedule_start_date_catchup_explicit", "test_parse_time_within_budget")
BUDGET = settings().dag_parse_budget_seconds

# fixture -> (the one rule that must fail for it, the message that failure prints: text, or a pattern)
CASES: dict[str, tuple[str, str | re.Pattern]] = {
    "syntax_error.py": ("test_imports_without_errors", "syntax_error.py:7: SyntaxError"),
    "missing_import.py": ("test_imports_without_errors",
                          "missing_import.py:5: ModuleNotFoundError: No module named 'tiny_nonexistent_package'"),
    "cycle.py": ("test_imports_without_errors", "cycle.py: AirflowDagCycleException: Cycle detected"),
    "missing_owner.py": ("test_owner_is_set", "missing_owner.py: missing_owner.hello has owner 'airflow'"),
    "top_level_http.py": ("test_imports_without_errors", "top_level_http.py:9: top-level network access"),
    "top_level_db.py": ("test_imports_without_errors", "top_level_db.py:8: top-level database access"),
    "moving_start_date.py": ("test_schedule_start_date_catchup_explicit",
                             "moving_start_date.py:7: start_date calls now()"),
    "wrong_name.py": ("test_dag_id_matches_file_name",
                      "wrong_name.py: dag_id 'some_other_name' does not match the file name 'wrong_name'"),
    "no_tags.py": ("test_tags_present", "no_tags.py: no_tags has no tags"),
    "zero_retries.py": ("test_retries_at_least_one", "zero_retries.py: zero_retries.hello has retries=0, want >= 1"),
    "implicit_schedule.py": ("test_schedule_start_date_catchup_explicit",
                             "implicit_schedule.py:7: DAG has no explicit schedule="),
    "missing_start_date.py": ("test_schedule_start_date_catchup_explicit",
                              "missing_start_date.py:6: DAG has no explicit start_date="),
    "missing_catchup.py": ("test_schedule_start_date_catchup_explicit",
                           "missing_catchup.py:7: DAG has no explicit catchup="),
    "slow_parse.py": ("test_parse_time_within_budget",
                      re.compile(rf"slow_parse\.py: parsing took \d+\.\d\ds, budget {BUDGET:.2f}s "
                                 r"\(pyproject\.toml \[tool\.tiny-analytics\] dag_parse_budget_seconds\)")),
}
REAL_REPORTS = (ROOT / "reports" / "unit.xml", ROOT / "reports" / "unit-pytest.xml")


@dataclass
class FixtureRun:
    """The stage's exit code and output, and the outcome of each integrity test per fixture file."""

    proc: subprocess.CompletedProcess
    reports: Path
    outcomes: dict[str, dict[str, str]]  # file -> rule -> passed | failed | skipped | error
    failures: dict[tuple[str, str], str]  # (file, rule) -> the failure's (or error's) message
    real_reports_before: list[int | None]


def _mtimes(paths: tuple[Path, ...]) -> list[int | None]:
    return [p.stat().st_mtime_ns if p.exists() else None for p in paths]


def _outcome(case: ET.Element) -> tuple[str, str]:
    for tag, outcome in (("failure", "failed"), ("error", "error"), ("skipped", "skipped")):
        child = case.find(tag)
        if child is not None:
            return outcome, child.get("message", "") + "\n" + (child.text or "")
    return "passed", ""


@pytest.fixture(scope="module")
def fixture_run(tmp_path_factory) -> FixtureRun:
    reports = tmp_path_factory.mktemp("reports")
    before = _mtimes(REAL_REPORTS)
    proc = subprocess.run(
        # One process: this run is one of the outer run's tests, which already uses every core.
        [sys.executable, "-m", "ci", "unit", "--jobs", "0", "--dags-folder", str(FIXTURES), SUITE],
        cwd=ROOT, capture_output=True, text=True, timeout=300, check=False,
        env={**os.environ, "TINY_REPORTS_DIR": str(reports)},
    )
    junit = reports / "unit-pytest.xml"
    if not junit.is_file():
        pytest.fail(f"the fixture run wrote no {junit}:\n{proc.stdout[-3000:]}{proc.stderr[-3000:]}")
    outcomes: dict[str, dict[str, str]] = {}
    failures: dict[tuple[str, str], str] = {}
    for case in ET.parse(junit).getroot().iter("testcase"):
        match = re.fullmatch(r"(?P<rule>\w+)\[(?P<file>[^\]]+)\]", case.get("name", ""))
        if not match:
            continue
        outcome, message = _outcome(case)
        outcomes.setdefault(match["file"], {})[match["rule"]] = outcome
        if outcome in {"failed", "error"}:
            failures[match["file"], match["rule"]] = message
    return FixtureRun(proc, reports, outcomes, failures, before)


def _found(expected: str | re.Pattern, text: str) -> bool:
    return bool(expected.search(text)) if isinstance(expected, re.Pattern) else expected in text


def test_unit_stage_fails_on_broken_dags(fixture_run):
    assert fixture_run.proc.returncode == 1, fixture_run.proc.stdout[-3000:]
    assert "unit failed" in fixture_run.proc.stdout


def test_fixture_run_leaves_the_real_reports_alone(fixture_run):
    assert (fixture_run.reports / "unit.xml").is_file()
    assert _mtimes(REAL_REPORTS) == fixture_run.real_reports_before, "the fixture run wrote into reports/"


def test_every_fixture_and_every_rule_has_a_case(fixture_run):
    on_disk = {p.name for p in FIXTURES.glob("*.py")}
    assert on_disk == {*CASES, GOOD}, "each fixture DAG needs its entry in CASES"
    assert set(fixture_run.outcomes) == on_disk, "the fixture run did not check every fixture file"
    assert {rule for rule, _ in CASES.values()} == set(RULES), "each rule needs a fixture that breaks it"
    assert set(fixture_run.outcomes.get(GOOD, {})) == set(RULES), "the integrity suite's rules changed: update RULES"


@pytest.mark.parametrize("file_name", sorted(CASES))
def test_each_broken_dag_is_reported_with_file_and_reason(fixture_run, file_name):
    rule, message = CASES[file_name]
    outcomes = fixture_run.outcomes.get(file_name, {})
    failed = sorted(r for r, outcome in outcomes.items() if outcome not in {"passed", "skipped"})
    assert failed == [rule], f"{file_name}: expected only {rule} to fail, got {outcomes}"
    assert _found(message, fixture_run.failures[file_name, rule]), \
        f"expected {message!r} in {rule}'s failure, got {fixture_run.failures[file_name, rule]!r}"
    out = fixture_run.proc.stdout
    assert f"FAILED {SUITE}::{rule}[{file_name}]" in out, out[-3000:]
    assert _found(message, out), f"expected {message!r} in the stage output"


def test_good_dag_passes_every_rule(fixture_run):
    outcomes = fixture_run.outcomes.get(GOOD)
    assert outcomes == dict.fromkeys(RULES, "passed"), f"{GOOD}: {outcomes}"
