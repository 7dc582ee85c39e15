"""The local default for the pipeline tests: brought up once, reused by every test, and taken down at the end
unless it was already running (a developer's `make up` is left as it was)."""

from __future__ import annotations

from pathlib import Path

import pytest
from stage_cli import ci

from ci.localcloud.inventory import inventory_file

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="session")
def local_cloud():
    """`ci localcloud up` (idempotent); `down` at the end only if this session started it."""
    was_up = inventory_file("local").exists()
    up = ci("localcloud", "up")
    assert up.code == 0, up.output
    yield up
    if not was_up:
        down = ci("localcloud", "down")
        assert down.code == 0, down.output


@pytest.fixture(scope="session")
def workspace(tmp_path_factory):
    """job name -> that Jenkins job's own workspace, made fresh at its first use and kept for its later
    commands (a job's workspace persists between its builds; another job never sees it)."""
    from workspaces import fresh_workspace

    made: dict[str, Path] = {}

    def of(job: str) -> Path:
        if job not in made:
            made[job] = fresh_workspace(tmp_path_factory.mktemp("jenkins") / job)
        return made[job]

    return of
