"""Where the ci stages reach an environment's UI over HTTPS, and what they verify its certificate against:
one place (ci.airflow_api.ui_endpoint) for smoke, the API sessions, the browser and the infra test."""

from __future__ import annotations

import boto3
import pytest
from moto import mock_aws

from ci import airflow_api
from ci import platform as platform_module
from ci.airflow_api import ui_endpoint
from ci.platform import Platform, PlatformError

REGION = "us-east-1"
CA_PEM = "-----BEGIN CERTIFICATE-----\nnot-checked-here\n-----END CERTIFICATE-----\n"


@pytest.fixture
def staging(monkeypatch, tmp_path):
    """A staging Platform whose Airflow host runs in an in-process moto, and its inventory variables."""
    variables: dict = {"aws_region": REGION}
    monkeypatch.setattr(platform_module, "WORK", tmp_path)
    monkeypatch.setattr(platform_module, "inventory_variables", lambda env: variables)
    with mock_aws():
        ec2 = boto3.client("ec2", region_name=REGION)
        image = ec2.describe_images()["Images"][0]["ImageId"]
        instance = ec2.run_instances(ImageId=image, MinCount=1, MaxCount=1)["Instances"][0]["InstanceId"]
        boto3.client("ssm", region_name=REGION).put_parameter(Name="/t/platform/ca_cert", Value=CA_PEM,
                                                              Type="String")
        outputs = {"aws_region": REGION, "airflow_instance_id": instance, "airflow_host_public_ip": "192.0.2.1",
                   "parameters": {"platform_ca_cert": "/t/platform/ca_cert"}}
        yield Platform("staging", outputs, {}), variables, ec2, instance


def test_the_hosts_current_public_address_and_the_platform_ca(staging):
    platform, _, ec2, instance = staging
    now = ec2.describe_instances(InstanceIds=[instance])["Reservations"][0]["Instances"][0]["PublicIpAddress"]
    endpoint = ui_endpoint(platform)
    assert endpoint.url == f"https://{now}" and now != "192.0.2.1"  # EC2 asked, not provision's old outputs
    assert endpoint.ca_file is not None and endpoint.ca_file.read_text() == CA_PEM
    assert endpoint.verify == str(endpoint.ca_file)


def test_your_own_certificate_is_verified_against_the_public_roots_at_your_domain(staging):
    platform, variables, _, _ = staging
    variables.update(ui_domain="airflow.example.com", ui_certificate="{{ lookup('file', 'chain.pem') }}")
    endpoint = ui_endpoint(platform)
    assert (endpoint.url, endpoint.verify, endpoint.ca_file) == ("https://airflow.example.com", True, None)


def test_a_stopped_host_has_no_address_and_says_how_to_start_it(staging):
    platform, _, ec2, instance = staging
    ec2.stop_instances(InstanceIds=[instance])
    with pytest.raises(PlatformError, match=r"has no public address: is it stopped .*STATE=running"):
        ui_endpoint(platform)
    with pytest.raises(airflow_api.AirflowApiError, match="has no public address"):
        airflow_api.admin_login(platform)
