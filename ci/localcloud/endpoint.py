"""The local cloud's AWS API: the moto server process (ci.localcloud.moto_server) and how clients reach it.

The process is started with its PID recorded in the state folder and stopped by that PID, never by name
(ci.processes).
"""

from __future__ import annotations

import contextlib
import json
import os
import socket
import subprocess
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from pathlib import Path

from ci.localcloud import LOCAL_ENVS, LocalCloudError, settings
from ci.localcloud.tls import issue_endpoint_tls
from ci.paths import ROOT, VENV_BIN
from ci.processes import alive, stop_pid

# Debian's AMIs are not in moto's catalogue: give it their metadata so the AMI lookup runs unchanged.
LOCAL_AMIS = ROOT / "ci" / "data" / "local_amis.json"
# Who calls the local AWS API (moto enforces IAM: ci.localcloud.moto_server): the stages run as the deployer,
# with exactly ansible/iam/deployer-policy.json; the admin is the harness standing in for AWS itself.
DEPLOYER = "tiny-analytics-deployer"
ADMIN = "tiny-analytics-local-admin"
PROJECT = "tiny-analytics"  # aws_platform's `project` default: the host role is <project>-<env>-airflow


def host_role(env: str) -> str:
    """The IAM role provision gives env's Airflow host (aws_platform: <project>-<env>-airflow)."""
    return f"{PROJECT}-{env}-airflow"


@dataclass
class MotoState:
    """What `up` recorded about the running moto server."""

    pid: int
    host: str
    port: int
    log: str
    identities: str = ""  # the JSON file of every identity's keys (owner-only), written by moto at start
    ca_file: str = ""  # the CA clients verify the endpoint's certificate with (ci.localcloud.tls)
    plain_port: int = 0  # the same API over plain HTTP, as AWS's endpoints also answer on port 80

    def __post_init__(self) -> None:
        if not (self.ca_file and self.plain_port):
            raise LocalCloudError("this local cloud's AWS endpoint was started before it served HTTPS: run `make down`,"
                                  " then `make up`")

    def credentials(self, identity: str) -> dict[str, str]:
        """AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY (and AWS_SESSION_TOKEN) of one identity."""
        try:
            return json.loads(Path(self.identities).read_text())[identity]
        except (OSError, ValueError, KeyError) as exc:
            raise LocalCloudError(f"the local cloud has no keys for {identity} in {self.identities or 'its state'}:"
                                  " restart it (`make down`, then `make up`)") from exc

    @property
    def url(self) -> str:
        """The endpoint URL clients use: HTTPS, verified with ca_file."""
        return f"https://{self.host}:{self.port}"

    @property
    def plain_url(self) -> str:
        """The same endpoint over plain HTTP (what a bucket policy requiring TLS must refuse)."""
        return f"http://{self.host}:{self.plain_port}"


def _port_open(host: str, port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.2)
        return sock.connect_ex((host, port)) == 0


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port nobody listens on right now (for tests that run a private local cloud)."""
    with socket.socket() as sock:
        sock.bind((host, 0))
        return sock.getsockname()[1]


class Moto:
    """The moto server of one local cloud, identified by its state folder."""

    def __init__(self, folder: Path | None = None) -> None:
        self.state_dir = folder or settings.state_dir()
        self.state_file = self.state_dir / "moto.json"

    def state(self) -> MotoState | None:
        """The recorded state if its process still runs, else None (stale records are removed)."""
        if not self.state_file.exists():
            return None
        recorded = json.loads(self.state_file.read_text())
        if alive(recorded["pid"]):
            return MotoState(**recorded)
        self.state_file.unlink()
        return None

    def up(self, host: str | None = None, port: int | None = None, timeout: float = 20.0) -> MotoState:
        """Start moto_server unless it already runs; wait until it accepts connections."""
        host, port = host or settings.moto_host(), port or settings.moto_port()
        running = self.state()
        if running:
            return running
        if _port_open(host, port):
            raise LocalCloudError(f"{host}:{port} is already in use by another process: set TINY_MOTO_PORT")
        plain_port = free_port(host)
        while plain_port == port:  # `port` may itself come from free_port, not yet bound
            plain_port = free_port(host)
        self.state_dir.mkdir(parents=True, exist_ok=True)
        tls = issue_endpoint_tls(self.state_dir / "tls", host)
        log = self.state_dir / "moto.log"
        identities = self.state_dir / "identities.json"
        identities.unlink(missing_ok=True)
        policy = settings.deployer_policy()
        if not policy.is_file():
            raise LocalCloudError(f"the deployer's policy {policy} does not exist")
        env = {**os.environ, "MOTO_AMIS_PATH": str(LOCAL_AMIS), "PYTHONPATH": str(ROOT)}
        iam = ["--identities", str(identities), "--deployer-policy", str(policy),
               "--instance-roles", ",".join(host_role(e) for e in LOCAL_ENVS),
               "--decisions", str(settings.iam_decisions(self.state_dir))]
        serve = ["-H", host, "-p", str(port), "--plain-port", str(plain_port), "--ssl-cert", str(tls.cert_file),
                 "--ssl-key", str(tls.key_file)]
        with log.open("ab") as out:
            proc = subprocess.Popen(
                [str(VENV_BIN / "python"), "-m", "ci.localcloud.moto_server", *serve, *iam],
                stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, env=env, start_new_session=True,
            )
        state = MotoState(pid=proc.pid, host=host, port=port, log=str(log), identities=str(identities),
                          ca_file=str(tls.ca_file), plain_port=plain_port)
        self.state_file.write_text(json.dumps(asdict(state)))
        deadline = time.monotonic() + timeout
        while not (_port_open(host, port) and _port_open(host, plain_port) and identities.exists()):
            if proc.poll() is not None or time.monotonic() > deadline:
                self.down()
                raise LocalCloudError(f"moto_server did not start on {host}:{port}; see {log}")
            time.sleep(0.1)
        return state

    def down(self, timeout: float = 10.0) -> bool:
        """Stop the recorded moto_server by its PID; True if one was running."""
        if not self.state_file.exists():
            return False
        pid = json.loads(self.state_file.read_text())["pid"]
        self.state_file.unlink()
        if not alive(pid):
            return False
        stop_pid(pid, timeout)
        return True


@contextlib.contextmanager
def private_moto(folder: Path, port: int | None = None) -> Iterator[MotoState]:
    """A moto server of its own on loopback, its state in `folder` (tests, the bench): started, yielded,
    stopped by its PID however the block ends."""
    moto = Moto(folder)
    state = moto.up("127.0.0.1", port or free_port())
    try:
        yield state
    finally:
        moto.down()


def aws_environment(state: MotoState, region: str, identity: str = DEPLOYER) -> dict[str, str]:
    """Environment for boto3, the AWS CLI and amazon.aws to talk to the local endpoint as `identity` (the
    deployer unless said otherwise). The endpoint is HTTPS, verified through the SDK's own AWS_CA_BUNDLE."""
    return {**state.credentials(identity), "AWS_ENDPOINT_URL": state.url, "AWS_CA_BUNDLE": state.ca_file,
            "AWS_DEFAULT_REGION": region, "AWS_REGION": region}


def running_endpoint(region: str, identity: str = DEPLOYER) -> dict[str, str]:
    """aws_environment of the local cloud that runs now, as `identity`; starts nothing (LocalCloudError when
    none runs)."""
    state = Moto().state()
    if state is None:
        raise LocalCloudError(f"the local cloud is not running (no AWS endpoint recorded in {settings.state_dir()}): "
                              "run `make up` (or `make localcloud`) first; a checkout that is not the one which "
                              "started it (a Jenkins job's workspace) finds it through TINY_LOCALCLOUD_DIR")
    return aws_environment(state, region, identity)
