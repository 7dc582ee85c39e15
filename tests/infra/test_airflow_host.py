"""The Airflow host: services, ports, health, deployed bundle, files, SSH."""

from __future__ import annotations

import json
import time

import pytest
from hostlib import AIRFLOW_HOME, SERVICES, airflow_python

pytestmark = pytest.mark.usefixtures("env")


@pytest.mark.parametrize("service", SERVICES)
def test_service_active_and_enabled(host, service):
    unit = host.service(service)
    assert unit.is_running, f"{service} is not active"
    assert unit.is_enabled, f"{service} is not enabled (it would not come back after a reboot)"


def test_service_always_restarted_and_never_given_up(host):
    for service in SERVICES:
        restart = host.check_output(f"systemctl show -p Restart --value {service}")
        assert restart == "always", f"{service}: Restart={restart}"
        # 0: no start limit, so a long database outage cannot leave a service stopped for good
        limit = host.check_output(f"systemctl show -p StartLimitIntervalUSec --value {service}")
        assert limit in ("0", "infinity"), f"{service}: StartLimitIntervalSec={limit}"


@pytest.mark.parametrize("timer", ["airflow-health.timer", "airflow-log-cleanup.timer"])
def test_housekeeping_timer_active_and_enabled(host, timer):
    unit = host.service(timer)
    assert unit.is_running and unit.is_enabled, f"{timer} is not active and enabled"


def test_airflow_health_command_passes(host):
    # The same check airflow-health.timer runs: services, API health, log volume room and writes.
    deadline = time.monotonic() + 90
    while True:
        with host.sudo("airflow"):
            check = host.run("/usr/local/sbin/airflow-health")
        if check.rc == 0 or time.monotonic() > deadline:
            break
        time.sleep(5)
    assert check.rc == 0, check.stdout + check.stderr
    assert "ok   log volume" in check.stdout


def test_api_server_listens_on_the_host_only_and_nginx_serves_https(host):
    """Passwords and API tokens never cross a network in clear: Airflow's own plain-HTTP port is bound to the
    loopback, nginx serves the UI and API over TLS on 443, and nothing answers plain HTTP on port 80."""
    assert host.socket("tcp://127.0.0.1:8080").is_listening
    assert not host.socket("tcp://0.0.0.0:8080").is_listening and not host.socket("tcp://:::8080").is_listening
    assert host.socket("tcp://0.0.0.0:443").is_listening
    assert not host.socket("tcp://0.0.0.0:80").is_listening and not host.socket("tcp://:::80").is_listening


def test_ui_certificate_verifies_from_where_users_dial(platform):
    """The UI's certificate verifies for the address the ci stages (and a browser) dial: against the platform
    CA (`make ca`), or the public roots when the inventory gives your own certificate; a client that trusts
    only the public roots is refused the platform CA's certificate, so the check is real."""
    import requests

    from ci.airflow_api import ui_endpoint

    endpoint = ui_endpoint(platform)
    url = f"{endpoint.url}/api/v2/monitor/health"
    reply = requests.get(url, timeout=15, verify=endpoint.verify)
    assert reply.status_code == 200, reply.text[:300]
    assert url.startswith("https://")
    if endpoint.ca_file:
        with pytest.raises(requests.exceptions.SSLError, match="CERTIFICATE_VERIFY_FAILED"):
            requests.get(url, timeout=15)  # the public roots only: the platform CA is not among them


def test_health_endpoint_healthy(host):
    # A deploy restarts the DAG processor: give its first heartbeat up to a minute.
    deadline = time.monotonic() + 90
    while True:
        body = host.check_output("python3 -c %s", "import urllib.request;print(urllib.request.urlopen("
                                 "'http://127.0.0.1:8080/api/v2/monitor/health').read().decode())")
        health = json.loads(body)
        unhealthy = {c: health[c] for c in ("metadatabase", "scheduler", "dag_processor", "triggerer")
                     if health[c]["status"] != "healthy"}
        if not unhealthy or time.monotonic() > deadline:
            break
        time.sleep(5)
    assert not unhealthy, f"unhealthy after 90 s: {unhealthy}"


def test_no_dag_import_errors(host):
    errors = airflow_python(host, (
        "from airflow.models.errors import ParseImportError\n"
        "from airflow.utils.session import create_session\n"
        "with create_session() as s:\n"
        "    print([e.filename for e in s.query(ParseImportError).all()])"))
    assert errors.strip().splitlines()[-1] == "[]", errors


def test_deployed_bundle_digest_matches(host, deployed):
    with host.sudo():  # AIRFLOW_HOME is closed to other users
        current = host.file(f"{AIRFLOW_HOME}/current")
        assert current.is_symlink
        assert current.linked_to == f"{AIRFLOW_HOME}/releases/{deployed['sha']}"
        assert host.file(f"{AIRFLOW_HOME}/current/BUNDLE_SHA256").content_string.strip() == deployed["sha256"]


def test_release_is_read_only_to_airflow(host):
    with host.sudo():
        release = host.file(f"{AIRFLOW_HOME}/current/dags")
        assert release.user == "root" and release.mode & 0o022 == 0
    with host.sudo("airflow"):
        assert host.run(f"touch {AIRFLOW_HOME}/current/dags/x").rc != 0


@pytest.mark.parametrize("path", [f"{AIRFLOW_HOME}/airflow.cfg", f"{AIRFLOW_HOME}/airflow.env"])
def test_secret_files_are_private(host, path):
    with host.sudo():
        secret = host.file(path)
        assert secret.exists, path
        assert (secret.user, secret.mode) == ("airflow", 0o600), f"{path}: {secret.user} {oct(secret.mode)}"


def test_airflow_runs_as_its_own_user(host):
    for service in SERVICES:
        assert host.check_output(f"systemctl show -p User --value {service}") == "airflow"


@pytest.mark.parametrize(("setting", "value"), [
    ("passwordauthentication", "no"), ("kbdinteractiveauthentication", "no"), ("permitrootlogin", "no"),
    ("maxauthtries", "2"), ("allowtcpforwarding", "no"), ("x11forwarding", "no"), ("allowagentforwarding", "no"),
])
def test_sshd_hardened(host, setting, value):
    with host.sudo():
        effective = host.check_output("sshd -T")
    assert f"{setting} {value}" in effective.splitlines()


def test_api_refuses_anonymous_calls(host):
    code = host.check_output("python3 -c %s", (
        "import urllib.request, urllib.error\n"
        "try:\n    print(urllib.request.urlopen('http://127.0.0.1:8080/api/v2/dags').status)\n"
        "except urllib.error.HTTPError as e:\n    print(e.code)"))
    assert code in ("401", "403")
