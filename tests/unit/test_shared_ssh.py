"""verify starts from new logins: a shared SSH connection (ControlMaster) that an earlier stage left open is asked
to stop first, through the same ControlPath as the inventory's ssh arguments name."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import pytest

from ci import ansible

LISTING = {"_meta": {"hostvars": {
    "shared": {"ansible_host": "172.30.0.10", "ansible_user": "admin",
               "ansible_ssh_common_args": "-o ControlMaster=auto -o ControlPersist=60s -o ControlPath=/tmp/cp-%C"},
    "extra": {"ansible_host": "10.0.0.7", "ansible_port": 2222, "ansible_ssh_extra_args": "-o ControlPath=/tmp/x-%C"},
    "plain": {"ansible_host": "10.0.0.5", "ansible_user": "admin", "ansible_ssh_common_args": "-o LogLevel=ERROR"},
    "unknown": {"ansible_host": "10.0.0.6"},
}}}


def _fake_ssh(tmp_path, monkeypatch, exit_code: int = 0):
    calls = tmp_path / "calls.jsonl"
    fake = tmp_path / "bin" / "ssh"
    fake.parent.mkdir()
    fake.write_text(f"#!/usr/bin/env python3\nimport json, sys\nopen({str(calls)!r}, 'a').write("
                    f"json.dumps(sys.argv[1:]) + '\\n')\nsys.exit({exit_code})\n")
    fake.chmod(fake.stat().st_mode | stat.S_IXUSR)
    monkeypatch.setenv("PATH", f"{fake.parent}{os.pathsep}{os.environ['PATH']}")
    monkeypatch.setattr(ansible, "inventory_listing", lambda inventory, env=None: LISTING)
    return calls


def test_only_hosts_with_a_control_path_are_asked_to_stop_with_its_own_arguments(tmp_path, monkeypatch):
    calls = _fake_ssh(tmp_path, monkeypatch)
    assert ansible.close_shared_ssh(tmp_path) == ["shared", "extra"]
    shared, extra = [json.loads(line) for line in calls.read_text().splitlines()]
    assert shared == ["-o", "ControlMaster=auto", "-o", "ControlPersist=60s", "-o", "ControlPath=/tmp/cp-%C",
                      "-O", "stop", "-l", "admin", "172.30.0.10"]
    assert extra == ["-o", "ControlPath=/tmp/x-%C", "-O", "stop", "-p", "2222", "10.0.0.7"]


def test_a_connection_that_will_not_stop_is_not_counted(tmp_path, monkeypatch):
    _fake_ssh(tmp_path, monkeypatch, exit_code=255)  # no master running: ssh says so and exits 255
    assert ansible.close_shared_ssh(tmp_path) == []


@pytest.mark.parametrize("error", [RuntimeError("ansible-inventory -i inventory/x failed: no such file"),
                                   json.JSONDecodeError("Expecting value", "", 0),
                                   FileNotFoundError("ansible-inventory")])
def test_an_unreadable_inventory_leaves_the_connections_and_does_not_stop_verify(monkeypatch, error):
    from ci.stages import verify

    def broken(inventory, env=None):
        raise error

    monkeypatch.setattr(ansible, "inventory_listing", broken)
    assert verify.fresh_sessions(Path("inventory/x")).startswith("left the shared connections as they are")
