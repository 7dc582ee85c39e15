"""Jenkins jobs' workspaces on one machine: each job (push, promote, rebuild, drift, office hours) has its own
checkout, and nothing one job leaves in its `.work` reaches another. A fresh workspace is a clone of this
commit with the work tree's uncommitted changes, an empty `.work`, and this checkout's venv (shared, as the
issue allows); it reaches the local cloud the way a Jenkins agent would be pointed at it (TINY_LOCALCLOUD_DIR,
TINY_DOCKER_DIR), as a job on AWS reaches its account through credentials.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

from ci.localcloud.settings import engine_dir, state_dir
from ci.paths import ROOT


def _git(*args: str, cwd: Path = ROOT, stdin: bytes | None = None) -> bytes:
    return subprocess.run(["git", *args], cwd=cwd, input=stdin, capture_output=True, check=True).stdout


def fresh_workspace(folder: Path) -> Path:
    """Clone HEAD into folder, bring the work tree's uncommitted edits and new files, share the venv."""
    _git("clone", "--quiet", "--shared", str(ROOT), str(folder))
    diff = _git("diff", "HEAD", "--binary")
    if diff:
        _git("apply", "--whitespace=nowarn", cwd=folder, stdin=diff)
    for name in _git("ls-files", "--others", "--exclude-standard", "-z").decode().split("\0"):
        if name:
            (folder / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / name, folder / name, follow_symlinks=False)
    (folder / ".venv").symlink_to(ROOT / ".venv")
    assert not (folder / ".work").exists()
    return folder


def agent_environment() -> dict[str, str]:
    """What points a workspace at this machine's local cloud (read from this checkout's settings)."""
    return {"TINY_LOCALCLOUD_DIR": str(state_dir()), "TINY_DOCKER_DIR": str(engine_dir())}
