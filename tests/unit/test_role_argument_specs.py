"""A missing inventory variable stops a role before its first task: the argument spec names every missing
one (the same check every play of site.yml, deploy.yml and provision.yml runs first)."""

from __future__ import annotations

import os
import re
import subprocess

import pytest

from ci.ansible import ANSIBLE_ENV, tool_path_env
from ci.paths import ROOT

pytestmark = pytest.mark.slow  # starts processes or services: `make unit-slow`, not the push loop

REQUIRED = {
    "airflow": ["airflow_admin_password", "airflow_api_secret_key", "airflow_aws_role_arn", "airflow_db_host",
                "airflow_db_password", "airflow_fernet_key", "airflow_logs_bucket", "airflow_raw_bucket",
                "etl_db_password"],
    "rds_bootstrap": ["airflow_db_password", "db_master_password", "etl_db_password", "rds_bootstrap_host"],
    "local_database": ["db_master_password", "local_database_ca_cert", "local_database_ca_key",
                       "local_database_server_names"],
    "platform_certificate": ["platform_certificate_ca_cert", "platform_certificate_ca_key", "platform_certificate_dir",
                             "platform_certificate_names"],
    "dag_bundle": ["dag_bundle_digest", "dag_bundle_file", "dag_bundle_sha"],
}


@pytest.mark.parametrize("role", sorted(REQUIRED))
def test_missing_variables_are_named_before_any_task(tmp_path, role):
    play = tmp_path / "play.yml"
    play.write_text(f"- hosts: localhost\n  gather_facts: false\n  roles: [{role}]\n")
    env = {**os.environ, **ANSIBLE_ENV, **tool_path_env(), "ANSIBLE_ROLES_PATH": str(ROOT / "ansible" / "roles")}
    proc = subprocess.run(["ansible-playbook", "-i", "localhost,", "-c", "local", str(play)], env=env,
                          capture_output=True, text=True, timeout=120, check=False)
    out = proc.stdout + proc.stderr
    assert proc.returncode != 0
    assert f"TASK [{role} : Validating arguments against arg spec 'main'" in out
    # the whole list: a variable that lost `required: true` (or gained it) changes the message
    assert re.search(rf"missing required arguments: {re.escape(', '.join(REQUIRED[role]))}(?![,\w])", out), out[-2000:]
    assert out.count("TASK [") == 1, "a task ran before the argument spec refused the run"
