"""Where things are in the repository, resolved once so every stage agrees."""

from __future__ import annotations

import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DAGS = ROOT / "dags"
TESTS = ROOT / "tests"
# The venv's bin folder holds every locked tool; run them from there, never from PATH.
VENV_BIN = Path(sys.executable).parent


def tool(name: str) -> str:
    """Path of a console script installed in the running venv (falls back to PATH)."""
    candidate = VENV_BIN / name
    return str(candidate) if candidate.exists() else name


def reports_dir() -> Path:
    """Where stages write their reports (JUnit XML, screenshots): `reports/`, which Jenkins publishes.
    `TINY_REPORTS_DIR` overrides it, read when used: tests send their inner runs' reports elsewhere."""
    return Path(os.environ.get("TINY_REPORTS_DIR") or ROOT / "reports")


def dags_folder() -> Path:
    """The DAG folder the integrity suite checks: `TINY_DAGS_FOLDER` overrides `dags/` (fixture runs)."""
    return Path(os.environ.get("TINY_DAGS_FOLDER", DAGS)).resolve()
