"""Every `TINY_*` setting the local cloud reads, in one place.

Each is a function that reads the environment when called, never at import: a variable set later (a test,
a Jenkins job's environment) is what every call sees, so an overridden setting never disagrees with a copy
read earlier. The other modules of ci.localcloud read no `TINY_*` variable themselves
(tests/unit/test_local_hosts.py checks both).
"""

from __future__ import annotations

import ipaddress
import os
from pathlib import Path

from ci.paths import ROOT


def state_dir() -> Path:
    """The local cloud's state: moto's PID and port, the SSH key pair, each environment's inventory.

    Like an AWS account it is not any one workspace's: `TINY_LOCALCLOUD_DIR` points every checkout (a Jenkins
    job's fresh workspace) at the local cloud another one started; by default it is this checkout's.
    """
    return Path(os.environ.get("TINY_LOCALCLOUD_DIR") or ROOT / ".work" / "localcloud")


def deployer_policy() -> Path:
    """The policy the local cloud's deployer has, exactly (`TINY_DEPLOYER_POLICY`; a test removes one action)."""
    return Path(os.environ.get("TINY_DEPLOYER_POLICY") or ROOT / "ansible" / "iam" / "deployer-policy.json")


def iam_decisions(state: Path) -> Path:
    """Where moto appends each IAM decision (who, action, resource, allowed): the state folder's
    iam-decisions.jsonl, or one file for every local cloud of a run (`TINY_MOTO_DECISIONS`)."""
    return Path(os.environ.get("TINY_MOTO_DECISIONS") or state / "iam-decisions.jsonl")


def moto_host() -> str:
    """moto's address when nothing else is asked (`TINY_MOTO_HOST`)."""
    return os.environ.get("TINY_MOTO_HOST") or "127.0.0.1"


def moto_port() -> int:
    """moto's port when nothing else is asked (`TINY_MOTO_PORT`)."""
    return int(os.environ.get("TINY_MOTO_PORT") or "5000")


def engine_dir() -> Path:
    """The Docker engine's work folder (socket, PID, image store): `TINY_DOCKER_DIR`, or this checkout's
    .work/docker."""
    return Path(os.environ.get("TINY_DOCKER_DIR") or ROOT / ".work" / "docker")


def debian_mirror() -> str | None:
    """The Debian mirror the base image is built from, when `TINY_DEBIAN_MIRROR` names one (else the image
    module uses this machine's apt mirror)."""
    return os.environ.get("TINY_DEBIAN_MIRROR") or None


def network() -> str:
    """The project's Docker network (`TINY_LOCALCLOUD_NETWORK`)."""
    return os.environ.get("TINY_LOCALCLOUD_NETWORK") or "tiny-analytics"


def subnet() -> ipaddress.IPv4Network:
    """The network's fixed subnet (`TINY_LOCALCLOUD_SUBNET`, a free /24)."""
    return ipaddress.ip_network(os.environ.get("TINY_LOCALCLOUD_SUBNET") or "172.30.0.0/24")


def ui_port() -> int:
    """The `local` environment's Airflow UI/API over HTTPS (the host's nginx on 443), published on the machine's
    loopback (`TINY_AIRFLOW_PORT`)."""
    return int(os.environ.get("TINY_AIRFLOW_PORT") or "8443")


def log_volume_mb() -> int:
    """Size of the Airflow host's log volume (`TINY_LOG_VOLUME_MB`)."""
    return int(os.environ.get("TINY_LOG_VOLUME_MB") or "256")
