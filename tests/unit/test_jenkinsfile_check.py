"""The Jenkinsfile checker: lexical helpers in-process, the fixture Jenkinsfiles through `ci lint`."""

from __future__ import annotations

import subprocess
import sys

import pytest

from ci.jenkinsfile.lexical import blank_strings_and_comments, groovy3_findings, unbalanced_brackets
from ci.paths import ROOT

FIXTURES = ROOT / "tests" / "fixtures" / "jenkinsfiles"

# fixture -> the `LINE:COL: error: text` the lint stage must print for it
EXPECTED = {
    "misspelled_directive": "5:13: error: unknown directive `stpes` in stage 'Build' (did you mean `steps`?)",
    "stage_without_steps": "9:9: error: stage 'Test' must have exactly one of steps, stages, parallel, matrix",
    "duplicate_stage": "9:9: error: duplicate stage name 'Build' (first at line 4)",
    "unbalanced_braces": "1:10: error: unbalanced brackets: `{` opened here is never closed",
    "groovy3_lambda": "7:36: error: Groovy 3 lambda `->` is not supported",
    "input_without_message": "5:13: error: input has no `message`",
    "bad_sections": "15:9: error: unknown directive `sucess` in post (did you mean `success`?)",
}
EXTRA = {
    "bad_sections": ["1:1: error: pipeline has no `agent` section",
                     "4:9: error: environment entries must be `NAME = value`, found `echo`",
                     "8:20: error: unknown directive `brnch` in when (did you mean `branch`?)"],
    "unbalanced_braces": ["10:1: error: syntax: expecting '}'"],
}


@pytest.fixture(scope="module")
def lint_run() -> subprocess.CompletedProcess:
    files = [arg for name in [*sorted(EXPECTED), "good"]
             for arg in ("--jenkinsfile", f"tests/fixtures/jenkinsfiles/{name}.Jenkinsfile")]
    return subprocess.run([sys.executable, "-m", "ci", "lint", "--only", "jenkinsfile-check", *files],
                          cwd=ROOT, capture_output=True, text=True, timeout=120, check=False)


def test_lint_fails_on_bad_jenkinsfiles(lint_run):
    assert lint_run.returncode == 1, lint_run.stdout
    assert "lint failed" in lint_run.stdout


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_each_bad_jenkinsfile_named_with_line_and_reason(lint_run, name):
    for expected in [EXPECTED[name], *EXTRA.get(name, [])]:
        line = f"tests/fixtures/jenkinsfiles/{name}.Jenkinsfile:{expected}"
        assert line in lint_run.stdout, f"missing {line!r} in:\n{lint_run.stdout}"


def test_good_jenkinsfile_has_no_findings(lint_run):
    assert "good.Jenkinsfile:" not in lint_run.stdout


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
