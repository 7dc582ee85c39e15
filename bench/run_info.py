"""What a benchmark run was: when (UTC), which commit (and whether the work tree was dirty), which machine."""

from __future__ import annotations

import datetime as dt
import os
import platform
import subprocess
from pathlib import Path

from ci.paths import ROOT


def _git(*argv: str) -> str | None:
    # --no-optional-locks: reading the state must not take the index lock from someone committing meanwhile.
    proc = subprocess.run(["git", "--no-optional-locks", "-C", str(ROOT), *argv], capture_output=True, text=True,
                          check=False)
    return proc.stdout.strip() if proc.returncode == 0 else None


def commit() -> dict:
    """HEAD's commit and whether the work tree differs from it (modified or untracked files)."""
    head = _git("rev-parse", "HEAD")
    status = _git("status", "--porcelain")
    return {"commit": head or "unknown (not a git work tree)", "dirty": bool(status)}


def _proc_field(path: str, field: str) -> str | None:
    try:
        lines = Path(path).read_text().splitlines()
    except OSError:
        return None
    for line in lines:
        name, _, value = line.partition(":")
        if name.strip() == field:
            return value.strip()
    return None


def machine() -> dict:
    """CPU count and model, memory, OS and kernel, Python version."""
    mem_kb = _proc_field("/proc/meminfo", "MemTotal")
    try:
        os_name = platform.freedesktop_os_release().get("PRETTY_NAME", platform.system())
    except OSError:
        os_name = platform.system()
    return {"cpus": len(os.sched_getaffinity(0)),
            "cpu_model": _proc_field("/proc/cpuinfo", "model name") or platform.processor() or "unknown model",
            "memory_gib": round(int(mem_kb.split()[0]) / 1024 / 1024, 1) if mem_kb else None,
            "os": os_name, "kernel": f"{platform.system()} {platform.release()}",
            "python": platform.python_version()}


def run_info(settings: dict[str, str | int]) -> dict:
    """The run's header: start time (UTC), commit, machine and the BENCH_* settings it ran with."""
    return {"date_utc": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"), **commit(), "machine": machine(),
            "settings": settings}
