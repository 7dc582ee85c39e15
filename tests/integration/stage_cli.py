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
    workspace: str = ""


def ci(*args: str, timeout: float = 1800, workspace: Path | None = None, echo: bool = True) -> StageRun:
    """Run `python -m ci ARGS` from the repository root, or from a Jenkins job's own workspace (a fresh
    checkout, see workspaces.py); its output is echoed for the CI log (`echo`: at once; else by `show`)."""
    from workspaces import agent_environment

    started = time.monotonic()
    env = {**os.environ, **agent_environment()} if workspace else None
    proc = subprocess.run([sys.executable, "-m", "ci", *args], cwd=workspace or ROOT, capture_output=True, text=True,
                          timeout=timeout, check=False, env=env)
    run = StageRun(list(args), proc.returncode, proc.stdout + proc.stderr, time.monotonic() - started,
                   workspace.name if workspace else "")
    if echo:
        show(run)
    return run


def show(run: StageRun) -> None:
    """Echo a run's command line, exit code, time and the tail of its output."""
    where = f"  [workspace {run.workspace}]" if run.workspace else ""
    print(f"\n$ python -m ci {' '.join(run.argv)}  (exit {run.code}, {run.seconds:.0f} s){where}")
    print("\n".join(run.output.splitlines()[-40:]))
