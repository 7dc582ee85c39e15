"""reports/ holds only what the real stages wrote (Jenkins publishes it): the folder is read when used, and
every stage a test runs reports into the temporary folder tests/conftest.py sets."""

from __future__ import annotations

import os
import subprocess
import sys

from ci.paths import ROOT, reports_dir
from ci.runner import Stage


def test_reports_dir_is_read_when_used(monkeypatch, tmp_path):
    monkeypatch.delenv("TINY_REPORTS_DIR", raising=False)
    assert reports_dir() == ROOT / "reports"
    monkeypatch.setenv("TINY_REPORTS_DIR", str(tmp_path))
    assert reports_dir() == tmp_path
    assert Stage("x").reports_dir == tmp_path


def test_tests_never_report_into_the_runs_reports():
    assert reports_dir().resolve() != (ROOT / "reports").resolve()
    assert not reports_dir().resolve().is_relative_to(ROOT), reports_dir()


def test_an_inner_stage_writes_its_junit_where_the_tests_say(tmp_path):
    proc = subprocess.run([sys.executable, "-m", "ci", "configure", "--env", "staging"], cwd=ROOT, text=True,
                          capture_output=True, env={**os.environ, "TINY_REPORTS_DIR": str(tmp_path)}, check=False)
    assert proc.returncode == 1, proc.stdout
    assert (tmp_path / "configure.xml").is_file(), "a preflight failure must write its JUnit report too"
