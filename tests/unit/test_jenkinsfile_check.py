"""The Jenkinsfile checker: lexical helpers in-process, the fixture Jenkinsfiles through `ci lint`."""

from __future__ import annotations

import os
import re
import subprocess
import sys

import pytest

from ci.jenkinsfile.lexical import blank_strings_and_comments, groovy3_findings, unbalanced_brackets
from ci.paths import ROOT

FIXTURES = ROOT / "tests" / "fixtures" / "jenkinsfiles"

# fixture -> the `LINE:COL: error: text` the lint stage must print for it
EXPECTED = {
    "misspelled_directive": "5:13: error: unknown directive `stpes` in stage 'Build' (did you mean `steps`?)",
    "stage_without_steps": "9:9: error: stage 'Test' must have exactly one of steps, stages, parallel, matrix "
                           "(found: none)",
    "duplicate_stage": "9:9: error: duplicate stage name 'Build' (first at line 4)",
    "unbalanced_braces": "1:10: error: unbalanced brackets: `{` opened here is never closed",
    # Groovy 2.4 reads `{ def twice = x -> ... }` as a closure with a defaulted parameter: no syntax error.
    "groovy3_lambda": "7:35: error: Groovy 3 lambda `->` is not supported by Jenkins' Groovy 2.4: "
                      "use a closure `{ x -> ... }`",
    "groovy3_elvis_assignment": "8:28: error: Groovy 3 syntax `?=` is not supported by Jenkins' Groovy 2.4",
    "input_without_message": "5:13: error: input has no `message`",
    "bad_sections": "15:9: error: unknown directive `sucess` in post (did you mean `success`?)",
    "empty_stages": "3:5: error: `stages` has no stage",
    "duplicate_post_condition": "14:9: error: `always` appears more than once in post",
}
# the fixture's other findings: together with EXPECTED, everything the checker says about it
EXTRA = {
    "bad_sections": ["1:1: error: pipeline has no `agent` section",
                     "4:9: error: environment entries must be `NAME = value`, found `echo`",
                     "8:20: error: unknown directive `brnch` in when (did you mean `branch`?)"],
    "unbalanced_braces": ["10:1: error: syntax: expecting '}', found ''"],
    "misspelled_directive": ["4:9: error: stage 'Build' must have exactly one of steps, stages, parallel, matrix "
                             "(found: none)"],
    "groovy3_elvis_assignment": ["8:28: error: syntax: unexpected token: ?"],
}
FINDING = re.compile(r"^\s*tests/fixtures/jenkinsfiles/(?P<name>[\w.-]+)\.Jenkinsfile:(?P<finding>\d+:\d+: error: .*)$",
                     re.MULTILINE)

@pytest.fixture(scope="module")
def lint_run(tmp_path_factory) -> subprocess.CompletedProcess:
    files = [arg for name in [*sorted(EXPECTED), "good"]
             for arg in ("--jenkinsfile", f"tests/fixtures/jenkinsfiles/{name}.Jenkinsfile")]
    reports = tmp_path_factory.mktemp("reports")
    return subprocess.run([sys.executable, "-m", "ci", "lint", "--only", "jenkinsfile-check", *files], cwd=ROOT,
                          capture_output=True, text=True, timeout=120, check=False,
                          env={**os.environ, "TINY_REPORTS_DIR": str(reports)})


def _findings(stdout: str) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for match in FINDING.finditer(stdout):
        found.setdefault(match["name"], []).append(match["finding"])
    return found


@pytest.mark.slow
def test_lint_fails_on_bad_jenkinsfiles(lint_run):
    assert lint_run.returncode == 1, lint_run.stdout
    assert "lint failed" in lint_run.stdout


def test_every_fixture_has_its_expectation():
    assert {p.name.removesuffix(".Jenkinsfile") for p in FIXTURES.glob("*.Jenkinsfile")} == {*EXPECTED, "good"}


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_each_bad_jenkinsfile_named_with_line_and_reason(lint_run, name):
    expected = sorted([EXPECTED[name], *EXTRA.get(name, [])])
    found = sorted(_findings(lint_run.stdout).get(name, []))
    assert found == expected, f"{name}.Jenkinsfile: expected {expected}, the checker said {found}"


@pytest.mark.slow
def test_good_jenkinsfile_has_no_findings(lint_run):
    assert "good.Jenkinsfile:" not in lint_run.stdout
    assert "good" not in _findings(lint_run.stdout)


@pytest.mark.slow
def test_repository_jenkinsfile_is_clean():
    proc = subprocess.run([sys.executable, "-m", "ci", "jenkinsfile-check", "Jenkinsfile"],
                          cwd=ROOT, capture_output=True, text=True, timeout=120, check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_blanking_keeps_offsets_and_hides_strings():
    src = "sh 'a -> b' // c -> d\n/* { */ x"
    out = blank_strings_and_comments(src)
    assert len(out) == len(src)
    assert "->" not in out and "{" not in out
    assert out.endswith(" x")


@pytest.mark.parametrize("code", ["def f = x -> x", "list.each(it -> println(it))", "a !in b", "a === b",
                                  "String::valueOf", "m?[0]"])
def test_groovy3_constructs_found(code):
    assert groovy3_findings(f"node {{\n  {code}\n}}\n"), code


@pytest.mark.parametrize("code", ["def f = { x -> x }", "list.each { String s, int i -> println(s) }",
                                  "a == b", "sh 'x -> y'", "def m = this.&foo"])
def test_groovy2_constructs_accepted(code):
    assert groovy3_findings(f"node {{\n  {code}\n}}\n") == []


def test_unbalanced_closing_bracket_reported():
    assert unbalanced_brackets("a { b }\n}\n") == [(2, 1, "unbalanced brackets: `}` has no matching `{`")]
