"""Stage `lint`: every static check a push must pass, each a step with its own duration and verdict."""

from __future__ import annotations

import argparse
import shutil
from pathlib import Path

from ci.ansible import ANSIBLE_ENV
from ci.jenkins.render import JJB_ENV, job_files, render_argv
from ci.jenkinsfile import check_files
from ci.jenkinsfile.groovy import GroovyUnavailable, java_binary
from ci.paths import REPORTS, ROOT, tool
from ci.runner import Stage, StepFailed

NPM_BIN = ROOT / "requirements" / "npm" / "node_modules" / ".bin"


def jenkinsfiles() -> list[Path]:
    """The repository's Jenkinsfile and the pipeline scripts the Jenkins jobs include."""
    return [ROOT / "Jenkinsfile", *sorted((ROOT / "jobs").glob("**/*.Jenkinsfile"))]


STEPS = ("ruff", "yamllint", "ansible-lint", "jenkinsfile-check", "codenarc", "jenkins-jobs")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Step selection and Jenkinsfile override (both for quick local runs and the fixture tests)."""
    parser.add_argument("--only", action="append", choices=STEPS, metavar="STEP",
                        help=f"run only this step (repeatable): {', '.join(STEPS)}")
    parser.add_argument("--jenkinsfile", action="append", type=Path, metavar="FILE",
                        help="check this Jenkinsfile instead of the repository's (repeatable)")


def _jenkinsfile_step(files: list[Path]) -> str:
    try:
        findings = check_files(files)
    except GroovyUnavailable as exc:
        raise StepFailed(str(exc)) from exc
    if findings:
        raise StepFailed(f"{len(findings)} problem(s) in Jenkinsfiles\n" + "\n".join(map(str, findings)))
    return f"{len(files)} Jenkinsfile(s) clean"


def _codenarc(stage: Stage, files: list[Path]) -> None:
    try:
        java = java_binary()
    except GroovyUnavailable as exc:
        stage.fail("codenarc", str(exc))
        return
    # -j: without a Java 17 it tries to download a JRE (no network here) and hangs.
    stage.command("codenarc", [
        str(NPM_BIN / "npm-groovy-lint"), "--failon", "error", "--noserver", "--no-insight", "-j", java,
        *map(str, files),
    ])


def run(args: argparse.Namespace) -> int:
    """ruff, yamllint, ansible-lint, the Jenkinsfile checker, CodeNarc, JJB render."""
    wanted = set(args.only or STEPS)
    files = args.jenkinsfile or jenkinsfiles()
    stage = Stage("lint")
    if "ruff" in wanted:
        stage.command("ruff", [tool("ruff"), "check", "."])
    if "yamllint" in wanted:
        stage.command("yamllint", [tool("yamllint"), "--strict", "."])
    if "ansible-lint" in wanted:
        stage.command("ansible-lint", [tool("ansible-lint"), "--offline", "ansible/"], env=ANSIBLE_ENV)
    if "jenkinsfile-check" in wanted:
        stage.call("jenkinsfile-check", lambda: _jenkinsfile_step(files))
    if "codenarc" in wanted:
        _codenarc(stage, files)
    jobs = job_files()
    if "jenkins-jobs" in wanted and jobs:
        shutil.rmtree(REPORTS / "jjb", ignore_errors=True)  # JJB refuses to write over a previous render
        stage.command("jenkins-jobs", render_argv(REPORTS / "jjb"), env=JJB_ENV)
    return stage.finish()
