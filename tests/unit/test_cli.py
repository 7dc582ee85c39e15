"""`python -m ci`: help lists the stages; stages not built yet refuse instead of pretending."""

from __future__ import annotations

import functools
import subprocess
import sys

import pytest

from ci.cli import STAGES, main
from ci.paths import ROOT
from ci.runner import Stage


def test_help_lists_every_stage():
    proc = subprocess.run([sys.executable, "-m", "ci", "--help"], cwd=ROOT, capture_output=True, text=True,
                          check=True)
    for stage in STAGES:
        assert stage in proc.stdout


def test_unknown_stage_is_a_usage_error(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["deplyo"])
    assert exc.value.code == 2
    assert "invalid choice: 'deplyo'" in capsys.readouterr().err


def test_unknown_environment_is_a_usage_error(capsys):
    with pytest.raises(SystemExit):
        main(["unit", "--env", "prod"])
    assert "invalid choice: 'prod'" in capsys.readouterr().err


def test_configure_before_provision_names_the_missing_step(capsys):
    assert main(["configure", "--env", "staging"]) == 1
    assert "run `make provision ENV=staging` first" in capsys.readouterr().out


def test_localcloud_refuses_an_aws_environment(capsys):
    assert main(["localcloud", "up", "--env", "production"]) == 2
    assert "not production" in capsys.readouterr().out


def test_promote_to_the_same_environment_is_refused(capsys):
    assert main(["promote", "--sha", "HEAD", "--from", "staging", "--to", "staging"]) == 1
    assert "--from and --to are both staging" in capsys.readouterr().out


def test_an_empty_sha_is_named(capsys):
    assert main(["promote-check", "--env", "local", "--sha", ""]) == 1
    assert "no commit given: set SHA to the full commit SHA" in capsys.readouterr().out


@pytest.mark.parametrize(("make_args", "expected"), [
    (["SHA="], '--sha ""'), (["SHA=abc123"], '--sha "abc123"'), ([], None)])
def test_make_deploy_passes_sha_on_even_when_empty(make_args, expected):
    """`make deploy SHA=` must reach deploy as an empty SHA (refused), not be dropped (deploying HEAD)."""
    proc = subprocess.run(["make", "-n", "deploy", *make_args], cwd=ROOT, capture_output=True, text=True, check=True)
    line = next(ln for ln in proc.stdout.splitlines() if " -m ci deploy " in ln)
    assert (expected in line) if expected else ("--sha" not in line), line


def test_deploy_with_an_empty_sha_is_refused_before_anything(capsys, monkeypatch, tmp_path):
    monkeypatch.setattr("ci.stages.deploy.Stage", functools.partial(Stage, reports_dir=tmp_path))
    monkeypatch.setattr("ci.stages.deploy.load_for_stage", lambda *a: pytest.fail("the environment was loaded"))
    assert main(["deploy", "--env", "staging", "--sha", ""]) == 1
    assert "reason: no commit given: set SHA to the full commit SHA" in capsys.readouterr().out
