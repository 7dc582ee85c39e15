"""The local default for the pipeline tests: brought up once, reused by every test, and taken down at the end
unless it was already running (a developer's `make up` is left as it was)."""

from __future__ import annotations

from pathlib import Path

import pytest
from stage_cli import ci

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="session")
def local_cloud():
    """`ci localcloud up` (idempotent); `down` at the end only if this session started it."""
    was_up = (ROOT / "inventory" / "local" / "localcloud.yml").exists()
    up = ci("localcloud", "up")
    assert up.code == 0, up.output
    yield up
    if not was_up:
        down = ci("localcloud", "down")
        assert down.code == 0, down.output
