"""The environment the policy checks read.

TINY_AWS_ENV=local (default): a private local cloud (its own moto on a free loopback port and state
folder, so a developer's `make up` cloud is untouched) is provisioned twice through `python -m ci
provision`, exactly as `make provision` does; the SSM values are read after each run. staging/production:
nothing is provisioned; the checks read what `make provision ENV=...` built, with the caller's credentials.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass, field

import boto3
import pytest
import yaml

from ci.ansible import parse_recap
from ci.localcloud.endpoint import ADMIN, DEPLOYER, aws_environment, free_port, private_moto
from ci.paths import DAGS, ROOT
from tiny_etl.tenant import load_tenant, tenant_files

ENV = os.environ.get("TINY_AWS_ENV", "local")
SECRET_NAMES = ["db_master_password", "airflow_fernet_key", "airflow_api_secret_key", "airflow_admin_password",
                "airflow_db_password", "etl_db_password", "platform_ca_key"]
# Each tenant file's warehouse password, tenants/<tenant>/etl_db_password under the environment's path, and
# each of its people's Airflow password, tenants/<tenant>/people/<name>/airflow_password.
TENANTS = [path.stem for path in tenant_files(DAGS / "tenants")]
TENANT_SECRETS = {f"etl_{t}_db_password": f"tenants/{t}/etl_db_password" for t in TENANTS} | {
    f"airflow_user_{tenant.username(person)}_password": f"tenants/{tenant.tenant}/people/{person.name}/airflow_password"
    for tenant in map(load_tenant, tenant_files(DAGS / "tenants")) for person in tenant.people}


@dataclass
class Provisioned:
    """What the checks need: the env's variables, the outputs file, boto3 session, run logs."""

    env: str
    variables: dict
    outputs: dict
    session: boto3.Session
    endpoint_url: str | None = None
    ca_bundle: str | None = None  # local: the local endpoint's CA (AWS: the SDK's own trust)
    plain_endpoint_url: str | None = None  # local: the same endpoint over plain HTTP (AWS: use_ssl=False)
    stage_env: dict[str, str] = field(default_factory=dict)
    outputs_dir: str | None = None
    # Local only: the local cloud's admin, for what AWS or a vendor does (Debian publishing an image).
    admin_session: boto3.Session | None = None
    runs: list[subprocess.CompletedProcess] = field(default_factory=list)
    secrets_after_run: list[dict[str, str]] = field(default_factory=list)
    torn_down: bool = False

    def client(self, service: str):
        """A client with the deployer's credentials (on AWS: the caller's, Jenkins' deployer)."""
        return self.session.client(service, endpoint_url=self.endpoint_url, verify=self.ca_bundle)

    def plain_http_client(self, service: str):
        """The deployer's client over plain HTTP, which AWS's endpoints (and the local one) also answer."""
        if self.plain_endpoint_url:
            return self.session.client(service, endpoint_url=self.plain_endpoint_url)
        return self.session.client(service, use_ssl=False)

    def admin_client(self, service: str):
        """A client acting as AWS itself would on the local cloud (skips the test elsewhere)."""
        if self.admin_session is None:
            pytest.skip("acts as AWS itself: the local cloud only")
        return self.admin_session.client(service, endpoint_url=self.endpoint_url, verify=self.ca_bundle)

    def read_secrets(self) -> dict[str, str]:
        ssm = self.client("ssm")
        path = f"/{self.variables.get('project', 'tiny-analytics')}/{self.env}"
        names = {n: n for n in SECRET_NAMES} | TENANT_SECRETS
        return {n: ssm.get_parameter(Name=f"{path}/{where}", WithDecryption=True)["Parameter"]["Value"]
                for n, where in names.items()}


def run_stage(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess:
    """`python -m ci <args>` with output captured (shown by the tests on failure)."""
    return subprocess.run([sys.executable, "-m", "ci", *args], cwd=ROOT, env={**os.environ, **env},
                          capture_output=True, text=True, timeout=900, check=False)


@pytest.fixture(scope="session")
def provisioned(tmp_path_factory: pytest.TempPathFactory) -> Provisioned:
    variables = yaml.safe_load((ROOT / "inventory" / ENV / "group_vars" / "all.yml").read_text())
    if ENV != "local":
        from ci.platform import Platform

        outputs = Platform.load(ENV).outputs  # from the environment itself, as every stage reads them
        yield Provisioned(ENV, variables, outputs, boto3.Session(region_name=variables["aws_region"]))
        return
    state_dir = tmp_path_factory.mktemp("localcloud")
    outputs_dir = tmp_path_factory.mktemp("outputs")
    port = free_port()
    stage_env = {"TINY_LOCALCLOUD_DIR": str(state_dir), "TINY_MOTO_HOST": "127.0.0.1", "TINY_MOTO_PORT": str(port)}
    with private_moto(state_dir, port) as state:
        session, admin = (boto3.Session(aws_access_key_id=aws["AWS_ACCESS_KEY_ID"],
                                        aws_secret_access_key=aws["AWS_SECRET_ACCESS_KEY"],
                                        region_name=variables["aws_region"])
                          for aws in (aws_environment(state, variables["aws_region"], identity)
                                      for identity in (DEPLOYER, ADMIN)))
        result = Provisioned(ENV, variables, {}, session, endpoint_url=state.url, ca_bundle=state.ca_file,
                             plain_endpoint_url=state.plain_url, stage_env=stage_env, outputs_dir=str(outputs_dir),
                             admin_session=admin)
        # A tenant whose file is gone since an earlier provision: its role must go (test_policy checks).
        admin.client("iam", endpoint_url=state.url, verify=state.ca_file).create_role(
            RoleName=f"tiny-analytics-{ENV}-tenant-departed", Path=f"/tiny-analytics-{ENV}/tenants/",
            AssumeRolePolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": [
                {"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"}]}))
        for _ in range(2):
            run = run_stage(["provision", "--env", "local", "-e", f"outputs_dir={outputs_dir}"], stage_env)
            result.runs.append(run)
            assert run.returncode == 0, run.stdout[-5000:] + run.stderr[-2000:]
            result.secrets_after_run.append(result.read_secrets())
        result.outputs = yaml.safe_load((outputs_dir / "provision-outputs.yml").read_text())
        yield result


@pytest.fixture
def live(provisioned: Provisioned) -> Provisioned:
    """The provisioned environment, refusing use after the teardown test removed it."""
    assert not provisioned.torn_down, "tests/aws/test_teardown.py must run last: the environment is gone"
    return provisioned


def recaps(run: subprocess.CompletedProcess) -> list:
    """PLAY RECAP lines of a stage run."""
    return parse_recap(run.stdout)
