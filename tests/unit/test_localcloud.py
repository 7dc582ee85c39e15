"""The local cloud's AWS endpoint: started with its PID recorded, answering, stopped by that PID."""

from __future__ import annotations

import os
import socket
import subprocess
import sys

import boto3
import pytest

from ci.localcloud import LocalCloudError
from ci.localcloud.endpoint import Moto, aws_environment, free_port
from ci.paths import ROOT


@pytest.fixture
def moto(tmp_path):
    cloud = Moto(tmp_path)
    yield cloud
    cloud.down()


def test_up_answers_with_debian_amis_and_down_stops_by_pid(moto):
    state = moto.up("127.0.0.1", free_port())
    assert moto.up("127.0.0.1", state.port) == state  # idempotent: the running one is reused
    env = aws_environment(state, "us-east-1")
    ec2 = boto3.client("ec2", endpoint_url=state.url, region_name="us-east-1",
                       aws_access_key_id=env["AWS_ACCESS_KEY_ID"], aws_secret_access_key=env["AWS_SECRET_ACCESS_KEY"])
    names = {i["Name"] for i in ec2.describe_images(Owners=["136693071363"])["Images"]}
    assert "debian-12-arm64-20261101-2000" in names
    assert moto.down() is True
    assert moto.state() is None
    with pytest.raises(ProcessLookupError):
        os.kill(state.pid, 0)


def test_port_in_use_is_a_clear_error(moto):
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        with pytest.raises(LocalCloudError, match=f"127.0.0.1:{port} is already in use"):
            moto.up("127.0.0.1", port)


def test_stale_record_is_ignored(moto, tmp_path):
    (tmp_path / "moto.json").write_text('{"pid": 999999, "host": "127.0.0.1", "port": 1, "log": "x"}')
    assert moto.state() is None
    assert moto.down() is False


def test_cli_status_up_down(tmp_path):
    # The AWS endpoint alone (--aws-only), with its own state and engine folders: no Docker involved.
    env = {**os.environ, "TINY_LOCALCLOUD_DIR": str(tmp_path), "TINY_DOCKER_DIR": str(tmp_path / "docker")}
    env.pop("DOCKER_HOST", None)

    def cli(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "ci", "localcloud", *args], cwd=ROOT, env=env,
                              capture_output=True, text=True, timeout=60, check=False)

    assert cli("status").returncode == 3
    port = str(free_port())
    up = cli("up", "--aws-only", "--port", port)
    try:
        assert up.returncode == 0 and f"http://127.0.0.1:{port}" in up.stdout
        status = cli("status")
        assert status.returncode == 0 and "pid" in status.stdout
    finally:
        assert "stopped" in cli("down").stdout
    assert cli("status").returncode == 3


def test_burstable_hosts_get_the_credit_option_aws_gives_them(moto):
    """RunInstances: CreditSpecification defaults to unlimited for T3/T3a/T4g and standard for T2 (EC2 API
    reference); a requested option is kept. moto itself answered "standard" for every instance."""
    state = moto.up("127.0.0.1", free_port())
    env = aws_environment(state, "us-east-1")
    ec2 = boto3.client("ec2", endpoint_url=state.url, region_name="us-east-1",
                       aws_access_key_id=env["AWS_ACCESS_KEY_ID"], aws_secret_access_key=env["AWS_SECRET_ACCESS_KEY"])
    image = ec2.describe_images(Owners=["136693071363"])["Images"][0]["ImageId"]

    def launched(instance_type: str, **extra) -> str:
        (instance,) = ec2.run_instances(ImageId=image, InstanceType=instance_type, MinCount=1, MaxCount=1,
                                        **extra)["Instances"]
        (spec,) = ec2.describe_instance_credit_specifications(
            InstanceIds=[instance["InstanceId"]])["InstanceCreditSpecifications"]
        return spec["CpuCredits"]

    assert launched("t4g.medium") == "unlimited"
    assert launched("t3.small") == "unlimited"
    assert launched("t2.micro") == "standard"
    assert launched("t4g.medium", CreditSpecification={"CpuCredits": "standard"}) == "standard"
