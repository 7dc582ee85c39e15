"""The local cloud's servers: Debian containers with systemd as PID 1 standing in for EC2 and RDS.

One user-defined network with a fixed subnet; per environment an Airflow host (the EC2 stand-in) and a
database host (the RDS stand-in, PostgreSQL set up by site.yml's local-only play). `up` writes the
inventory file Ansible and testinfra read; `down` removes containers, network and that file.
"""

from __future__ import annotations

import ipaddress
import json
import os
import re
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

from ci.docker_engine import EngineError, EngineState, docker
from ci.localcloud import inventory_file, ssh_key
from ci.paths import ROOT


# Settings are read when used (not at import), so a TINY_* variable set later is what every call sees.
def network() -> str:
    """The project's Docker network (`TINY_LOCALCLOUD_NETWORK`)."""
    return os.environ.get("TINY_LOCALCLOUD_NETWORK") or "tiny-analytics"


def subnet() -> ipaddress.IPv4Network:
    """The network's fixed subnet (`TINY_LOCALCLOUD_SUBNET`, a free /24)."""
    return ipaddress.ip_network(os.environ.get("TINY_LOCALCLOUD_SUBNET") or "172.30.0.0/24")


def ui_port() -> int:
    """The `local` environment's Airflow UI/API, published on the machine's loopback (`TINY_AIRFLOW_PORT`)."""
    return int(os.environ.get("TINY_AIRFLOW_PORT") or "8080")


def log_volume_mb() -> int:
    """Size of the Airflow host's log volume (`TINY_LOG_VOLUME_MB`)."""
    return int(os.environ.get("TINY_LOG_VOLUME_MB") or "256")


# Environments the local cloud can hold, each with its slot of addresses (.10/.11, .20/.21).
SLOTS = {"local": 1, "local-prod": 2}
# What a host container needs for systemd as PID 1 on this engine (--privileged fails here).
SYSTEMD_FLAGS = ["--cap-add", "SYS_ADMIN", "--security-opt", "seccomp=unconfined", "--cgroupns=private",
                 "--tmpfs", "/run", "--tmpfs", "/run/lock", "--stop-signal", "SIGRTMIN+3"]
# The airflow role's logs folder and fixed uid/gid (airflow_logs_dir, airflow_uid, airflow_gid).
LOGS_DIR = "/opt/airflow/logs"
AIRFLOW_UID = 10001


@dataclass(frozen=True)
class Host:
    """One host container."""

    env: str
    role: str  # "airflow" or "database"
    ip: str

    @property
    def container(self) -> str:
        """The container's name (what `down` removes, and nothing else)."""
        return f"tiny-analytics-{self.env}-{self.role}"

    @property
    def hostname(self) -> str:
        """The inventory name and hostname."""
        return f"{self.env}-{'airflow-1' if self.role == 'airflow' else 'db-1'}"


def gateway() -> str:
    """The network's gateway: the machine's own address on it (moto listens here)."""
    return str(subnet().network_address + 1)


def hosts(env: str) -> list[Host]:
    """env's Airflow host and database host, at fixed addresses of the subnet."""
    base = subnet().network_address + 10 * SLOTS[env]
    return [Host(env, "airflow", str(base)), Host(env, "database", str(base + 1))]


def _subnet_holder() -> str | None:
    """The route on this machine overlapping the subnet, if any (what holds it, for the error message)."""
    routes = subprocess.run(["ip", "-o", "-4", "route", "show"], capture_output=True, text=True, check=False).stdout
    for line in routes.splitlines():
        prefix = line.split()[0]
        if prefix == "default":
            continue
        try:
            if ipaddress.ip_network(prefix, strict=False).overlaps(subnet()):
                return line.strip()
        except ValueError:
            continue
    return None


def _port_holder(port: int) -> str | None:
    """The listener on 127.0.0.1:port (or any address), described by ss, if there is one."""
    out = subprocess.run(["ss", "-Hltnp", f"sport = :{port}"], capture_output=True, text=True, check=False).stdout
    return out.strip() or None


def ensure_network(engine: EngineState) -> None:
    """Create the project network with its fixed subnet, or reuse it; refuse an overlapping subnet."""
    found = docker(engine, "network", "inspect", network(), "--format", "{{range .IPAM.Config}}{{.Subnet}}{{end}}",
                   check=False)
    if found.returncode == 0:
        current = found.stdout.decode().strip()
        if current != str(subnet()):
            raise EngineError(f"network {network()} exists with subnet {current}, not {subnet()}: "
                              "run `make down` or set TINY_LOCALCLOUD_SUBNET")
        return
    holder = _subnet_holder()
    if holder:
        raise EngineError(f"subnet {subnet()} is already in use on this machine ({holder}): "
                          "set TINY_LOCALCLOUD_SUBNET to a free /24")
    docker(engine, "network", "create", "--subnet", str(subnet()), "--gateway", gateway(), network())


def log_volume() -> list[str]:
    """The Airflow host's own log volume: a size-limited tmpfs owned by the role's fixed airflow uid/gid (what
    a separate EBS volume is on AWS), so a log flood fills it and not the host's root file system."""
    return ["--tmpfs", f"{LOGS_DIR}:size={log_volume_mb()}m,uid={AIRFLOW_UID},gid={AIRFLOW_UID},mode=0750"]


def _state(engine: EngineState, container: str) -> str | None:
    found = docker(engine, "inspect", "--format", "{{.State.Status}}", container, check=False)
    return found.stdout.decode().strip() if found.returncode == 0 else None


def start_host(engine: EngineState, image: str, host: Host) -> None:
    """Run (or restart) one host container, install the login key, wait until systemd has booted."""
    status = _state(engine, host.container)
    if status is None:
        publish: list[str] = []
        if host.env == "local" and host.role == "airflow":
            holder = _port_holder(ui_port())
            if holder:
                raise EngineError(f"port {ui_port()} for the Airflow UI is in use ({holder}): set TINY_AIRFLOW_PORT")
            publish = ["--publish", f"127.0.0.1:{ui_port()}:8080"]
        docker(engine, "run", "--detach", "--name", host.container, "--hostname", host.hostname,
               "--network", network(), "--ip", host.ip, "--label", f"tiny-analytics.env={host.env}",
               *publish, *SYSTEMD_FLAGS, *(log_volume() if host.role == "airflow" else []), image)
    elif status != "running":
        docker(engine, "start", host.container)
    docker(engine, "exec", "-i", host.container, "sh", "-c",
           "install -d -m 0700 -o admin -g admin /home/admin/.ssh && cat > /home/admin/.ssh/authorized_keys"
           " && chown admin:admin /home/admin/.ssh/authorized_keys && chmod 0600 /home/admin/.ssh/authorized_keys",
           stdin=ssh_key().with_suffix(".pub").read_bytes())
    wait_booted(engine, host)


def wait_booted(engine: EngineState, host: Host, timeout: float = 90.0) -> float:
    """Seconds until systemd reports the host running and sshd is active."""
    started = time.monotonic()
    while True:
        boot = docker(engine, "exec", host.container, "systemctl", "is-system-running", check=False)
        state = boot.stdout.decode().strip()
        ssh = docker(engine, "exec", host.container, "systemctl", "is-active", "ssh", check=False)
        if state in ("running", "degraded") and ssh.returncode == 0:
            return time.monotonic() - started
        if time.monotonic() - started > timeout:
            raise EngineError(f"{host.container} did not boot in {timeout:.0f} s (systemd: {state or 'no answer'})")
        time.sleep(0.5)


def remove_hosts(engine: EngineState, env: str) -> list[str]:
    """Remove env's host containers (by their names); the names of those removed."""
    removed = []
    for host in hosts(env):
        if _state(engine, host.container) is not None:
            docker(engine, "rm", "--force", "--volumes", host.container)
            removed.append(host.container)
    inventory_file(env).unlink(missing_ok=True)
    return removed


def remove_network(engine: EngineState) -> bool:
    """Remove the project network if no container uses it any more."""
    found = docker(engine, "network", "inspect", network(), "--format", "{{len .Containers}}", check=False)
    if found.returncode != 0 or found.stdout.decode().strip() != "0":
        return False
    docker(engine, "network", "rm", network())
    return True


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
        # The AWS SDK's own setting (botocore reads AWS_ENDPOINT_URL): the services' aws_default reaches the
        # local AWS API without an endpoint in any play or connection. On AWS nothing is set.
        "airflow_extra_env": {"AWS_ENDPOINT_URL": endpoint_url},
        # The local AWS endpoint accepts any key; on AWS the instance profile supplies credentials instead.
        "airflow_aws_access_key_id": "testing",
        "airflow_aws_secret_access_key": "testing",  # pragma: allowlist secret (moto's throwaway key)
        "airflow_ui_url": ui_url(env),
    }
    return {
        "_meta": {"hostvars": {h.hostname: {"ansible_host": h.ip, **login, **common} for h in (airflow, database)}},
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


def ui_url(env: str) -> str:
    """Where a browser on this machine opens env's Airflow UI."""
    return f"http://127.0.0.1:{ui_port()}" if env == "local" else f"http://{hosts(env)[0].ip}:8080"


def running_hosts(engine: EngineState) -> list[str]:
    """Names of the project's host containers that exist (any environment)."""
    out = docker(engine, "ps", "--all", "--filter", "label=tiny-analytics.env", "--format", "{{.Names}}",
                 check=False).stdout.decode()
    return [name for name in out.split() if re.match(r"^tiny-analytics-", name)]


def other_containers(engine: EngineState) -> list[str]:
    """Containers on the engine that are not this project's hosts (then the engine must keep running)."""
    out = docker(engine, "ps", "--all", "--format", "{{.Names}}", check=False).stdout.decode()
    ours = set(running_hosts(engine))
    return [name for name in out.split() if name not in ours]
