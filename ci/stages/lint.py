"""Stage `lint`: every static check a push must pass, each a step with its own duration and verdict."""

from __future__ import annotations

import argparse
import re
import shutil
import subprocess
from pathlib import Path

from ci.ansible import ANSIBLE_ENV
from ci.jenkins.render import JJB_ENV, job_files, render_argv
from ci.jenkinsfile import check_files
from ci.jenkinsfile.groovy import GroovyUnavailable, java_binary
from ci.paths import ROOT, reports_dir, tool
from ci.runner import Stage, StepFailed

NPM_BIN = ROOT / "requirements" / "npm" / "node_modules" / ".bin"


def jenkinsfiles() -> list[Path]:
    """The repository's Jenkinsfile and the pipeline scripts the Jenkins jobs include."""
    return [ROOT / "Jenkinsfile", *sorted((ROOT / "jobs").glob("**/*.Jenkinsfile"))]


STEPS = ("ruff", "bandit", "secrets", "yamllint", "ansible-lint", "jenkinsfile-check", "codenarc", "jenkins-jobs")
SECRETS_BASELINE = ROOT / ".secrets.baseline"
# Lock files are hashes by nature; fixtures hold deliberate nonsense; the bench's run record holds a commit SHA.
# The same patterns are in the baseline.
SECRETS_EXCLUDED = re.compile(
    r"^(requirements/.*\.txt|requirements/npm/package-lock\.json|tests/fixtures/.*|bench/last-run\.json)$")


def tracked_files() -> list[str]:
    """Files git tracks (and new ones it would track): what a secrets scan must cover."""
    listed = subprocess.run(["git", "-C", str(ROOT), "ls-files", "--cached", "--others", "--exclude-standard"],
                            capture_output=True, text=True, check=True).stdout.split()
    return [name for name in listed if not SECRETS_EXCLUDED.match(name) and (ROOT / name).is_file()]


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
    if "bandit" in wanted:
        # Medium and high severity fail the push; low ones (every subprocess call of a CI tool) do not.
        stage.command("bandit", [tool("bandit"), "-q", "-r", "ci", "dags", "-ll", "-f", "custom",
                                 "--msg-template", "{relpath}:{line}: {test_id} [{severity}] {msg}"])
    if "secrets" in wanted:
        stage.command("secrets", [tool("detect-secrets-hook"), "--baseline", str(SECRETS_BASELINE),
                                  *tracked_files()])
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
        shutil.rmtree(reports_dir() / "jjb", ignore_errors=True)  # JJB refuses to write over a previous render
        stage.command("jenkins-jobs", render_argv(reports_dir() / "jjb"), env=JJB_ENV)
    return stage.finish()
