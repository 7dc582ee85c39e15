"""verify starts from new logins: a shared SSH connection (ControlMaster) that an earlier stage left open is asked
to exit first, through the same ControlPath as the inventory's ssh arguments name."""

from __future__ import annotations

import json
import os
import stat

from ci import ansible

LISTING = {"_meta": {"hostvars": {
    "shared": {"ansible_host": "172.30.0.10", "ansible_user": "admin",
               "ansible_ssh_common_args": "-o ControlMaster=auto -o ControlPersist=60s -o ControlPath=/tmp/cp-%C"},
    "plain": {"ansible_host": "10.0.0.5", "ansible_user": "admin", "ansible_ssh_common_args": "-o LogLevel=ERROR"},
    "unknown": {"ansible_host": "10.0.0.6"},
}}}


def test_only_hosts_with_a_control_path_are_asked_to_exit_with_its_own_arguments(tmp_path, monkeypatch):
    calls = tmp_path / "calls.jsonl"
    fake = tmp_path / "bin" / "ssh"
    fake.parent.mkdir()
    fake.write_text(f"#!/usr/bin/env python3\nimport json, sys\nopen({str(calls)!r}, 'a').write("
                    "json.dumps(sys.argv[1:]) + '\\n')\n")
    fake.chmod(fake.stat().st_mode | stat.S_IXUSR)
    monkeypatch.setenv("PATH", f"{fake.parent}{os.pathsep}{os.environ['PATH']}")
    monkeypatch.setattr(ansible, "inventory_listing", lambda inventory, env=None: LISTING)
    assert ansible.close_shared_ssh(tmp_path) == ["shared"]
    (argv,) = [json.loads(line) for line in calls.read_text().splitlines()]
    assert argv == ["-o", "ControlMaster=auto", "-o", "ControlPersist=60s", "-o", "ControlPath=/tmp/cp-%C",
                    "-O", "exit", "-l", "admin", "-p", "22", "172.30.0.10"]
