"""The local cloud's servers: Debian containers with systemd as PID 1 standing in for EC2 and RDS.

One user-defined network with a fixed subnet; per environment an Airflow host (the EC2 stand-in) and a
database host (the RDS stand-in, PostgreSQL set up by site.yml's local-only play), at fixed addresses.
`up` starts them and `down` removes containers and network; the inventory that names them is
ci.localcloud.inventory's.
"""

from __future__ import annotations

import ipaddress
import re
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

from ci.localcloud import settings
from ci.localcloud.engine import EngineError, EngineState, docker

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
    return str(settings.subnet().network_address + 1)


def hosts(env: str) -> list[Host]:
    """env's Airflow host and database host, at fixed addresses of the subnet."""
    base = settings.subnet().network_address + 10 * SLOTS[env]
    return [Host(env, "airflow", str(base)), Host(env, "database", str(base + 1))]


def _subnet_holder() -> str | None:
    """The route on this machine overlapping the subnet, if any (what holds it, for the error message)."""
    routes = subprocess.run(["ip", "-o", "-4", "route", "show"], capture_output=True, text=True, check=False).stdout
    for line in routes.splitlines():
        prefix = line.split()[0]
        if prefix == "default":
            continue
        try:
            if ipaddress.ip_network(prefix, strict=False).overlaps(settings.subnet()):
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
    network, subnet = settings.network(), settings.subnet()
    found = docker(engine, "network", "inspect", network, "--format", "{{range .IPAM.Config}}{{.Subnet}}{{end}}",
                   check=False)
    if found.returncode == 0:
        current = found.stdout.decode().strip()
        if current != str(subnet):
            raise EngineError(f"network {network} exists with subnet {current}, not {subnet}: "
                              "run `make down` or set TINY_LOCALCLOUD_SUBNET")
        return
    holder = _subnet_holder()
    if holder:
        raise EngineError(f"subnet {subnet} is already in use on this machine ({holder}): "
                          "set TINY_LOCALCLOUD_SUBNET to a free /24")
    docker(engine, "network", "create", "--subnet", str(subnet), "--gateway", gateway(), network)


def log_volume() -> list[str]:
    """The Airflow host's own log volume: a size-limited tmpfs owned by the role's fixed airflow uid/gid (what
    a separate EBS volume is on AWS), so a log flood fills it and not the host's root file system."""
    size = settings.log_volume_mb()
    return ["--tmpfs", f"{LOGS_DIR}:size={size}m,uid={AIRFLOW_UID},gid={AIRFLOW_UID},mode=0750"]


def _state(engine: EngineState, container: str) -> str | None:
    found = docker(engine, "inspect", "--format", "{{.State.Status}}", container, check=False)
    return found.stdout.decode().strip() if found.returncode == 0 else None


def start_host(engine: EngineState, image: str, host: Host, public_key: Path) -> None:
    """Run (or restart) one host container, install the login key (public_key, the public half of the local
    cloud's key pair), wait until systemd has booted."""
    status = _state(engine, host.container)
    if status is not None and host.env == "local" and host.role == "airflow":
        published = docker(engine, "port", host.container, "443/tcp", check=False).stdout.decode().strip()
        if not published:
            raise EngineError(f"{host.container} was made before the UI moved to HTTPS and publishes no port 443: "
                              "run `make down`, then `make up` (the image cache stays)")
    if status is None:
        publish: list[str] = []
        if host.env == "local" and host.role == "airflow":
            ui_port = settings.ui_port()
            holder = _port_holder(ui_port)
            if holder:
                raise EngineError(f"port {ui_port} for the Airflow UI is in use ({holder}): set TINY_AIRFLOW_PORT")
            publish = ["--publish", f"127.0.0.1:{ui_port}:443"]
        docker(engine, "run", "--detach", "--name", host.container, "--hostname", host.hostname,
               "--network", settings.network(), "--ip", host.ip, "--label", f"tiny-analytics.env={host.env}",
               *publish, *SYSTEMD_FLAGS, *(log_volume() if host.role == "airflow" else []), image)
    elif status != "running":
        docker(engine, "start", host.container)
    docker(engine, "exec", "-i", host.container, "sh", "-c",
           "install -d -m 0700 -o admin -g admin /home/admin/.ssh && cat > /home/admin/.ssh/authorized_keys"
           " && chown admin:admin /home/admin/.ssh/authorized_keys && chmod 0600 /home/admin/.ssh/authorized_keys",
           stdin=public_key.read_bytes())
    wait_booted(engine, host)


# Where a host trusts the local AWS endpoint's CA: its system store (update-ca-certificates), which the services'
# AWS SDK reads through AWS_CA_BUNDLE (the inventory's airflow_extra_env). On EC2 the public roots suffice.
ENDPOINT_CA = "/usr/local/share/ca-certificates/tiny-analytics-local-aws.crt"
SYSTEM_BUNDLE = "/etc/ssl/certs/ca-certificates.crt"


def trust_endpoint_ca(engine: EngineState, host: Host, ca_pem: bytes) -> None:
    """Put the local AWS endpoint's CA in the host's system trust store (rebuilt only when it changed)."""
    docker(engine, "exec", "-i", host.container, "sh", "-c",
           f"cat > {ENDPOINT_CA}.new && if cmp -s {ENDPOINT_CA}.new {ENDPOINT_CA}; then rm {ENDPOINT_CA}.new;"
           f" else mv {ENDPOINT_CA}.new {ENDPOINT_CA} && update-ca-certificates >/dev/null; fi", stdin=ca_pem)


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
    return removed


def remove_network(engine: EngineState) -> bool:
    """Remove the project network if no container uses it any more."""
    network = settings.network()
    found = docker(engine, "network", "inspect", network, "--format", "{{len .Containers}}", check=False)
    if found.returncode != 0 or found.stdout.decode().strip() != "0":
        return False
    docker(engine, "network", "rm", network)
    return True


def ui_url(env: str) -> str:
    """Where a browser on this machine opens env's Airflow UI."""
    return f"https://127.0.0.1:{settings.ui_port()}" if env == "local" else f"https://{hosts(env)[0].ip}"


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
