"""Rendering jobs/ with jenkins-job-builder (offline): one command line for `make lint` and `jenkins sync`."""

from __future__ import annotations

from pathlib import Path

from ci.paths import ROOT, tool

JOBS = ROOT / "jobs"
# Keep JJB's cache in the work tree, not in the user's home.
JJB_ENV = {"XDG_CACHE_HOME": str(ROOT / ".cache")}


def job_files() -> list[Path]:
    """The jenkins-job-builder YAML files under jobs/."""
    return sorted(JOBS.glob("**/*.y*ml"))


def render_argv(out_dir: Path) -> list[str]:
    """`jenkins-jobs test` writing OUT/<job>/config.xml for every job."""
    return [tool("jenkins-jobs"), "--conf", str(JOBS / "jenkins_jobs.ini"), "test", "--config-xml",
            "-o", str(out_dir), ":".join(str(p) for p in job_files())]
