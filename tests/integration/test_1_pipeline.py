"""The whole pipeline on the local default, in `make up`'s order, then what a user's bad input does.

The tests run in file order and share one local cloud (the session fixture): each stage is the CLI a
user runs, checked by its exit code and what it prints. Each runs where Jenkins runs it: the push job's
stages in the push job's own fresh workspace, the drift check and the rebuild each in theirs (nothing one
leaves in its `.work` reaches another: the environment's state lives in the environment).
"""

from __future__ import annotations

import re

import pytest
import yaml
from platform_probe import admin_api
from stage_cli import ci

from ci.ansible import parse_recap
from ci.host_exec import airflow_host, airflow_python
from ci.platform import Platform
from ci.promotion import audit_records

pytestmark = [pytest.mark.slow, pytest.mark.usefixtures("local_cloud")]


def test_provision(workspace):
    run = ci("provision", "--env", "local", workspace=workspace("push"))
    assert run.code == 0, run.output


def test_configure_converges(workspace):
    run = ci("configure", "--env", "local", workspace=workspace("push"))
    assert run.code == 0, run.output
    recaps = parse_recap(run.output)
    assert {r.host for r in recaps} >= {"local-airflow-1", "local-db-1", "localhost"}
    assert not any(r.failed or r.unreachable for r in recaps)


def test_configure_again_changes_nothing(tmp_path, workspace):
    # Without the workspace's cache of the outputs (as in a fresh Jenkins workspace running plain
    # ansible-playbook), site.yml reads them from the environment's SSM parameter and converges the same.
    run = ci("configure", "--env", "local", "-e", f"platform_outputs_file={tmp_path / 'no-such-cache.yml'}",
             workspace=workspace("push"))
    assert run.code == 0, run.output
    assert re.search(r"TASK \[Read the provision outputs from the environment \(SSM Parameter Store\)\] \**\n"
                     r"ok: \[localhost\]", run.output), run.output
    changed = {r.host: r.changed for r in parse_recap(run.output)}
    assert changed and not any(changed.values()), f"site.yml is not idempotent: {changed}"
    # the metadata database answered for Airflow's CLI checks (seconds each): nothing they look at changed
    for task in ("Check for pending metadata database migrations", "Create the admin user"):
        assert re.search(rf"TASK \[airflow : {task}\] \**\nskipping: ", run.output), run.output
    print(f"idempotent site.yml re-run: {run.seconds:.0f} s, changed=0 on {sorted(changed)}")


def test_deploy(workspace):
    run = ci("deploy", "--env", "local", workspace=workspace("push"))
    assert run.code == 0, run.output
    assert re.search(r"sha256 [0-9a-f]{64}", run.output)


def test_verify(workspace):
    run = ci("verify", "--env", "local", workspace=workspace("push"))
    assert run.code == 0, run.output
    assert re.search(r"\d+ passed", run.output)


def test_smoke(workspace):
    run = ci("smoke", "--env", "local", workspace=workspace("push"))
    assert run.code == 0, run.output
    assert "rows in the table" in run.output and "chromium logged in" in run.output


def test_wrong_db_password_fails_with_a_message_naming_it(workspace):
    run = ci("configure", "--env", "local", "-e", "db_master_password=not-the-password", "--limit", "airflow",
             "--tags", "connect", workspace=workspace("push"))  # straight to rds_bootstrap's first connection
    assert run.code != 0
    # the command line the runner prints holds db_master_password=...: check the role's own message
    # ... at the first attempt: no retry changes a refused password
    assert re.search(r"Cannot connect to PostgreSQL at [\d.]+:5432 as \S+ \(sslmode=verify-full\) after 1 "
                     r"attempt: .*password authentication failed", run.output), run.output
    assert "Traceback" not in run.output


def test_missing_db_endpoint_is_named(tmp_path, workspace):
    outputs = Platform.load("local").outputs
    outputs["db_endpoint"] = ""
    (tmp_path / "outputs.yml").write_text(yaml.safe_dump(outputs))
    run = ci("configure", "--env", "local", "-e", "db_host=", "-e", f"platform_outputs_file={tmp_path / 'outputs.yml'}",
             workspace=workspace("push"))
    assert run.code != 0
    assert "No database endpoint: db_host is not set" in run.output, run.output
    assert "Traceback" not in run.output


# As if the metadata database had been restored from a copy that lacks the admin user and site.yml's note.
FORGET_ADMIN = (
    "from airflow.configuration import conf\n"
    "import sqlalchemy as sa\n"
    "with sa.create_engine(conf.get('database', 'sql_alchemy_conn')).begin() as c:\n"
    "    c.execute(sa.text('COMMENT ON TABLE alembic_version IS NULL'))\n"
    "    admin = \"(SELECT id FROM ab_user WHERE username = 'admin')\"\n"
    "    c.execute(sa.text(f'DELETE FROM ab_user_role WHERE user_id IN {admin}'))\n"
    "    print(c.execute(sa.text(\"DELETE FROM ab_user WHERE username = 'admin'\")).rowcount)\n"
)


def test_drift_is_detected_and_repaired(workspace, monkeypatch):
    host = airflow_host("local")
    with host.sudo():
        host.check_output("sed -i 's/^MaxAuthTries 2/MaxAuthTries 6/' /etc/ssh/sshd_config.d/00-tiny-hardening.conf")
    assert airflow_python(host, FORGET_ADMIN).strip().splitlines()[-1] == "1"
    check = ci("rebuild", "--env", "local", "--check", workspace=workspace("drift"))  # the nightly drift job
    assert check.code != 0 and "drift on local-airflow-1" in check.output, check.output
    monkeypatch.setenv("APPROVED_BY", "platform-lead")  # what the rebuild job's approval stage sets
    repair = ci("rebuild", "--env", "local", workspace=workspace("rebuild"))
    assert repair.code == 0, repair.output
    audit = audit_records(Platform.load("local"))[-1]  # the rebuild's trail, beside the promotions'
    assert (audit["action"], audit["env"], audit["who"], audit["result"]) == (
        "rebuild", "local", "platform-lead", "success"), audit
    # the database lost the note: Airflow's own check ran again, and the lost admin user is back
    for task, result in (("Check for pending metadata database migrations", "ok"),
                         ("Create the admin user", "changed")):
        assert re.search(rf"TASK \[airflow : {task}\] \**\n{result}: ", repair.output), repair.output
    assert admin_api().call("GET", "/version")["version"], "the admin user cannot use the API"
    again = ci("rebuild", "--env", "local", "--check", workspace=workspace("drift"))
    assert again.code == 0, again.output


def test_rollback_returns_to_the_previous_digest():
    platform = Platform.load("local")
    live = platform.read_record("deployed")
    older = ci("deploy", "--env", "local", "--sha", "HEAD~1")
    assert older.code == 0, older.output
    assert platform.read_record("deployed")["sha256"] != live["sha256"]
    back = ci("rollback", "--env", "local")
    assert back.code == 0, back.output
    now = platform.read_record("deployed")
    assert (now["sha"], now["sha256"]) == (live["sha"], live["sha256"])
    assert ci("verify", "--env", "local").code == 0
