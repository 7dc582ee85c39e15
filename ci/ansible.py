"""Running the project's playbooks: one command line and one environment for every stage."""

from __future__ import annotations

import json
import os
import re
import shlex
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from ci.localcloud import LOCAL_ENVS, LocalCloudError
from ci.localcloud.endpoint import running_endpoint
from ci.paths import ROOT, VENV_BIN, tool

if TYPE_CHECKING:
    from ci.runner import Stage

ANSIBLE_DIR = ROOT / "ansible"
WORK = ROOT / ".work"
# Keep Ansible's state in the work tree, not in the user's home.
ANSIBLE_ENV = {
    "ANSIBLE_CONFIG": str(ANSIBLE_DIR / "ansible.cfg"),
    "ANSIBLE_HOME": str(ROOT / ".cache" / "ansible"),
    "ANSIBLE_LOCAL_TEMP": str(ROOT / ".cache" / "ansible" / "tmp"),
    "ANSIBLE_SSH_CONTROL_PATH_DIR": str(ROOT / ".cache" / "ansible" / "cp"),
    "ANSIBLE_FORCE_COLOR": "0",
}

# ansible-playbook ends within a second or two of Ctrl-C, or never: a worker killed while it wrote to the
# results queue leaves the queue's lock held, and the main process waits on it at clean-up for good
# (ansible-core 2.19, seen under Mitogen). After this many seconds the run is stopped harder.
INTERRUPT_GRACE = 10.0


def tool_path_env() -> dict[str, str]:
    """PATH with the venv's bin first: testinfra calls ansible-inventory and ansible by name."""
    return {"PATH": f"{VENV_BIN}{os.pathsep}{os.environ.get('PATH', '')}"}
RECAP = re.compile(r"^(?P<host>\S+)\s+:\s+ok=(?P<ok>\d+)\s+changed=(?P<changed>\d+)\s+unreachable=(?P<unreachable>\d+)"
                   r"\s+failed=(?P<failed>\d+)", re.MULTILINE)


@dataclass(frozen=True)
class Recap:
    """A host's line of the PLAY RECAP."""

    host: str
    ok: int
    changed: int
    unreachable: int
    failed: int


def parse_recap(output: str) -> list[Recap]:
    """The PLAY RECAP lines of an ansible-playbook run."""
    return [Recap(m["host"], int(m["ok"]), int(m["changed"]), int(m["unreachable"]), int(m["failed"]))
            for m in RECAP.finditer(output)]


def inventory_listing(inventory: Path, env: dict[str, str] | None = None) -> dict:
    """`ansible-inventory --list` of the inventory, so a dynamic inventory (aws_ec2) is asked exactly as testinfra
    and ansible-playbook would ask it."""
    proc = subprocess.run([tool("ansible-inventory"), "-i", str(inventory), "--list"], capture_output=True, text=True,
                          env={**os.environ, **ANSIBLE_ENV, **(env or {})}, check=False)
    if proc.returncode != 0:
        raise RuntimeError(f"ansible-inventory -i {inventory} failed: {proc.stderr.strip()[-500:]}")
    return json.loads(proc.stdout)


def inventory_hosts(inventory: Path, group: str, env: dict[str, str] | None = None) -> list[str]:
    """The hosts of `group` (its children included) as `ansible-inventory --list` reads the inventory."""
    listing = inventory_listing(inventory, env)
    found: list[str] = []

    def walk(name: str) -> None:
        node = listing.get(name, {})
        found.extend(h for h in node.get("hosts", []) if h not in found)
        for child in node.get("children", []):
            walk(child)

    walk(group)
    return found


def close_shared_ssh(inventory: Path, env: dict[str, str] | None = None) -> list[str]:
    """Ask each host's shared SSH connection to stop (OpenSSH's `-O stop`, for hosts whose ssh arguments name a
    ControlPath), so the next session is a new login; the hosts that had one. Sessions still running on it
    finish; new ones start a new connection.

    PAM sets a session's limits and environment at login, and sshd's settings apply to new connections: a
    session multiplexed over a connection opened before site.yml changed them shows the old ones. A shared
    connection lives on for ControlPersist after its last session, whichever stage opened it.
    """
    closed = []
    for name, hostvars in inventory_listing(inventory, env).get("_meta", {}).get("hostvars", {}).items():
        args = [*shlex.split(str(hostvars.get("ansible_ssh_common_args", ""))),
                *shlex.split(str(hostvars.get("ansible_ssh_extra_args", "")))]
        if not any("controlpath" in a.lower() for a in args):
            continue
        user, port = hostvars.get("ansible_user"), hostvars.get("ansible_port")
        argv = ["ssh", *args, "-O", "stop", *(["-l", str(user)] if user else []),
                *(["-p", str(port)] if port else []), str(hostvars.get("ansible_host", name))]
        try:
            done = subprocess.run(argv, capture_output=True, check=False, timeout=30).returncode == 0
        except (OSError, subprocess.TimeoutExpired):
            done = False
        if done:
            closed.append(name)
    return closed


def aws_target(env: str, region: str) -> dict[str, str]:
    """Environment variables that point the AWS SDK (boto3, amazon.aws) at env's AWS API; starts nothing.

    local: the running local cloud's moto endpoint through the SDK's own AWS_ENDPOINT_URL, with throwaway
    credentials (LocalCloudError when none runs); staging and production: nothing, the AWS credentials come
    from the caller (Jenkins' withCredentials). No playbook takes an endpoint: the same plays run against both.
    """
    return running_endpoint(region) if env in LOCAL_ENVS else {}


def playbook_argv(env: str, playbook: str, extra_vars: list[str]) -> list[str]:
    """ansible-playbook against inventory/<env> with the given `KEY=VALUE` extra vars."""
    argv = [tool("ansible-playbook"), "-i", str(ROOT / "inventory" / env), str(ANSIBLE_DIR / playbook)]
    for pair in extra_vars:
        argv += ["-e", pair]
    return argv


def run_playbook_stage(stage_name: str, env: str, playbook: str, extra_vars: list[str],
                       options: list[str] | None = None, stage: Stage | None = None) -> int:
    """A stage that runs one playbook against env's AWS API (local: the local cloud) and reports.

    `options` are further ansible-playbook arguments (--limit, --check, --diff); pass `stage` to add the
    playbook as one step of a larger stage (then the caller finishes it).
    """
    from ci.cost import environment_vars
    from ci.runner import Stage

    own = stage is None
    stage = stage or Stage(stage_name)
    region = environment_vars(env)["aws_region"]
    try:
        aws_env = aws_target(env, region)
    except LocalCloudError as exc:
        stage.fail("local cloud", str(exc))
        return stage.finish() if own else 1
    result = stage.command(f"ansible-playbook {playbook}",
                           playbook_argv(env, playbook, extra_vars) + list(options or []),
                           env={**ANSIBLE_ENV, **aws_env}, stream=True, interrupt_grace=INTERRUPT_GRACE)
    for recap in parse_recap(result.output):
        print(f"recap {recap.host}: ok={recap.ok} changed={recap.changed} failed={recap.failed} "
              f"unreachable={recap.unreachable}")
    if own:
        return stage.finish()
    return 0 if result.ok else 1


__all__ = ["ANSIBLE_ENV", "LocalCloudError", "Recap", "aws_target", "close_shared_ssh", "inventory_hosts",
           "inventory_listing", "parse_recap", "playbook_argv"]
