"""The push Jenkinsfile's stages, read through the Jenkinsfile checker's Groovy 2.4 parser: every branch gets
the fast suites (lint, unit, the slow unit tests, the ETL tests), and the pipeline tests (tens of minutes on the
agent's local default) run only on main and on the nightly timer. `make test` runs both suites always."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest

from ci.jenkinsfile.groovy import parse
from ci.paths import ROOT

pytestmark = pytest.mark.slow  # starts processes or services: `make unit-slow`, not the push loop


def _walk(nodes: list[dict] | None) -> Iterator[dict]:
    for node in nodes or []:
        yield node
        yield from _walk(node.get("body"))


@pytest.fixture(scope="module")
def stages() -> list[dict]:
    parsed = parse([ROOT / "Jenkinsfile"])[0]
    assert not parsed["errors"], parsed["errors"]
    pipeline = next(n for n in parsed["body"] if n.get("name") == "pipeline")
    return next(n for n in pipeline["body"] if n.get("name") == "stages")["body"]


def _commands(stage: dict) -> list[str]:
    return [a["value"] for n in _walk(stage["body"]) if n.get("name") == "sh" for a in n["args"] if a["t"] == "const"]


def _conditions(stage: dict) -> set[tuple[str, str]]:
    when = next((n for n in stage["body"] if n.get("name") == "when"), None)
    return {(n["name"], n["args"][0]["value"]) for n in _walk(when["body"] if when else []) if n.get("args")}


def test_every_branch_runs_lint_unit_and_the_etl_tests_and_nothing_slower(stages):
    unconditional = [c for s in stages if not _conditions(s) for c in _commands(s)]
    assert unconditional == ["make lint", "make unit", "make unit-slow", "make etl-tests"]


def test_the_pipeline_tests_run_on_main_and_at_night_only(stages):
    (stage,) = [s for s in stages if "make pipeline-tests" in _commands(s)]
    assert _conditions(stage) == {("branch", "main"), ("triggeredBy", "TimerTrigger")}
    assert re.search(r"cron\(env\.BRANCH_NAME == 'main' \? '[^']+' : ''\)", (ROOT / "Jenkinsfile").read_text())


def test_make_test_runs_both_suites():
    lines = (ROOT / "Makefile").read_text().splitlines()
    recipe = lines[next(i for i, ln in enumerate(lines) if ln.startswith("suites:")) + 1]
    assert recipe.startswith("\t$(PY) -m ci suites ")
    assert {"unit", "unit-slow", "etl-tests", "pipeline-tests"} <= set(recipe.replace('"', " ").split())
