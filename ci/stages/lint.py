"""Stage `lint`: every static check a push must pass, each a step with its own duration and verdict."""

from __future__ import annotations

import argparse
import json
import re
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path

from ci import check_cache
from ci.ansible import ANSIBLE_ENV
from ci.jenkins.render import JJB_ENV, job_files, render_argv, render_inputs
from ci.jenkinsfile import check_files
from ci.jenkinsfile.groovy import GroovyUnavailable, java_binary
from ci.paths import ROOT, reports_dir, tool
from ci.runner import Command, Stage, StepFailed

NPM_BIN = ROOT / "requirements" / "npm" / "node_modules" / ".bin"
TOOLING_LOCK = ROOT / "requirements" / "tooling.txt"
NPM_LOCK = ROOT / "requirements" / "npm" / "package-lock.json"
# checkov has its own locked venv (make tools): its pins do not resolve together with the tooling lock.
CHECKOV = ROOT / ".cache" / "tools" / "checkov" / "bin" / "checkov"
CHECKOV_LOCK = ROOT / "requirements" / "checkov.txt"


def jenkinsfiles() -> list[Path]:
    """The repository's Jenkinsfile and the pipeline scripts the Jenkins jobs include."""
    return [ROOT / "Jenkinsfile", *sorted((ROOT / "jobs").glob("**/*.Jenkinsfile"))]


STEPS = ("ruff", "bandit", "secrets", "yamllint", "ansible-lint", "checkov", "jenkinsfile-check", "codenarc",
         "jenkins-jobs")
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
    parser.add_argument("--no-cache", action="store_true",
                        help="run every checker even when its inputs are those of its last pass")


def step_inputs(step: str, jenkinsfile_paths: list[Path]) -> list[Path]:
    """The files a cached checker reads: what it checks, its configuration and the lock of its tool."""
    return {
        "yamllint": [*check_cache.files_under(ROOT, (".yml", ".yaml")), ROOT / ".yamllint", TOOLING_LOCK],
        "ansible-lint": [*check_cache.files_under(ROOT / "ansible"), ROOT / ".ansible-lint", ROOT / ".yamllint",
                         TOOLING_LOCK],
        "checkov": [*check_cache.files_under(ROOT / "ansible"), CHECKOV_LOCK],
        "jenkinsfile-check": [*jenkinsfile_paths, *check_cache.files_under(ROOT / "ci" / "jenkinsfile")],
        "codenarc": [*jenkinsfile_paths, ROOT / ".groovylintrc.json", NPM_LOCK],
        "jenkins-jobs": render_inputs(),
    }[step]


def _jenkinsfile_step(files: list[Path]) -> str:
    try:
        findings = check_files(files)
    except GroovyUnavailable as exc:
        raise StepFailed(str(exc)) from exc
    if findings:
        raise StepFailed(f"{len(findings)} problem(s) in Jenkinsfiles\n" + "\n".join(map(str, findings)))
    return f"{len(files)} Jenkinsfile(s) clean"


def checkov_argv(directory: Path) -> list[str]:
    """checkov's Ansible checks over a folder of playbooks and roles. Offline: --skip-download keeps it from
    fetching policies and guidelines (without it, it resolves and calls its vendor's API). A check is skipped only
    where a task says why (`# checkov:skip=ID: reason`, tests/unit/test_checkov.py)."""
    # CKV2_ANSIBLE_3 (a block without `rescue`) is skipped here, not at each block: checkov 3.3.30 files a block's
    # inline skips under "block..NAME" and its finding under "block.NAME", so they never meet. The same rule is
    # tests/unit/test_checkov.py's: every block has a rescue or a "No rescue:" comment saying why.
    return [str(CHECKOV), "--directory", str(directory), "--framework", "ansible", "--compact", "--quiet",
            "--skip-download", "--skip-check", "CKV2_ANSIBLE_3", "--output", "cli"]


def _codenarc_argv(files: list[Path]) -> list[str]:
    # -j: without a Java 17 it tries to download a JRE (no network here) and hangs.
    return [str(NPM_BIN / "npm-groovy-lint"), "--failon", "error", "--noserver", "--no-insight", "-j", java_binary(),
            *map(str, files)]


def _secrets(stage: Stage, use_cache: bool) -> tuple[Command | None, Callable[[], None]]:
    """(detect-secrets over the files whose content it has not passed with this baseline and tool lock, what
    to record when it passes)."""
    files = tracked_files()
    context = f"{check_cache.file_digest(SECRETS_BASELINE)}:{check_cache.file_digest(TOOLING_LOCK)}"
    todo, digests = check_cache.unscanned("secrets", context if use_cache else "no-cache", files)

    def record() -> None:
        check_cache.record_scanned("secrets", context, digests)

    if not todo:
        stage.cached("secrets", f"all {len(files)} files scanned clean before with this baseline")
        return None, record
    return Command("secrets", [tool("detect-secrets-hook"), "--baseline", str(SECRETS_BASELINE), *todo]), record


def run(args: argparse.Namespace) -> int:
    """ruff and bandit, then the other checkers side by side, each skipped when its inputs are those of its
    last pass (ci.check_cache)."""
    wanted = set(args.only or STEPS)
    files = args.jenkinsfile or jenkinsfiles()
    use_cache = not args.no_cache
    stage = Stage("lint")
    if "ruff" in wanted:
        stage.command("ruff", [tool("ruff"), "check", "."])
    if "bandit" in wanted:
        # Medium and high severity fail the push; low ones (every subprocess call of a CI tool) do not.
        stage.command("bandit", [tool("bandit"), "-q", "-r", "ci", "dags", "-ll", "-f", "custom",
                                 "--msg-template", "{relpath}:{line}: {test_id} [{severity}] {msg}"])
    keys: dict[str, str] = {}

    def fresh(step: str, argv: list[str], extra: str = "") -> bool:
        """True when the step must run; records why it need not otherwise."""
        keys[step] = check_cache.inputs_key(argv, step_inputs(step, files), extra)
        if use_cache and check_cache.passed_before(step, keys[step]):
            stage.cached(step, "inputs unchanged since its last pass")
            return False
        return True

    if ("jenkinsfile-check" in wanted and fresh("jenkinsfile-check", ["jenkinsfile-check"])
            and stage.call("jenkinsfile-check", lambda: _jenkinsfile_step(files)).ok):
        check_cache.record_pass("jenkinsfile-check", keys["jenkinsfile-check"])
    batch: list[Command] = []
    record_secrets: Callable[[], None] = lambda: None  # noqa: E731
    if "secrets" in wanted:
        command, record_secrets = _secrets(stage, use_cache)
        batch += [command] if command else []
    if "yamllint" in wanted and fresh("yamllint", argv := [tool("yamllint"), "--strict", "."]):
        batch.append(Command("yamllint", argv))
    if "ansible-lint" in wanted and fresh("ansible-lint", argv := [tool("ansible-lint"), "--offline", "ansible/"],
                                          json.dumps(ANSIBLE_ENV, sort_keys=True)):
        batch.append(Command("ansible-lint", argv, ANSIBLE_ENV))
    if "checkov" in wanted and not CHECKOV.exists():
        stage.fail("checkov", f"{CHECKOV.relative_to(ROOT)} is missing: `make tools` installs it")
    elif "checkov" in wanted and fresh("checkov", argv := checkov_argv(ROOT / "ansible")):
        batch.append(Command("checkov", argv))
    if "codenarc" in wanted:
        try:
            argv = _codenarc_argv(files)
        except GroovyUnavailable as exc:
            stage.fail("codenarc", str(exc))
        else:
            if fresh("codenarc", argv):
                batch.append(Command("codenarc", argv))
    jobs = job_files()
    if "jenkins-jobs" in wanted and jobs and fresh("jenkins-jobs", argv := render_argv(reports_dir() / "jjb"),
                                                   json.dumps(JJB_ENV, sort_keys=True)):
        shutil.rmtree(reports_dir() / "jjb", ignore_errors=True)  # JJB refuses to write over a previous render
        batch.append(Command("jenkins-jobs", argv, JJB_ENV))
    for result in stage.commands(batch):
        if result.name == "secrets":
            if result.ok:
                record_secrets()
        elif result.ok:
            check_cache.record_pass(result.name, keys[result.name])
        else:
            check_cache.forget(result.name)
    return stage.finish()
