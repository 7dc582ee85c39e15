"""The lint cache: a checker whose inputs are those of its last pass is skipped, and changing any one input
makes it run again; a failure is never cached; the secrets scan covers only files new since its last pass."""

from __future__ import annotations

import json

import pytest

from ci import check_cache
from ci.cli import main
from ci.paths import ROOT

pytestmark = pytest.mark.slow  # starts processes or services: `make unit-slow`, not the push loop


@pytest.fixture(autouse=True)
def private_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("TINY_CHECK_CACHE_DIR", str(tmp_path / "checks"))
    return tmp_path / "checks"


def lint(capsys, *args: str) -> tuple[int, str]:
    code = main(["lint", *args])
    return code, capsys.readouterr().out


def test_a_checker_runs_again_when_one_input_changes_and_only_then(tmp_path, capsys):
    jenkinsfile = tmp_path / "Jenkinsfile"
    jenkinsfile.write_text((ROOT / "Jenkinsfile").read_text())
    args = ("--only", "jenkinsfile-check", "--jenkinsfile", str(jenkinsfile))
    first = lint(capsys, *args)
    assert first[0] == 0 and "ok jenkinsfile-check (" in first[1] and "inputs unchanged" not in first[1]
    second = lint(capsys, *args)
    assert second[0] == 0 and "jenkinsfile-check: inputs unchanged since its last pass" in second[1]
    jenkinsfile.write_text(jenkinsfile.read_text() + "\n// one more line\n")
    third = lint(capsys, *args)
    assert third[0] == 0 and "ok jenkinsfile-check (" in third[1] and "inputs unchanged" not in third[1]
    forced = lint(capsys, *args, "--no-cache")
    assert forced[0] == 0 and "inputs unchanged" not in forced[1]


def test_a_failure_is_never_cached(tmp_path, capsys):
    broken = tmp_path / "Jenkinsfile"
    broken.write_text("pipeline {\n  agent any\n")  # unbalanced: the checker refuses it
    args = ("--only", "jenkinsfile-check", "--jenkinsfile", str(broken))
    assert lint(capsys, *args)[0] == 1
    code, out = lint(capsys, *args)
    assert code == 1 and "inputs unchanged" not in out


def test_the_key_covers_content_path_command_and_settings(tmp_path):
    a = tmp_path / "a.yml"
    a.write_text("x: 1\n")
    key = check_cache.inputs_key(["tool", "--flag"], [a])
    assert key == check_cache.inputs_key(["tool", "--flag"], [a, a])
    assert key != check_cache.inputs_key(["tool"], [a])
    assert key != check_cache.inputs_key(["tool", "--flag"], [a], extra="ENV=1")
    a.write_text("x: 2\n")
    assert key != check_cache.inputs_key(["tool", "--flag"], [a])
    a.unlink()
    assert key != check_cache.inputs_key(["tool", "--flag"], [a])  # a missing input is an input too


def test_the_secrets_scan_covers_only_files_new_since_its_last_pass(private_cache, capsys, monkeypatch):
    from ci.stages import lint as lint_stage

    monkeypatch.setattr(lint_stage, "tracked_files", lambda: ["dags/tenant_etl.py", "ci/paths.py", "Makefile"])
    assert lint(capsys, "--only", "secrets")[0] == 0
    code, out = lint(capsys, "--only", "secrets")
    assert code == 0 and "files scanned clean before with this baseline" in out
    record = private_cache / "secrets.files.json"
    saved = json.loads(record.read_text())
    saved["files"]["dags/tenant_etl.py"] = "changed since"
    record.write_text(json.dumps(saved))
    code, out = lint(capsys, "--only", "secrets")
    scan = next(line for line in out.splitlines() if line.startswith("> secrets: "))
    assert code == 0 and scan.endswith(".secrets.baseline dags/tenant_etl.py")
