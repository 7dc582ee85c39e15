"""The whole pipeline on the local default, in `make up`'s order, then what a user's bad input does.

The tests run in file order and share one local cloud (the session fixture): each stage is the CLI a
user runs, checked by its exit code and what it prints.
"""

from __future__ import annotations

import re

import pytest
from stage_cli import ci

from ci.ansible import parse_recap

pytestmark = [pytest.mark.slow, pytest.mark.usefixtures("local_cloud")]


def test_provision():
    run = ci("provision", "--env", "local")
    assert run.code == 0, run.output


def test_configure_converges():
    run = ci("configure", "--env", "local")
    assert run.code == 0, run.output
    recaps = parse_recap(run.output)
    assert {r.host for r in recaps} >= {"local-airflow-1", "local-db-1", "localhost"}
    assert not any(r.failed or r.unreachable for r in recaps)


def test_configure_again_changes_nothing():
    run = ci("configure", "--env", "local")
    assert run.code == 0, run.output
    changed = {r.host: r.changed for r in parse_recap(run.output)}
    assert changed and not any(changed.values()), f"site.yml is not idempotent: {changed}"
    print(f"idempotent site.yml re-run: {run.seconds:.0f} s, changed=0 on {sorted(changed)}")


def test_deploy():
    run = ci("deploy", "--env", "local")
    assert run.code == 0, run.output
    assert re.search(r"sha256 [0-9a-f]{64}", run.output)


def test_verify():
    run = ci("verify", "--env", "local")
    assert run.code == 0, run.output
    assert re.search(r"\d+ passed", run.output)


def test_smoke():
    run = ci("smoke", "--env", "local")
    assert run.code == 0, run.output
    assert "rows in the table" in run.output and "chromium logged in" in run.output


def test_wrong_db_password_fails_with_a_message_naming_it():
    run = ci("configure", "--env", "local", "-e", "db_master_password=not-the-password", "--limit", "airflow")
    assert run.code != 0
    assert "password authentication failed" in run.output or "db_master" in run.output, run.output
    assert "Traceback" not in run.output


def test_missing_db_endpoint_fails_with_the_argument_spec():
    run = ci("configure", "--env", "local", "-e", "db_host=", "-e", "platform_db_endpoint=", "--limit", "airflow")
    assert run.code != 0
    assert "db_host" in run.output or "airflow_db_host" in run.output, run.output
    assert "Traceback" not in run.output
