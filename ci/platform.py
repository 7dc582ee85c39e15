"""One provisioned environment as the stages after `provision` see it: its outputs and its AWS API."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import boto3
import yaml
from botocore.client import BaseClient

from ci.ansible import WORK, aws_target

if TYPE_CHECKING:
    from ci.runner import Stage


class PlatformError(RuntimeError):
    """The environment is not provisioned (or its outputs are unreadable)."""


@dataclass
class Platform:
    """provision's outputs for env, and the environment variables that reach its AWS API."""

    env: str
    outputs: dict
    aws_env: dict[str, str]

    @classmethod
    def load(cls, env: str) -> Platform:
        """Read .work/<env>/provision-outputs.yml; local: make sure the local endpoint runs."""
        path = outputs_file(env)
        if not path.exists():
            raise PlatformError(f"{path} not found: run `make provision ENV={env}` first")
        outputs = yaml.safe_load(path.read_text())
        aws_env = aws_target(env, outputs["aws_region"])
        return cls(env, outputs, aws_env)

    def client(self, service: str) -> BaseClient:
        """A boto3 client of the environment's API (credentials from the caller on AWS)."""
        return boto3.client(service, region_name=self.outputs["aws_region"],
                            endpoint_url=self.aws_env.get("AWS_ENDPOINT_URL"),
                            aws_access_key_id=self.aws_env.get("AWS_ACCESS_KEY_ID"),
                            aws_secret_access_key=self.aws_env.get("AWS_SECRET_ACCESS_KEY"))

    def bucket(self, kind: str) -> str:
        """Name of the raw, artifacts or logs bucket."""
        return self.outputs["buckets"][kind]

    def secret(self, name: str) -> str:
        """A secret's value from Parameter Store (for the caller's use; never print it)."""
        path = self.outputs["parameters"][name]
        return self.client("ssm").get_parameter(Name=path, WithDecryption=True)["Parameter"]["Value"]


def load_for_stage(stage: Stage, env: str) -> Platform | None:
    """The environment's Platform, or None after recording why the stage cannot start (a failed step)."""
    try:
        return Platform.load(env)
    except PlatformError as exc:
        stage.fail("platform", str(exc))
        return None


def outputs_file(env: str) -> Path:
    """Where provision writes env's outputs."""
    return WORK / env / "provision-outputs.yml"
