"""The local cloud's SSH key pair and each environment's inventory: the hosts Ansible and testinfra reach.

`localcloud up` writes env's inventory into the local cloud's state folder and `down` removes it; the
committed inventory/<env>/localcloud.py prints it from any checkout pointed at that folder.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

from ci.localcloud import settings
from ci.localcloud.endpoint import host_role
from ci.localcloud.hosts import SYSTEM_BUNDLE, gateway, hosts
from ci.paths import ROOT


def ssh_key() -> Path:
    """The private half of the local cloud's SSH key pair (the hosts' login key; provision imports its public
    half as the EC2 key pair)."""
    return settings.state_dir() / "ssh" / "id_ed25519"


def ensure_ssh_key() -> Path:
    """Generate the key pair once (`localcloud up` and a local provision do); its public half."""
    key = ssh_key()
    if not key.exists():
        key.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "tiny-analytics-local", "-f", str(key)],
                       check=True)
    return key.with_suffix(".pub")


def inventory_file(env: str) -> Path:
    """env's hosts as `ansible-inventory --list` prints them, written by `localcloud up`, removed by `down`;
    the committed inventory/<env>/localcloud.py prints it to Ansible and testinfra from any checkout."""
    return settings.state_dir() / "inventory" / f"{env}.json"


def inventory(env: str, endpoint_url: str) -> dict:
    """env's local hosts as `ansible-inventory --list` prints them: groups airflow and database under
    local_servers, SSH as admin with the local cloud's key, and the variables that differ from AWS."""
    airflow, database = hosts(env)
    login = {
        "ansible_user": "admin",
        "ansible_ssh_private_key_file": str(ssh_key()),
        # the ControlPath beside the key: short, and the same for every checkout that reaches these hosts
        "ansible_ssh_common_args": "-o UserKnownHostsFile=/dev/null -o StrictHostKeyChecking=no -o LogLevel=ERROR"
                                   " -o ControlMaster=auto -o ControlPersist=60s"
                                   f" -o ControlPath={ssh_key().parent}/cp-%C",
    }
    common = {
        # The RDS stand-in's address (on AWS this comes from provision's outputs).
        "db_host": database.ip,
        # Like the RDS security group: the database admits the Airflow host only.
        "local_database_client_cidrs": [f"{airflow.ip}/32"],
        # This machine runs Ansible and testinfra, and the security tests fail SSH logins on purpose: never banned.
        "base_fail2ban_ignoreip": [f"{gateway()}/32"],
        # The AWS SDK's own settings (botocore reads AWS_ENDPOINT_URL and AWS_CA_BUNDLE): the services' aws_default
        # reaches the local AWS API, over verified HTTPS, without an endpoint in any play or connection. On AWS
        # nothing is set.
        "airflow_extra_env": {"AWS_ENDPOINT_URL": endpoint_url, "AWS_CA_BUNDLE": SYSTEM_BUNDLE},
    }
    # The addresses the UI's certificate names: those this machine dials (the published loopback port for
    # `local`); on AWS site.yml names the host's public and private addresses.
    ui_names = {airflow.hostname: {"ui_names": (["127.0.0.1"] if env == "local" else []) + [airflow.ip]}}
    # On AWS the instance profile gives the Airflow host its role's credentials; containers have no instance
    # metadata, so the inventory script adds the keys moto holds for env's host role (identities.json, never
    # written into this file): the host can do exactly what the role provision wrote allows.
    role = {airflow.hostname: {"local_aws_identity": f"role/{host_role(env)}"}}
    return {
        "_meta": {"hostvars": {h.hostname: {"ansible_host": h.ip, **login, **common, **role.get(h.hostname, {}),
                                            **ui_names.get(h.hostname, {})}
                               for h in (airflow, database)}},
        "all": {"children": ["local_servers"]},
        "local_servers": {"children": ["airflow", "database"]},
        "airflow": {"hosts": [airflow.hostname]},
        "database": {"hosts": [database.hostname]},
    }


def write_inventory(env: str, endpoint_url: str) -> Path:
    """Record env's inventory in the local cloud's state (inventory/<env>/localcloud.py prints it)."""
    path = inventory_file(env)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(inventory(env, endpoint_url), indent=2) + "\n")
    (ROOT / "inventory" / env / "localcloud.yml").unlink(missing_ok=True)  # the old generated file would clash
    return path


def remove_inventory(env: str) -> None:
    """Forget env's hosts (`localcloud down`, once their containers are removed)."""
    inventory_file(env).unlink(missing_ok=True)
