"""Project settings kept in one place: the `[tool.tiny-analytics]` table of pyproject.toml."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from functools import cache

from ci.paths import ROOT


@dataclass(frozen=True)
class Settings:
    """Budgets and thresholds the checks share."""

    dag_parse_budget_seconds: float
    default_owner: str


@cache
def settings() -> Settings:
    """Read the project settings from pyproject.toml (once per process)."""
    with (ROOT / "pyproject.toml").open("rb") as fh:
        table = tomllib.load(fh)["tool"]["tiny-analytics"]
    return Settings(
        dag_parse_budget_seconds=float(table["dag_parse_budget_seconds"]),
        default_owner=str(table["default_owner"]),
    )
