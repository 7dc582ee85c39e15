"""The local cloud: the local default's stand-in for AWS, on this machine.

- settings: every `TINY_*` setting the local cloud reads, each read when called, never at import;
- moto_server: the patched moto server, the local AWS API (`python -m ci.localcloud.moto_server`);
- endpoint: that server's process (started with its PID recorded, stopped by that PID) and how clients reach it;
- engine: the Docker engine the hosts run on (one that answers, or the project's own dockerd);
- image: the hosts' base image, built from a debootstrap root file system (rootfs.sh);
- hosts: the host containers (the EC2 and RDS stand-ins) and their network;
- inventory: the SSH key pair and each environment's inventory that names the hosts.

This module holds only what all of them share, and imports none of them.
"""

from __future__ import annotations

# Environments the local cloud holds: `local` (the default) and `local-prod`, the production stand-in of
# the promotion path. Every other environment is real AWS.
LOCAL_ENVS = ("local", "local-prod")


class LocalCloudError(RuntimeError):
    """The local cloud could not be started or is not running."""
