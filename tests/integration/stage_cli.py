"""Running pipeline stages the way a user does: `python -m ci <stage>` from the repository root."""

from __future__ import annotations

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


def ci(*args: str, timeout: float = 1800) -> StageRun:
    """Run `python -m ci ARGS` from the repository root; its output is echoed for the CI log."""
    started = time.monotonic()
    proc = subprocess.run([sys.executable, "-m", "ci", *args], cwd=ROOT, capture_output=True, text=True,
                          timeout=timeout, check=False)
    output = proc.stdout + proc.stderr
    print(f"\n$ python -m ci {' '.join(args)}  (exit {proc.returncode}, {time.monotonic() - started:.0f} s)")
    print("\n".join(output.splitlines()[-40:]))
    return StageRun(list(args), proc.returncode, output, time.monotonic() - started)
