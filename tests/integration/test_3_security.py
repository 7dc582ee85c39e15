"""Security of the running local default: who gets in, and where the admin password is not.

Runs after the pipeline tests on the same local cloud. Each refusal is checked from outside, the way an
intruder on the network would try it.
"""

from __future__ import annotations

import contextlib
import subprocess
import time

import psycopg2
import pytest
import requests
from stage_cli import ci

from ci.airflow_api import AirflowApi, AirflowApiError, admin_login
from ci.browser_check import check_ui
from ci.host_exec import SERVICES, airflow_host
from ci.localcloud import hosts
from ci.localcloud.inventory import ssh_key
from ci.paths import ROOT, reports_dir
from ci.platform import Platform
from ci.stages.password import secret_name

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
    """Nor is any tenant person's Airflow password (their users are made from the secret store on the host)."""
    secrets = {name: platform.secret(name) for name in platform.outputs["parameters"]
               if name == "airflow_admin_password" or name.startswith("airflow_user_")}
    assert len(secrets) > 1, "no person's password to scan for: the tenant files list people"
    leaks = []
    for path in ROOT.rglob("*"):
        relative = path.relative_to(ROOT).as_posix()
        if relative.startswith(SKIPPED) or not path.is_file() or path.stat().st_size > 50_000_000:
            continue
        data = path.read_bytes()
        leaks += [f"{relative} ({name})" for name, value in secrets.items() if value.encode() in data]
    host = airflow_host("local")
    with host.sudo():
        journal = host.check_output("journalctl --no-pager " + " ".join(f"-u {s}" for s in SERVICES))
        # Airflow 3 nests task logs (dag_id=.../run_id=.../task_id=.../attempt=N.log): find every file
        logs = host.check_output("find /opt/airflow/logs -type f -name '*.log'").splitlines()
        log_text = host.check_output("find /opt/airflow/logs -type f -name '*.log' -exec cat {} +")
    assert any("/dag_id=" in f and "/attempt=" in f for f in logs), f"no task log on the host to scan: {logs[:10]}"
    texts = {"journal": journal, f"{len(logs)} Airflow log files": log_text}
    leaks += [f"{where} ({name})" for where, text in texts.items() for name, value in secrets.items() if value in text]
    assert not leaks, f"a password appears in {leaks}"


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


# Tenants and access: the people of dags/tenants/acme.yml and globex.yml (acme.ana operates, acme.ben views).
ACME_DAGS = ["tenant_analytics__acme", "tenant_etl__acme"]


def _person(platform: Platform, login: str) -> AirflowApi:
    return AirflowApi.login(hosts.ui_url("local"), login, platform.secret(secret_name(login)),
                            verify=str(platform.ca_file()))


def _status(api: AirflowApi, method: str, path: str, body: dict | None = None) -> int:
    return requests.request(method, f"{api.base_url}/api/v2{path}", json=body, timeout=15, verify=api.verify,
                            headers={"Authorization": f"Bearer {api.token}"}).status_code


def _probe_run(name: str) -> dict:
    return {"dag_run_id": f"access-probe-{name}-{time.time_ns()}", "logical_date": None}


def test_a_tenant_viewer_reads_its_own_dags_and_changes_nothing(platform):
    """acme's viewer lists exactly acme's DAGs; globex's and the platform's DAG are 403; it may neither trigger,
    pause nor clear even acme's; the assets, connections, variables, pools and jobs (every tenant's, or the
    platform's) are 403."""
    ben = _person(platform, "acme.ben")
    assert sorted(dag["dag_id"] for dag in ben.dags()) == ACME_DAGS
    refused = {f"{method} {path}": _status(ben, method, path, body) for method, path, body in [
        ("GET", "/dags/tenant_etl__globex", None), ("GET", "/dags/raw_bucket_inventory", None),
        ("GET", "/dags/tenant_etl__globex/dagRuns", None),
        ("POST", "/dags/tenant_etl__acme/dagRuns", _probe_run("ben")),
        ("POST", "/dags/tenant_etl__globex/dagRuns", _probe_run("ben")),
        ("PATCH", "/dags/tenant_etl__acme", {"is_paused": True}),
        ("POST", "/dags/tenant_etl__acme/clearTaskInstances", {"dry_run": True}),
        *(("GET", f"/{what}", None) for what in ("assets", "connections", "variables", "pools", "jobs"))]}
    assert refused == dict.fromkeys(refused, 403)


def test_a_tenant_operator_runs_and_pauses_its_own_etl_and_nothing_else(platform):
    """acme's operator triggers and pauses acme's ETL (a probe run, on the paused DAG so it never runs, deleted
    after); globex's DAGs are 403 to it."""
    ana, admin = _person(platform, "acme.ana"), admin_login(platform)
    was_paused = admin.dag_details("tenant_etl__acme")["is_paused"]
    probe = _probe_run("ana")
    ana.set_paused("tenant_etl__acme", True)
    try:
        run = ana.call("POST", "/dags/tenant_etl__acme/dagRuns", json=probe)
        assert run["dag_run_id"] == probe["dag_run_id"] and run["run_type"] == "manual"
        refused = {f"{method} {path}": _status(ana, method, path, body) for method, path, body in [
            ("POST", "/dags/tenant_etl__globex/dagRuns", _probe_run("ana")),
            ("PATCH", "/dags/tenant_etl__globex", {"is_paused": True}),
            ("POST", "/dags/raw_bucket_inventory/dagRuns", _probe_run("ana")),
            ("GET", "/dags/tenant_etl__globex", None)]}
        assert refused == dict.fromkeys(refused, 403)
    finally:
        with contextlib.suppress(AirflowApiError):  # the trigger failed: nothing to delete
            admin.call("DELETE", f"/dags/tenant_etl__acme/dagRuns/{probe['dag_run_id']}")
        admin.set_paused("tenant_etl__acme", was_paused)


def test_a_tenant_viewer_sees_only_its_own_dags_in_chromium(platform):
    seen = check_ui(hosts.ui_url("local"), "acme.ben", platform.secret("airflow_user_acme.ben_password"), ACME_DAGS,
                    reports_dir() / "airflow-ui-acme-viewer.png", ca_file=platform.ca_file(),
                    absent=("tenant_etl__globex", "tenant_analytics__globex", "raw_bucket_inventory"))
    assert seen.screenshot.exists()


def test_a_person_the_tenant_file_drops_is_refused_at_once_and_returns_with_it(platform, workspace):
    """Off-boarding a person: configure (its access tasks) with acme's file without ben deactivates acme.ben: a
    new login is refused at once, and the token ben already holds once the FAB auth manager's user cache lets
    go of it ([fab] cache_ttl, 30 s); the file with ben again lets ben in again."""
    ben = _person(platform, "acme.ben")
    acme = workspace("access") / "dags" / "tenants" / "acme.yml"
    listed = acme.read_text()
    assert "- {name: ben, level: viewer}\n" in listed, "acme.yml changed: update this test"
    acme.write_text(listed.replace("- {name: ben, level: viewer}\n", ""))
    try:
        dropped = ci("configure", "--env", "local", "--tags", "access", workspace=workspace("access"))
        assert dropped.code == 0, dropped.output
        assert "user acme.ben: deactivated" in dropped.output, dropped.output
        with pytest.raises(AirflowApiError, match="refused"):
            _person(platform, "acme.ben")
        deadline = time.monotonic() + 45
        while (status := _status(ben, "GET", "/dags")) == 200 and time.monotonic() < deadline:
            time.sleep(3)
        assert status in (401, 403)
    finally:
        acme.write_text(listed)
        back = ci("configure", "--env", "local", "--tags", "access", workspace=workspace("access"))
    assert back.code == 0, back.output
    assert sorted(dag["dag_id"] for dag in _person(platform, "acme.ben").dags()) == ACME_DAGS


def test_make_password_prints_a_person_s_password_and_refuses_an_unknown_login(platform):
    """`make password LOGIN=acme.ben` prints the stored password (captured here, never echoed); a login no tenant
    file lists is named, with what makes one."""
    import sys

    def password(login: str) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "ci", "password", "--env", "local", "--login", login], cwd=ROOT,
                              capture_output=True, text=True, timeout=120, check=False)

    ben = password("acme.ben")
    assert ben.returncode == 0 and ben.stdout.strip() == platform.secret("airflow_user_acme.ben_password")
    nobody = password("acme.nobody")
    assert nobody.returncode == 1
    assert "local has no login 'acme.nobody': a person is <tenant>.<name> of a tenant file's people" in nobody.stdout


def test_a_role_taken_by_hand_is_given_back_by_the_next_configure(platform, workspace):
    """The tenant files are the only source of the tenants' users: an admin's `airflow users remove-role` changes
    what the tables hold, so the next configure runs the access script again (it skips it while the tables
    match its note) and gives the role back."""
    host = airflow_host("local")
    with host.sudo("airflow"):
        host.check_output("bash -c %s", "AIRFLOW_HOME=/opt/airflow exec /opt/airflow/venv/bin/airflow users "
                                        "remove-role --username acme.ben --role tenant_acme_viewer")
    run = ci("configure", "--env", "local", "--tags", "access", workspace=workspace("access"))
    assert run.code == 0, run.output
    assert "user acme.ben: roles [] -> [tenant_acme_viewer]" in run.output, run.output
    assert sorted(dag["dag_id"] for dag in _person(platform, "acme.ben").dags()) == ACME_DAGS


def test_a_password_changed_in_the_secret_store_is_set_by_the_next_configure(platform, workspace):
    """Rotation: a new value in acme.ben's parameter is ben's password after configure; the old one is refused."""
    ssm, name = platform.client("ssm"), platform.outputs["parameters"]["airflow_user_acme.ben_password"]
    old = platform.secret("airflow_user_acme.ben_password")
    ssm.put_parameter(Name=name, Value=f"rotated-{time.time_ns()}-x9", Type="SecureString", Overwrite=True)
    try:
        run = ci("configure", "--env", "local", "--tags", "access", workspace=workspace("access"))
        assert run.code == 0 and "user acme.ben: password set from the secret store" in run.output, run.output
        assert sorted(dag["dag_id"] for dag in _person(platform, "acme.ben").dags()) == ACME_DAGS
        with pytest.raises(AirflowApiError, match="refused"):
            AirflowApi.login(hosts.ui_url("local"), "acme.ben", old, verify=str(platform.ca_file()))
    finally:
        ssm.put_parameter(Name=name, Value=old, Type="SecureString", Overwrite=True)
        back = ci("configure", "--env", "local", "--tags", "access", workspace=workspace("access"))
    assert back.code == 0, back.output
    assert _person(platform, "acme.ben").dags()
