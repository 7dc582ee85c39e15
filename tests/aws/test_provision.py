"""`make provision` creates everything, converges on a re-run, and keeps its secrets to itself."""

from __future__ import annotations

import base64
import subprocess

import pytest
from conftest import ENV, recaps

from ci.paths import ROOT

pytestmark = pytest.mark.skipif(ENV != "local", reason="provisioning runs are only made on the local cloud")


def test_first_run_creates_resources(live):
    (recap,) = recaps(live.runs[0])
    assert recap.failed == 0 and recap.changed > 10


def test_second_run_changes_nothing(live):
    (recap,) = recaps(live.runs[1])
    assert (recap.changed, recap.failed) == (0, 0), live.runs[1].stdout[-4000:]


def test_secrets_are_not_regenerated_on_rerun(live):
    first, second = live.secrets_after_run
    assert first == second


def test_secrets_are_strong_and_fernet_key_valid(live):
    secrets = live.secrets_after_run[0]
    assert len(set(secrets.values())) == len(secrets)
    assert all(len(v) >= 32 for v in secrets.values())
    assert len(base64.urlsafe_b64decode(secrets["airflow_fernet_key"])) == 32


def test_secrets_never_printed_or_written(live):
    values = live.secrets_after_run[0].values()
    logs = "".join(run.stdout + run.stderr for run in live.runs)
    outputs_text = str(live.outputs)
    for value in values:
        assert value not in logs
        assert value not in outputs_text
    tracked = subprocess.run(["git", "grep", "-l", "-F", *[a for v in values for a in ("-e", v)]],
                             cwd=ROOT, capture_output=True, text=True, check=False)
    assert tracked.stdout == "", f"secret values in tracked files: {tracked.stdout}"


def test_outputs_name_what_configure_needs(live):
    out = live.outputs
    assert out["airflow_host_private_ip"] and out["db_endpoint"]
    assert set(out["buckets"]) == {"raw", "artifacts", "logs"}
    assert set(out["parameters"]) == {"db_master_password", "airflow_fernet_key", "airflow_api_secret_key",
                                      "airflow_admin_password", "airflow_db_password", "etl_db_password"}
