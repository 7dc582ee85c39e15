"""The render cache of jobs/ (ci/jenkins/render.py): a render of unchanged inputs is reused, a changed input
renders again, a failure is reported with jenkins-jobs' own line and never cached."""

from __future__ import annotations

import shutil
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from ci.jenkins import render

pytestmark = pytest.mark.slow  # starts processes or services: `make unit-slow`, not the push loop


@pytest.fixture
def jobs(tmp_path, monkeypatch) -> Path:
    """A copy of jobs/ that the render reads, and an empty render cache."""
    copy = tmp_path / "jobs"
    shutil.copytree(render.JOBS, copy)
    monkeypatch.setattr(render, "JOBS", copy)
    monkeypatch.setenv("TINY_RENDER_CACHE_DIR", str(tmp_path / "cache"))
    return copy


def _description(out: Path, job: str) -> str:
    return ET.parse(out / job / "config.xml").getroot().findtext("description") or ""


def _runs(monkeypatch) -> list[list[str]]:
    calls: list[list[str]] = []
    real = render.subprocess.run

    def counting(argv, **kwargs):
        calls.append(argv)
        return real(argv, **kwargs)

    monkeypatch.setattr(render.subprocess, "run", counting)
    return calls


def test_unchanged_inputs_reuse_the_render_and_a_changed_one_renders_again(jobs, tmp_path, monkeypatch):
    runs = _runs(monkeypatch)
    render.render(tmp_path / "a")
    render.render(tmp_path / "b")
    assert len(runs) == 1
    assert _description(tmp_path / "b", "tiny-analytics-promote") == _description(tmp_path / "a",
                                                                                  "tiny-analytics-promote")

    promote = jobs / "promote.yaml"
    promote.write_text(promote.read_text().replace("Promote a verified commit", "Promote one verified commit"))
    render.render(tmp_path / "c")
    assert len(runs) == 2
    assert _description(tmp_path / "c", "tiny-analytics-promote").startswith("Promote one verified commit")
    assert len(list((tmp_path / "cache").iterdir())) == 1, "only the newest render is kept"


def test_a_failed_render_names_the_problem_and_is_not_cached(jobs, tmp_path, monkeypatch):
    (jobs / "broken.yaml").write_text("- job:\n    name: broken\n    project-type: no-such-type\n")
    runs = _runs(monkeypatch)
    for attempt in (1, 2):
        with pytest.raises(render.RenderError, match="no-such-type"):
            render.render(tmp_path / "out")
        assert len(runs) == attempt
    assert not [p for p in (tmp_path / "cache").iterdir() if not p.name.startswith(".")]
