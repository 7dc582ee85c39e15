"""base's check for pending security updates runs apt only when its inputs changed since a check that found none.

The task's own shell, run here with a stand-in `apt-get` on PATH and the stamp in a temporary folder; the inputs
are this machine's apt lists, dpkg status and apt settings (Debian/Ubuntu, as `make tools` requires)."""

from __future__ import annotations

import os
import stat
import subprocess
from pathlib import Path

import pytest
import yaml

from ci.paths import ROOT

pytestmark = pytest.mark.slow  # starts processes or services: `make unit-slow`, not the push loop

UPDATES = ROOT / "ansible" / "roles" / "base" / "tasks" / "updates.yml"


def _check_script(stamp: Path) -> str:
    (task,) = [t for t in yaml.safe_load(UPDATES.read_text()) if t["name"] == "Look for pending security updates"]
    return task["ansible.builtin.shell"]["cmd"].replace("{{ base_security_check_stamp }}", str(stamp))


def _run(script: str, bin_dir: Path, apt_says: str = "") -> str:
    env = {**os.environ, "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}", "APT_SAYS": apt_says}
    return subprocess.run(["bash", "-c", script], env=env, capture_output=True, text=True, check=True).stdout


def test_apt_runs_again_only_when_an_input_is_newer_than_the_last_clean_check(tmp_path):
    calls, bin_dir, stamp = tmp_path / "calls", tmp_path / "bin", tmp_path / "cache" / "stamp"
    bin_dir.mkdir()
    apt = bin_dir / "apt-get"
    apt.write_text(f'#!/bin/bash\necho "$*" >> {calls}\nprintf "%s\\n" "$APT_SAYS"\n')
    apt.chmod(apt.stat().st_mode | stat.S_IXUSR)
    script = _check_script(stamp)

    def apt_runs() -> int:
        return len(calls.read_text().splitlines()) if calls.exists() else 0

    assert _run(script, bin_dir) == "" and apt_runs() == 1 and stamp.exists()  # nothing pending: stamped
    assert _run(script, bin_dir) == "" and apt_runs() == 1  # nothing changed since: apt is not asked
    newest_input = max(Path(p).stat().st_mtime for p in ("/var/lib/dpkg/status", "/etc/apt"))
    os.utime(stamp, (newest_input - 60, newest_input - 60))  # an input changed after the last check
    pending = "Inst libssl3 [3.0.15-1] (3.0.17-1~deb12u2 Debian-Security:12/stable-security [amd64])"
    assert _run(script, bin_dir, pending) == pending and apt_runs() == 2
    assert not stamp.exists()  # updates are pending: the next run asks apt again
    assert _run(script, bin_dir, pending) == pending and apt_runs() == 3
