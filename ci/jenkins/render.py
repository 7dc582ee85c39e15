"""Rendering jobs/ with jenkins-job-builder (offline): one command line for `make lint` and `jenkins sync`."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

from ci import check_cache
from ci.paths import ROOT, tool

JOBS = ROOT / "jobs"
TOOLING_LOCK = ROOT / "requirements" / "tooling.txt"
# Keep JJB's cache in the work tree, not in the user's home.
JJB_ENV = {"XDG_CACHE_HOME": str(ROOT / ".cache")}


class RenderError(Exception):
    """jenkins-jobs refused jobs/; the message is its last line."""


def job_files() -> list[Path]:
    """The jenkins-job-builder YAML files under jobs/."""
    return sorted(JOBS.glob("**/*.y*ml"))


def render_argv(out_dir: Path) -> list[str]:
    """`jenkins-jobs test` writing OUT/<job>/config.xml for every job."""
    return [tool("jenkins-jobs"), "--conf", str(JOBS / "jenkins_jobs.ini"), "test", "--config-xml",
            "-o", str(out_dir), ":".join(str(p) for p in job_files())]


def render_inputs() -> list[Path]:
    """What a render reads: everything under jobs/ (JJB's configuration too), this module and JJB's lock."""
    return [*check_cache.files_under(JOBS), Path(__file__), TOOLING_LOCK]


def render_cache_dir() -> Path:
    """Renders by the key of their inputs, read when used (tests point TINY_RENDER_CACHE_DIR elsewhere)."""
    return Path(os.environ.get("TINY_RENDER_CACHE_DIR") or ROOT / ".cache" / "jjb-render")


def render(out_dir: Path) -> None:
    """Write OUT/<job>/config.xml for every job. jenkins-jobs takes about half a second a run, so a render of
    inputs byte for byte those of a previous render is copied from the cache instead; only the newest render
    is kept. Raises RenderError when jenkins-jobs fails (a failure is never cached)."""
    key = check_cache.inputs_key(render_argv(Path("OUT")), render_inputs(), json.dumps(JJB_ENV, sort_keys=True))
    cache = render_cache_dir()
    cached = cache / key
    if not cached.is_dir():
        cache.mkdir(parents=True, exist_ok=True)
        scratch = Path(tempfile.mkdtemp(prefix=".rendering-", dir=cache))
        try:
            proc = subprocess.run(render_argv(scratch / "out"), capture_output=True, text=True, check=False,
                                  env={**os.environ, **JJB_ENV})
            if proc.returncode != 0:
                lines = proc.stderr.strip().splitlines() or [f"exit code {proc.returncode}"]
                raise RenderError(lines[-1])
            try:
                (scratch / "out").rename(cached)  # atomic: a concurrent render of the same inputs may win
            except OSError:
                if not cached.is_dir():
                    raise
        finally:
            shutil.rmtree(scratch, ignore_errors=True)
        for old in cache.iterdir():
            if old.name != key and not old.name.startswith(".rendering-"):
                shutil.rmtree(old, ignore_errors=True)
    shutil.copytree(cached, out_dir, dirs_exist_ok=True)
