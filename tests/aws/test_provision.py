"""`make provision` creates everything, converges on a re-run, and keeps its secrets to itself."""

from __future__ import annotations

import base64
import json
import subprocess

import pytest
from conftest import ENV, TENANT_SECRETS, recaps, run_stage

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


def test_platform_ca_is_a_ca_and_its_certificate_matches_the_stored_key(live):
    """The CA that issues the servers' certificates the platform runs itself: generated once (the re-run test
    above covers its key), a CA by its constraints, public by its parameter type, its key a SecureString."""
    from cryptography import x509
    from cryptography.hazmat.primitives import serialization

    ssm = live.client("ssm")
    found = ssm.get_parameter(Name=live.outputs["parameters"]["platform_ca_cert"])["Parameter"]
    assert found["Type"] == "String"
    cert = x509.load_pem_x509_certificate(found["Value"].encode())
    constraints = cert.extensions.get_extension_for_class(x509.BasicConstraints)
    assert constraints.critical and constraints.value.ca
    assert cert.extensions.get_extension_for_class(x509.KeyUsage).value.key_cert_sign
    key = serialization.load_pem_private_key(live.secrets_after_run[0]["platform_ca_key"].encode(), password=None)
    public = serialization.PublicFormat.SubjectPublicKeyInfo
    assert (key.public_key().public_bytes(serialization.Encoding.PEM, public)
            == cert.public_key().public_bytes(serialization.Encoding.PEM, public))


def test_secrets_are_strong_and_fernet_key_valid(live):
    secrets = live.secrets_after_run[0]
    assert len(set(secrets.values())) == len(secrets)
    assert all(len(v) >= 32 for v in secrets.values())
    assert len(base64.urlsafe_b64decode(secrets["airflow_fernet_key"])) == 32


def secret_needles(values) -> list[str]:
    """What would betray each secret: a password whole, a PEM key by each line of its body (printed or
    written re-wrapped, JSON-escaped or as one line, its lines still show; the armor lines are not secret)."""
    return [line for value in values for line in value.splitlines() if line and not line.startswith("-----")]


def test_secrets_never_printed_or_written(live):
    needles = secret_needles(live.secrets_after_run[0].values())
    assert len(needles) >= len(live.secrets_after_run[0])
    logs = "".join(run.stdout + run.stderr for run in live.runs)
    outputs_text = str(live.outputs)
    for needle in needles:
        assert needle not in logs
        assert needle not in outputs_text
    tracked = subprocess.run(["git", "grep", "-l", "-F", *[a for v in needles for a in ("-e", v)]],
                             cwd=ROOT, capture_output=True, text=True, check=False)
    assert tracked.stdout == "", f"secret values in tracked files: {tracked.stdout}"


def test_outputs_name_what_configure_needs(live):
    out = live.outputs
    assert out["airflow_host_private_ip"] and out["db_endpoint"]
    assert set(out["buckets"]) == {"raw", "artifacts", "logs"}
    assert set(out["parameters"]) == {"db_master_password", "airflow_fernet_key", "airflow_api_secret_key",
                                      "airflow_admin_password", "airflow_db_password", "etl_db_password",
                                      "platform_ca_key", "platform_ca_cert", *TENANT_SECRETS}
    path = f"/{live.variables.get('project', 'tiny-analytics')}/{live.env}"
    assert {n: out["parameters"][n] for n in TENANT_SECRETS} == {n: f"{path}/{where}"
                                                                 for n, where in TENANT_SECRETS.items()}


def test_the_outputs_live_in_the_environment_not_only_in_a_workspace(live):
    """Every later stage, in any workspace (each Jenkins job has its own), reads the outputs from the
    environment's SSM parameter; the workspace file is only a cache of it."""
    name = f"/{live.variables.get('project', 'tiny-analytics')}/{live.env}/platform/outputs"
    stored = json.loads(live.client("ssm").get_parameter(Name=name)["Parameter"]["Value"])
    assert stored == live.outputs
    assert all(value not in str(stored) for value in live.secrets_after_run[0].values())


def _airflow_hosts(live) -> list[dict]:
    prefix = f"{live.variables.get('project', 'tiny-analytics')}-{live.env}"
    found = live.client("ec2").describe_instances(Filters=[
        {"Name": "tag:Name", "Values": [f"{prefix}-airflow"]},
        {"Name": "instance-state-name", "Values": ["pending", "running", "stopping", "stopped"]}])
    return [i for r in found["Reservations"] for i in r["Instances"]]


def test_a_newer_ami_keeps_the_one_airflow_host(live):
    """Debian publishes a new AMI between two provisions: still exactly one host, the same one, nothing changed.

    ec2_instance matches an existing instance by Name tag, AMI, state and subnet unless `filters` is given
    (amazon.aws ec2_instance documentation): matching by AMI started a second host on AWS.
    """
    (before,) = _airflow_hosts(live)
    ec2 = live.client("ec2")
    newer = live.admin_client("ec2").copy_image(  # Debian's doing, not the deployer's
        SourceImageId=before["ImageId"], SourceRegion=live.variables["aws_region"],
        Name="debian-12-arm64-29991231-9999")["ImageId"]
    assert ec2.describe_images(ImageIds=[newer])["Images"][0]["State"] == "available"
    # The copy belongs to this account, the only image there: the lookup (owners = this account) must pick it,
    # as it would pick Debian's next image on AWS.
    account = live.client("sts").get_caller_identity()["Account"]
    run = run_stage(["provision", "--env", "local", "-e", f"outputs_dir={live.outputs_dir}",
                     "-e", f"ami_owner={account}"], live.stage_env)
    assert run.returncode == 0, run.stdout[-4000:]
    (after,) = _airflow_hosts(live)
    assert after["InstanceId"] == before["InstanceId"], f"the host was replaced: {before['InstanceId']} -> {after}"
    # The host's task found it as it was (the outputs may change: the power test stopped and started it, and a
    # restarted instance gets a new public address, on AWS as here).
    task = run.stdout[run.stdout.index("TASK [aws_platform : Run the Airflow host"):]
    assert task.split("\n\n")[0].splitlines()[1] == "ok: [localhost]", task[:500]
