"""Security of the running local default: who gets in, and where the admin password is not.

Runs after the pipeline tests on the same local cloud. Each refusal is checked from outside, the way an
intruder on the network would try it.
"""

from __future__ import annotations

import subprocess

import psycopg2
import pytest
import requests

from ci.host_exec import SERVICES, airflow_host
from ci.localcloud import hosts
from ci.localcloud.inventory import ssh_key
from ci.paths import ROOT
from ci.platform import Platform

pytestmark = [pytest.mark.slow, pytest.mark.usefixtures("local_cloud")]
AIRFLOW, DATABASE = hosts.hosts("local")
# Scanned for the admin password: the repository, the inventories, reports and every log/record under .work
# (not the Docker engine's data root, the image build or the bundles: no text of ours there).
SKIPPED = (".git", ".venv", ".cache", "requirements/npm/node_modules", ".work/docker", ".work/image",
           ".work/bundles")


@pytest.fixture(scope="module")
def platform():
    return Platform.load("local")


@pytest.mark.parametrize("path", ["/api/v2/dags", "/api/v2/config", "/ui/dags", "/api/v2/connections"])
def test_anonymous_calls_are_refused(path, platform):
    reply = requests.get(f"{hosts.ui_url('local')}{path}", timeout=10, allow_redirects=False,
                         verify=str(platform.ca_file()))
    assert reply.status_code == 401, f"{path}: {reply.status_code}"


def test_admin_password_is_not_a_default(platform):
    password = platform.secret("airflow_admin_password")
    assert len(password) >= 20 and password.lower() not in {"admin", "airflow", "password"}
    login = requests.post(f"{hosts.ui_url('local')}/auth/token", json={"username": "admin", "password": "admin"},
                          timeout=10, verify=str(platform.ca_file()))
    assert login.status_code in (400, 401, 403)


def test_admin_password_is_in_no_file_or_log(platform):
    needle = platform.secret("airflow_admin_password").encode()
    leaks = []
    for path in ROOT.rglob("*"):
        relative = path.relative_to(ROOT).as_posix()
        if relative.startswith(SKIPPED) or not path.is_file() or path.stat().st_size > 50_000_000:
            continue
        if needle in path.read_bytes():
            leaks.append(relative)
    host = airflow_host("local")
    with host.sudo():
        journal = host.check_output("journalctl --no-pager " + " ".join(f"-u {s}" for s in SERVICES))
        # Airflow 3 nests task logs (dag_id=.../run_id=.../task_id=.../attempt=N.log): find every file
        logs = host.check_output("find /opt/airflow/logs -type f -name '*.log'").splitlines()
        log_text = host.check_output("find /opt/airflow/logs -type f -name '*.log' -exec cat {} +")
    assert any("/dag_id=" in f and "/attempt=" in f for f in logs), f"no task log on the host to scan: {logs[:10]}"
    leaks += [where for where, text in (("journal", journal), (f"{len(logs)} Airflow log files", log_text))
              if needle.decode() in text]
    assert not leaks, f"the admin password appears in {leaks}"


@pytest.mark.parametrize("user", ["admin", "root"])
def test_ssh_refuses_passwords(user):
    run = subprocess.run(["ssh", "-o", "BatchMode=yes", "-o", "PubkeyAuthentication=no", "-o",
                          "PreferredAuthentications=password,keyboard-interactive", "-o", "StrictHostKeyChecking=no",
                          "-o", "UserKnownHostsFile=/dev/null", "-o", "ConnectTimeout=10", f"{user}@{AIRFLOW.ip}",
                          "true"], capture_output=True, text=True, timeout=30, check=False)
    assert run.returncode == 255 and "Permission denied (publickey)" in run.stderr, run.stderr


def test_ssh_refuses_root_even_with_the_key():
    run = subprocess.run(["ssh", "-i", str(ssh_key()), "-o", "BatchMode=yes", "-o",
                          "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null", "-o", "ConnectTimeout=10",
                          f"root@{AIRFLOW.ip}", "true"], capture_output=True, text=True, timeout=30, check=False)
    assert run.returncode == 255 and "Permission denied" in run.stderr, run.stderr


def test_database_refuses_clients_outside_the_airflow_host(platform):
    with pytest.raises(psycopg2.OperationalError, match=r"no pg_hba\.conf entry for host"):
        psycopg2.connect(host=DATABASE.ip, dbname="postgres", user=platform.outputs["db_master_username"],
                         password=platform.secret("db_master_password"), sslmode="require", connect_timeout=10)
