"""Running pipeline stages the way a user does: `python -m ci <stage>` from the repository root."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


@dataclass
class StageRun:
    """One `python -m ci ...` run."""

    argv: list[str]
    code: int
    output: str
    seconds: float


def ci(*args: str, timeout: float = 1800, workspace: Path | None = None) -> StageRun:
    """Run `python -m ci ARGS` from the repository root, or from a Jenkins job's own workspace (a fresh
    checkout, see workspaces.py); its output is echoed for the CI log."""
    from workspaces import agent_environment

    started = time.monotonic()
    env = {**os.environ, **agent_environment()} if workspace else None
    proc = subprocess.run([sys.executable, "-m", "ci", *args], cwd=workspace or ROOT, capture_output=True, text=True,
                          timeout=timeout, check=False, env=env)
    output = proc.stdout + proc.stderr
    where = f"  [workspace {workspace.name}]" if workspace else ""
    print(f"\n$ python -m ci {' '.join(args)}  (exit {proc.returncode}, {time.monotonic() - started:.0f} s){where}")
    print("\n".join(output.splitlines()[-40:]))
    return StageRun(list(args), proc.returncode, output, time.monotonic() - started)
