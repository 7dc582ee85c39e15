"""One provisioned environment as every stage after `provision` sees it: its outputs, its records and its AWS
API, all read from the environment itself, so a stage finds them from any workspace (each Jenkins job has its
own).

- **Outputs** (names and addresses, no secrets): provision stores them in the SSM parameter
  `/<project>/<env>/platform/outputs`; `.work/<env>/provision-outputs.yml` is only a cache of it, refreshed
  whenever the environment is loaded, and may be deleted at any time.
- **Records** (what deploy put live, what verify found): JSON objects under `state/` in the environment's
  artifacts bucket, beside the verification and audit records.

The region comes from the environment's inventory (`inventory/<env>/group_vars/all.yml`).
"""

from __future__ import annotations

import json
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import boto3
import yaml
from botocore.client import BaseClient
from botocore.exceptions import BotoCoreError, ClientError

from ci.ansible import WORK, aws_target
from ci.localcloud import LOCAL_ENVS, LocalCloudError
from ci.paths import ROOT

if TYPE_CHECKING:
    from ci.runner import Stage

PROJECT = "tiny-analytics"  # ansible/roles/aws_platform/defaults/main.yml: project
RECORDS_PREFIX = "state/"


class PlatformError(RuntimeError):
    """The environment is not provisioned (or its outputs are unreadable)."""


def outputs_parameter(env: str) -> str:
    """The SSM parameter provision stores env's outputs in."""
    return f"/{PROJECT}/{env}/platform/outputs"


def outputs_file(env: str) -> Path:
    """The local cache of env's outputs (site.yml reads it when run by the ci stages)."""
    return WORK / env / "provision-outputs.yml"


def inventory_variables(env: str) -> dict:
    """env's group_vars (inventory/<env>/group_vars/all.yml) as written (Jinja left unrendered)."""
    path = ROOT / "inventory" / env / "group_vars" / "all.yml"
    try:
        return yaml.safe_load(path.read_text()) or {}
    except (OSError, yaml.YAMLError) as exc:
        raise PlatformError(f"{path}: cannot read the environment's variables: {exc}") from exc


def inventory_region(env: str) -> str:
    """The AWS region of env, from its inventory."""
    path = ROOT / "inventory" / env / "group_vars" / "all.yml"
    region = inventory_variables(env).get("aws_region")
    if not isinstance(region, str) or not region:
        raise PlatformError(f"{path}: aws_region is not set")
    return region


def _client(service: str, region: str, aws_env: dict[str, str]) -> BaseClient:
    return boto3.client(service, region_name=region, endpoint_url=aws_env.get("AWS_ENDPOINT_URL"),
                        verify=aws_env.get("AWS_CA_BUNDLE"),
                        aws_access_key_id=aws_env.get("AWS_ACCESS_KEY_ID"),
                        aws_secret_access_key=aws_env.get("AWS_SECRET_ACCESS_KEY"),
                        aws_session_token=aws_env.get("AWS_SESSION_TOKEN"))


def read_outputs(env: str, region: str, aws_env: dict[str, str]) -> dict:
    """env's outputs from its SSM parameter, cached in .work; PlatformError when it has none. An environment
    provisioned before the outputs moved into it is read from the cache until its next provision."""
    name = outputs_parameter(env)
    try:
        value = _client("ssm", region, aws_env).get_parameter(Name=name)["Parameter"]["Value"]
    except ClientError as exc:
        if exc.response["Error"]["Code"] != "ParameterNotFound":
            raise PlatformError(f"cannot read {name} in {region}: {exc}") from exc
        if outputs_file(env).exists():
            return yaml.safe_load(outputs_file(env).read_text())
        raise PlatformError(f"{env} is not provisioned ({name} not found in {region}): run "
                            f"`make provision ENV={env}` first") from exc
    except BotoCoreError as exc:
        raise PlatformError(f"cannot read {name} in {region} ({exc}): give this job {env}'s AWS credentials, or "
                            f"run `make provision ENV={env}` first if it was never provisioned") from exc
    outputs = json.loads(value)
    cache = outputs_file(env)
    if not cache.exists() or yaml.safe_load(cache.read_text()) != outputs:  # as provision wrote it: left alone
        cache.parent.mkdir(parents=True, exist_ok=True)
        cache.write_text(f"# A cache of the SSM parameter {name}; safe to delete.\n"
                         + yaml.safe_dump(outputs, sort_keys=True))
    return outputs


@dataclass
class Platform:
    """One environment, the one object every stage after provision asks: its name, whether the local cloud
    holds it, its region, provision's outputs, its records, and the variables that reach its AWS API."""

    env: str
    outputs: dict
    aws_env: dict[str, str]

    @classmethod
    def load(cls, env: str) -> Platform:
        """Read env's outputs from the environment. No side effects: nothing is started or created (a local
        environment needs the local cloud running: PlatformError otherwise)."""
        region = inventory_region(env)
        try:
            aws_env = aws_target(env, region)
        except LocalCloudError as exc:
            raise PlatformError(str(exc)) from exc
        return cls(env, read_outputs(env, region, aws_env), aws_env)

    @property
    def is_local(self) -> bool:
        """Whether the local cloud holds this environment (else it is real AWS)."""
        return self.env in LOCAL_ENVS

    @property
    def region(self) -> str:
        """The environment's AWS region."""
        return self.outputs["aws_region"]

    def client(self, service: str) -> BaseClient:
        """A boto3 client of the environment's API (credentials from the caller on AWS)."""
        return _client(service, self.region, self.aws_env)

    def bucket(self, kind: str) -> str:
        """Name of the raw, artifacts or logs bucket."""
        return self.outputs["buckets"][kind]

    def secret(self, name: str) -> str:
        """A secret's value from Parameter Store (for the caller's use; never print it)."""
        path = self.outputs["parameters"][name]
        return self.client("ssm").get_parameter(Name=path, WithDecryption=True)["Parameter"]["Value"]

    def ca_file(self) -> Path:
        """The platform CA's certificate as a file, for the TLS clients on this machine (requests, the browser):
        written from the environment's public parameter into .work/<env>/platform-ca.pem (replaced atomically,
        since parallel test workers read it)."""
        name = self.outputs.get("parameters", {}).get("platform_ca_cert")
        if not name:
            raise PlatformError(f"{self.env}'s outputs name no platform CA: run `make provision ENV={self.env}`")
        try:
            pem = self.client("ssm").get_parameter(Name=name)["Parameter"]["Value"]
        except (ClientError, BotoCoreError) as exc:
            raise PlatformError(f"cannot read the platform CA {name}: {exc}") from exc
        path = WORK / self.env / "platform-ca.pem"
        if not path.exists() or path.read_text() != pem:
            path.parent.mkdir(parents=True, exist_ok=True)
            with tempfile.NamedTemporaryFile("w", dir=path.parent, delete=False, suffix=".tmp") as out:
                out.write(pem)
            try:
                os.replace(out.name, path)
            finally:
                Path(out.name).unlink(missing_ok=True)
            path.chmod(0o644)
        return path

    def airflow_public_address(self) -> str:
        """The Airflow host's public address now, from EC2 (a stopped and started host has a new one, and
        provision's outputs keep the address it had then); PlatformError when it has none (stopped)."""
        instance_id = self.outputs.get("airflow_instance_id")
        try:
            found = self.client("ec2").describe_instances(InstanceIds=[instance_id])["Reservations"] if instance_id \
                else []
        except (ClientError, BotoCoreError) as exc:
            raise PlatformError(f"cannot describe the Airflow host {instance_id}: {exc}") from exc
        address = next((i.get("PublicIpAddress", "") for r in found for i in r["Instances"]), "")
        if not address:
            raise PlatformError(f"{self.env}'s Airflow host {instance_id or '(none in the outputs)'} has no public "
                                f"address: is it stopped (`make power ENV={self.env} STATE=running`)?")
        return address

    def record_key(self, name: str) -> str:
        """Object key of one of the environment's records."""
        return f"{RECORDS_PREFIX}{name}.json"

    def read_record(self, name: str) -> dict | None:
        """A record (`deployed`, `verified`) from the artifacts bucket, or None when there is none."""
        try:
            body = self.client("s3").get_object(Bucket=self.bucket("artifacts"), Key=self.record_key(name))["Body"]
        except ClientError as exc:
            if exc.response["Error"]["Code"] in ("NoSuchKey", "404"):
                return None
            raise
        return json.loads(body.read())

    def write_record(self, name: str, record: dict) -> str:
        """Store a record in the artifacts bucket; its s3:// address."""
        self.client("s3").put_object(Bucket=self.bucket("artifacts"), Key=self.record_key(name),
                                     Body=(json.dumps(record, indent=2) + "\n").encode())
        return f"s3://{self.bucket('artifacts')}/{self.record_key(name)}"

    def drop_record(self, name: str) -> None:
        """Remove a record (no error when there is none)."""
        self.client("s3").delete_object(Bucket=self.bucket("artifacts"), Key=self.record_key(name))


def load_for_stage(stage: Stage, env: str) -> Platform | None:
    """The environment's Platform, or None after recording why the stage cannot start (a failed step)."""
    try:
        return Platform.load(env)
    except PlatformError as exc:
        stage.fail("platform", str(exc))
        return None
