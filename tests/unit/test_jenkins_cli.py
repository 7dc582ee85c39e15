"""`python -m ci jenkins` against the Jenkins REST API TEST DOUBLE (tests/unit/jenkins_double.py)."""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys

import pytest
from jenkins_double import JenkinsDouble, Outcome

from ci.jenkins.client import PROMOTE_JOB, Client, JenkinsError, Settings
from ci.localcloud.endpoint import free_port
from ci.paths import ROOT
from ci.stages import jenkins as stage

SHA = "0123456789abcdef0123456789abcdef01234567"  # pragma: allowlist secret (a made-up commit SHA)


@pytest.fixture
def double():
    server = JenkinsDouble().start()
    yield server
    server.stop()


@pytest.fixture
def env(double, monkeypatch):
    monkeypatch.setenv("JENKINS_URL", double.url)
    monkeypatch.setenv("JENKINS_USER", double.state.user)
    monkeypatch.setenv("JENKINS_API_TOKEN", double.state.token)
    monkeypatch.setenv("JENKINS_POLL_SECONDS", "0.01")
    return double


def run_cli(*argv: str, capsys) -> tuple[int, str]:
    parser = argparse.ArgumentParser()
    parser.add_argument("--env", default="local")
    stage.add_arguments(parser)
    code = stage.run(parser.parse_args(list(argv)))
    return code, capsys.readouterr().out


def test_sync_creates_then_is_a_no_op_then_updates(env, capsys):
    code, out = run_cli("sync", "--dry-run", capsys=capsys)
    assert code == 0 and "would create tiny-analytics-promote" in out
    assert env.state.jobs == {}
    code, out = run_cli("sync", capsys=capsys)
    assert code == 0 and f"created      {PROMOTE_JOB}" in out
    assert {"tiny-analytics", PROMOTE_JOB, "tiny-analytics-rebuild-staging", "tiny-analytics-drift-production",
            "tiny-analytics-office-hours"} <= set(env.state.jobs)
    code, out = run_cli("sync", capsys=capsys)
    assert code == 0 and set(out.split()) == {"unchanged", *env.state.jobs}
    # uploaded from an older jobs/ (another rendered hash), and a job without a hash (created by hand)
    env.state.jobs[PROMOTE_JOB] = re.sub(r"rendered-sha256: [0-9a-f]{64}", "rendered-sha256: " + "0" * 64,
                                         env.state.jobs[PROMOTE_JOB].replace("Promote a verified", "Old text of"))
    env.state.jobs["tiny-analytics"] = re.sub(r"&lt;!-- rendered-sha256: [0-9a-f]{64} --&gt;", "",
                                              env.state.jobs["tiny-analytics"])
    code, out = run_cli("sync", capsys=capsys)
    assert f"updated      {PROMOTE_JOB}" in out and "Promote a verified" in env.state.jobs[PROMOTE_JOB]
    assert "updated      tiny-analytics\n" in out and out.count("updated") == 2


@pytest.mark.parametrize(("result", "code"), [("SUCCESS", 0), ("FAILURE", 1), ("ABORTED", 1)])
def test_promote_follows_queue_and_console_to_the_result(env, capsys, result, code):
    run_cli("sync", capsys=capsys)
    env.state.outcomes[PROMOTE_JOB] = Outcome(["Verification record found", "Approved by lead", "Deployed"], result)
    got, out = run_cli("promote", SHA, "--to", "production", capsys=capsys)
    assert got == code
    assert "Verification record found\nApproved by lead\nDeployed\n" in out
    assert out.strip().endswith(f"{PROMOTE_JOB} #1: {result}")
    assert env.state.builds[PROMOTE_JOB][0].params == {"SHA": SHA, "TARGET": "production"}


def test_promote_approval_timeout_is_aborted(env, capsys):
    run_cli("sync", capsys=capsys)
    env.state.outcomes[PROMOTE_JOB] = Outcome(["Waiting for approval", "Timeout has been exceeded"], "ABORTED")
    code, out = run_cli("promote", SHA, capsys=capsys)
    assert code == 1 and "Timeout has been exceeded" in out and out.strip().endswith("ABORTED")


def test_promote_refuses_a_short_sha_before_calling_jenkins(env, capsys):
    code, out = run_cli("promote", "abc123", capsys=capsys)
    assert code == 1 and "is not a full commit SHA" in out
    assert not any(r.startswith("POST") for r in env.state.requests)


def test_promote_target_other_than_production_is_a_usage_error(env, capsys):
    with pytest.raises(SystemExit) as exc:
        run_cli("promote", SHA, "--to", "staging", capsys=capsys)
    assert exc.value.code == 2
    assert "invalid choice: 'staging'" in capsys.readouterr().err
    assert not any(r.startswith("POST") for r in env.state.requests)


def test_bad_token_is_one_clear_line(env, capsys, monkeypatch):
    monkeypatch.setenv("JENKINS_API_TOKEN", "wrong")
    code, out = run_cli("status", capsys=capsys)
    assert code == 1
    assert out.strip() == (f"jenkins status failed: Jenkins at {env.url} refused the credentials of 'ci-bot' "
                           "(get_jobs): check JENKINS_USER and JENKINS_API_TOKEN")


def test_unreachable_server_retries_then_one_line():
    client = Client(Settings(f"http://127.0.0.1:{free_port()}", "u", "t"), retries=3, delay=0.01, timeout=1)
    with pytest.raises(JenkinsError, match=r"cannot reach Jenkins at http://127.0.0.1:\d+ \(get_jobs\) after 3 "):
        client.status()


def test_missing_settings_named():
    env = {k: v for k, v in os.environ.items() if not k.startswith("JENKINS_")}
    proc = subprocess.run([sys.executable, "-m", "ci", "jenkins", "status"], cwd=ROOT, env=env, capture_output=True,
                          text=True, check=False)
    assert proc.returncode == 1
    assert "set JENKINS_URL, JENKINS_USER, JENKINS_API_TOKEN in the environment" in proc.stdout


def test_status_lists_jobs_with_their_last_result(env, capsys):
    run_cli("sync", capsys=capsys)
    env.state.outcomes[PROMOTE_JOB] = Outcome(["x"], "FAILURE")
    run_cli("promote", SHA, capsys=capsys)
    code, out = run_cli("status", capsys=capsys)
    assert code == 0 and f"red          {PROMOTE_JOB}" in out and "notbuilt     tiny-analytics-office-hours" in out


def test_double_refuses_post_without_crumb_and_bad_xml(env):
    import requests

    auth = (env.state.user, env.state.token)
    assert requests.post(f"{env.url}/createItem?name=x", data="<a/>", auth=auth, timeout=5).status_code == 403
    headers = {"Jenkins-Crumb": "double-crumb"}
    bad = requests.post(f"{env.url}/createItem?name=x", data="<a>", auth=auth, headers=headers, timeout=5)
    assert bad.status_code == 400 and "Failed to parse config.xml" in bad.text
