"""The local default for the pipeline tests: brought up once, reused by every test, and taken down at the end
unless it was already running (a developer's `make up` is left as it was).

Production (`local-prod`, for the promotion tests) is built beside the first tests, as a second Jenkins agent
would build it: its set-up mostly waits on its hosts, so it costs the session little time of its own.
"""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

import pytest
from stage_cli import StageRun, ci, show

from ci.localcloud.inventory import inventory_file
from ci.platform import Platform

ROOT = Path(__file__).resolve().parents[2]
PRODUCTION = "local-prod"
PRODUCTION_BUILD = (("localcloud", "up", "--env", PRODUCTION), ("provision", "--env", PRODUCTION),
                    ("configure", "--env", PRODUCTION))
_BUILD = pytest.StashKey[Future]()


def _build_production() -> list[StageRun]:
    """PRODUCTION_BUILD's stages in order, up to the first that fails; their output is shown when awaited."""
    runs: list[StageRun] = []
    for argv in PRODUCTION_BUILD:
        runs.append(ci(*argv, echo=False))
        if runs[-1].code != 0:
            break
    return runs


@pytest.fixture(scope="session")
def local_cloud(request):
    """`ci localcloud up` (idempotent); `down` at the end only if this session started it. When a selected test
    needs production, its build starts in the background now."""
    was_up = inventory_file("local").exists()
    up = ci("localcloud", "up")
    assert up.code == 0, up.output
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="production") as pool:
        if any("production" in item.fixturenames for item in request.session.items):
            request.config.stash[_BUILD] = pool.submit(_build_production)
        yield up
    if not was_up:  # the pool's exit above waited for a build still running
        down = ci("localcloud", "down")
        assert down.code == 0, down.output


@pytest.fixture(scope="module")
def production(request, local_cloud) -> Iterator[Platform]:
    """local-prod's hosts, provisioned and configured (by the build local_cloud started); removed at the end
    of the module (the local cloud stays)."""
    build = request.config.stash.get(_BUILD, None)
    runs = build.result() if build else _build_production()
    for run in runs:
        show(run)
        assert run.code == 0, run.output
    yield Platform.load(PRODUCTION)
    assert ci("localcloud", "down", "--env", PRODUCTION).code == 0


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
