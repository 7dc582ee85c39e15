"""The Jenkins job files against Jenkins' real semantics (issue 13, Build item 3), read as Jenkins reads them:
the pipeline scripts through the Jenkinsfile checker's Groovy 2.4 parser, the jobs through a jenkins-job-builder
render into a temporary folder (never into `reports/`), and the shell steps run by `sh` with fake `make`,
`date` and a throw-away SSH key where their behaviour is the point.

- A rebuild of production that is not check-only waits for a platform lead (`input`, `submitterParameter`), the
  approver reaches the rebuild step, and no restart from a stage skips the approval.
- Office hours decide the hour in the zone of the job's cron (`TZ=` only moves the schedule: the agent's clock
  stays UTC).
- Everything that changes an environment holds that environment's lockable resource; a stage that waits for a
  person holds none; other branches skip the Staging stage without waiting for its lock.
- Provision gets the SSH public key it requires from the bound private key.
- The multibranch source keeps its workspace, reacts to the git plugin's notifyCommit, and the README says
  what it discovers (branches only).
"""

from __future__ import annotations

import os
import re
import shutil
import stat
import subprocess
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import yaml

from ci.jenkins.render import render
from ci.jenkinsfile.groovy import parse
from ci.paths import ROOT

pytestmark = pytest.mark.slow  # starts processes or services: `make unit-slow`, not the push loop

JOBS = ROOT / "jobs"
FILES = {
    "push": ROOT / "Jenkinsfile",
    "promote": JOBS / "promote.Jenkinsfile",
    "rebuild": JOBS / "rebuild.Jenkinsfile",
    "office-hours": JOBS / "office-hours.Jenkinsfile",
}
# make targets that change (or, for verify's record and a drift check, must not race a change of) an environment.
CHANGING = re.compile(r"\bmake\s+(provision|aws-policy|configure|deploy|verify|smoke|power|rebuild|promote|rollback|"
                      r"teardown|seed)(?![\w-])")
# The lock each file's changing steps must hold: a resource name, or the expression naming the job's environment.
EXPECTED_LOCK = {"push": "staging", "office-hours": "staging", "promote": "production", "rebuild": "env.TARGET_ENV"}


# --- reading the pipeline scripts ---------------------------------------------------------------------------

@pytest.fixture(scope="module")
def pipelines() -> dict[str, dict]:
    """Each file's `pipeline { ... }` call tree (one JVM for all of them)."""
    trees = {}
    for name, parsed in zip(FILES, parse(list(FILES.values())), strict=True):
        assert not parsed["errors"], (name, parsed["errors"])
        trees[name] = next(n for n in parsed["body"] if n.get("name") == "pipeline")
    return trees


def _with_ancestors(nodes: list[dict] | None, ancestors: tuple[dict, ...] = ()) -> Iterator[tuple[dict, tuple]]:
    for node in nodes or []:
        yield node, ancestors
        yield from _with_ancestors(node.get("body"), (*ancestors, node))


def _section(node: dict, name: str) -> dict | None:
    return next((n for n in node.get("body") or [] if n.get("name") == name), None)


def _stages(pipeline: dict) -> list[dict]:
    return _section(pipeline, "stages")["body"]


def _shell(node: dict) -> list[str]:
    """The literal scripts of every `sh` step under node."""
    return [a["value"] for n, _ in _with_ancestors(node.get("body")) if n.get("name") == "sh"
            for a in n["args"] if a["t"] == "const"]


def _lock_resource(lock: dict) -> str:
    if lock["args"]:
        arg = lock["args"][0]
        return arg.get("value") or arg.get("text")
    resource = lock["named"]["resource"]
    return resource.get("value") or resource.get("text")


def _locks_held(ancestors: tuple[dict, ...]) -> set[str]:
    """Lockable resources held where a node runs: `lock` steps around it, `lock` options of its stages and of
    the pipeline."""
    held = set()
    for node in ancestors:
        if node.get("name") == "lock":
            held.add(_lock_resource(node))
        options = _section(node, "options") if node.get("name") in {"pipeline", "stage"} else None
        held |= {_lock_resource(o) for o in (options or {}).get("body") or [] if o.get("name") == "lock"}
    return held


def _source_lines(path: Path, node: dict, following: dict) -> str:
    return "\n".join(path.read_text().splitlines()[node["line"] - 1:following["line"] - 1])


def _run_sh(script: str, env: dict[str, str], tmp_path: Path, fakes: dict[str, str]) -> list[str]:
    """Run a pipeline's sh script as Jenkins does (`sh -xe`) with fake commands first on PATH; returns what the
    fake `make` was called with, one line per call."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir(exist_ok=True)
    calls = tmp_path / "make-calls"
    fakes = {"make": f'#!/bin/sh\necho "$*" >> "{calls}"\n', **fakes}
    for name, body in fakes.items():
        (bin_dir / name).write_text(body)
        (bin_dir / name).chmod(stat.S_IRWXU)
    proc = subprocess.run(["sh", "-xe", "-c", script], capture_output=True, text=True, check=False,
                          env={"PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}", **env})
    assert proc.returncode == 0, proc.stderr
    return calls.read_text().splitlines() if calls.exists() else []


def _environment(pipeline: dict) -> dict[str, str]:
    """The pipeline's `environment { NAME = 'literal' }` entries."""
    section = _section(pipeline, "environment")
    return {e["name"]: e["value"]["value"] for e in (section or {}).get("body") or []
            if e.get("t") == "assign" and e["value"]["t"] == "const"}


# --- a production rebuild needs an approval -----------------------------------------------------------------

def _approval_and_rebuild(pipeline: dict) -> tuple[int, int, list[dict]]:
    stages = _stages(pipeline)
    rebuilding = [i for i, s in enumerate(stages) if any("make rebuild " in c for c in _shell(s))]
    asking = [i for i, s in enumerate(stages) if _section(s, "input")]
    assert rebuilding, "no stage runs make rebuild"
    assert asking, "no stage of jobs/rebuild.Jenkinsfile asks for an approval (`input`)"
    return asking[0], rebuilding[0], stages


def test_a_production_rebuild_waits_for_a_platform_lead(pipelines):
    """Converging production (not check-only) is as dangerous as a promotion: the same approvers decide, before
    site.yml runs; staging and check-only runs (the nightly drift check) are not held up."""
    pipeline = pipelines["rebuild"]
    approval, rebuild, stages = _approval_and_rebuild(pipeline)
    assert approval < rebuild
    form = {n["name"]: n["args"][0]["value"] for n in _section(stages[approval], "input")["body"]}
    assert form.get("submitter") == "platform-leads", form
    assert form.get("submitterParameter"), form
    when = _section(stages[approval], "when")
    assert when, "the approval stage asks on every run: it needs a `when` (production, not check-only)"
    conditions = {n["name"]: n for n in when["body"]}
    # Without beforeInput, Declarative asks for the input before it evaluates `when`.
    assert conditions["beforeInput"]["args"][0]["value"] == "true"
    environment = conditions["environment"]["named"]
    assert (environment["name"]["value"], environment["value"]["value"]) == ("TARGET_ENV", "production")
    expression = _source_lines(FILES["rebuild"], conditions["expression"], stages[approval + 1])
    assert re.search(r"!\s*params\.CHECK_ONLY\b", expression), expression
    # Restart from a stage is on unless disabled: a restart from 'site.yml' would skip the approval.
    assert any(n["name"] == "disableRestartFromStage" for n in _section(pipeline, "options")["body"])


def test_the_rebuild_approver_reaches_the_rebuild_step(pipelines):
    """Input values live only in their stage's environment: the approval stage copies the approver into the
    build's environment and the rebuild step names them in the build's log."""
    approval, rebuild, stages = _approval_and_rebuild(pipelines["rebuild"])
    parameter = next(n for n in _section(stages[approval], "input")["body"]
                     if n["name"] == "submitterParameter")["args"][0]["value"]
    lines = _source_lines(FILES["rebuild"], stages[approval], stages[approval + 1])
    copies = re.findall(rf"env\.(\w+)\s*=\s*(?:env\.)?{parameter}\b", lines)
    assert copies, f"the approval stage does not copy {parameter} into the build's environment"
    assert any(f"${copies[0]}" in script or f"${{{copies[0]}" in script for script in _shell(stages[rebuild]))


# --- office hours in the office's time zone -----------------------------------------------------------------

def _office_hours_zone() -> str:
    (job,) = [j["job"] for j in yaml.safe_load((JOBS / "office-hours.yaml").read_text())]
    (spec,) = [t["timed"] for t in job["triggers"]]
    first = spec.strip().splitlines()[0]
    assert first.startswith("TZ="), f"the cron has no time zone line: {spec!r}"
    return first.removeprefix("TZ=")


@pytest.mark.parametrize("instant", [
    "2026-07-01T16:30:00Z",  # 18:30 in Berlin (summer): stop; the agent's UTC clock says 16
    "2026-07-01T17:10:00Z",  # 19:10 in Berlin, the evening cron
    "2026-07-01T05:10:00Z",  # 07:10 in Berlin, the morning cron
    "2026-01-14T17:10:00Z",  # 18:10 in Berlin (winter)
    "2026-01-14T06:10:00Z",  # 07:10 in Berlin (winter)
])
def test_office_hours_read_the_hour_in_the_zone_of_the_cron(pipelines, tmp_path, instant):
    """`TZ=` in the cron moves the schedule, not the agent's clock (UTC on most agents): with `STATE=auto` the
    job must stop staging from 18:00 in the cron's zone and start it before."""
    zone = _office_hours_zone()
    now = datetime.fromisoformat(instant.replace("Z", "+00:00")).astimezone(UTC)
    expected = "stopped" if now.astimezone(ZoneInfo(zone)).hour >= 18 else "running"
    (script,) = _shell(_stages(pipelines["office-hours"])[0])
    date = shutil.which("date")
    env = {**_environment(pipelines["office-hours"]), "STATE": "auto", "TZ": "UTC"}
    calls = _run_sh(script, env, tmp_path, {"date": f'#!/bin/sh\nexec {date} -d @{int(now.timestamp())} "$@"\n'})
    assert calls == [f"power ENV=staging STATE={expected}"], (zone, instant, calls)


# --- locks --------------------------------------------------------------------------------------------------

def test_everything_that_changes_an_environment_holds_its_lock(pipelines):
    """lockable-resources: a build that wants a locked resource waits. Office hours cannot stop staging in the
    middle of a deploy, a drift check does not read a half-deployed host, two jobs never converge production at
    once, because every step that changes an environment runs inside that environment's lock."""
    unlocked = []
    for name, pipeline in pipelines.items():
        for node, ancestors in _with_ancestors([pipeline]):
            if node.get("name") != "sh":
                continue
            for script in (a["value"] for a in node["args"] if a["t"] == "const"):
                if CHANGING.search(script) and EXPECTED_LOCK[name] not in _locks_held(ancestors):
                    unlocked.append(f"{FILES[name].name}:{node['line']}: {script.strip()!r} holds "
                                    f"{sorted(_locks_held(ancestors))}, not {EXPECTED_LOCK[name]!r}")
    assert not unlocked, "\n".join(unlocked)
    # The rebuild job's lock names the environment its step converges.
    (script,) = [s for s in _shell(_stages(pipelines["rebuild"])[-1]) if "make rebuild" in s]
    assert 'ENV="$TARGET_ENV"' in script


def test_nobody_holds_a_lock_while_waiting_for_a_person(pipelines):
    """An approval may wait for hours: the lock comes after it, or every deploy and office hours would wait too."""
    for name in ("promote", "rebuild"):
        assert not _section(_section(pipelines[name], "options"), "lock"), name
        for stage in _stages(pipelines[name]):
            if _section(stage, "input"):
                assert not _locks_held((stage,)), (name, stage["args"][0]["value"])


def test_other_branches_skip_staging_without_waiting_for_its_lock(pipelines):
    """Declarative enters a stage's `options` (the lock) before evaluating its `when` unless `beforeOptions
    true`: without it every feature branch would queue behind the deploy holding staging."""
    for node, _ in _with_ancestors(pipelines["push"]["body"]):
        if node.get("name") == "stage" and _locks_held((node,)) and _section(node, "when"):
            when = {n["name"]: n for n in _section(node, "when")["body"]}
            assert "beforeOptions" in when and when["beforeOptions"]["args"][0]["value"] == "true", node["args"]


# --- the SSH public key for provision -----------------------------------------------------------------------

def _inventory_public_key_variable() -> str:
    """The environment variable inventory/staging reads ssh_public_key from."""
    text = (ROOT / "inventory" / "staging" / "group_vars" / "all.yml").read_text()
    value = yaml.safe_load(text)["ssh_public_key"]
    match = re.search(r"lookup\('ansible\.builtin\.env', '(\w+)'\)", value)
    assert match, value
    return match.group(1)


def test_provision_gets_the_public_half_of_the_bound_ssh_key(pipelines, tmp_path):
    """aws_platform refuses to run without ssh_public_key, which inventory/staging reads from the environment:
    the provision step must set it from a credential binding, here the bound `ssh-staging` private key."""
    if not shutil.which("ssh-keygen"):
        pytest.skip("ssh-keygen (openssh-client) is not installed")
    variable = _inventory_public_key_variable()
    # The helper that wraps every staging step binds ssh-staging to ANSIBLE_PRIVATE_KEY_FILE.
    source = FILES["push"].read_text()
    helper = source[source.index("void withStagingCredentials"):source.index("pipeline {")]
    assert re.search(r"sshUserPrivateKey\(credentialsId: 'ssh-staging', keyFileVariable: 'ANSIBLE_PRIVATE_KEY_FILE'\)",
                     helper), helper
    provisioning = [(n, a) for n, a in _with_ancestors(pipelines["push"]["body"]) if n.get("name") == "sh"
                    and any("make provision" in x.get("value", "") for x in n["args"])]
    assert provisioning, "no step runs make provision"
    key = tmp_path / "id_ed25519"
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "jenkins@staging", "-f", str(key)],
                   check=True)
    public = " ".join(key.with_suffix(".pub").read_text().split()[:2])
    for node, ancestors in provisioning:
        assert any(a.get("name") == "withStagingCredentials" for a in ancestors), node["line"]
        (script,) = [a["value"] for a in node["args"] if a["t"] == "const"]
        fake_make = f'#!/bin/sh\necho "$* {variable}=${{{variable}:-}}" >> "{tmp_path / "make-calls"}"\n'
        env = {**_environment(pipelines["push"]), "ANSIBLE_PRIVATE_KEY_FILE": str(key)}
        calls = _run_sh(script, env, tmp_path, {"make": fake_make})
        (provision,) = [c for c in calls if c.startswith("provision ")]
        given = provision.split(f" {variable}=", 1)[1]
        # The key itself (a comment may follow) in the form aws_platform's validate.yml accepts.
        assert " ".join(given.split()[:2]) == public, provision
        assert re.match(r"^ssh-ed25519 [A-Za-z0-9+/]+=*( .*)?$", given), given


# --- the multibranch source ---------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def push_job(tmp_path_factory) -> ET.Element:
    """The multibranch job as jenkins-job-builder renders it (into a temporary folder)."""
    out = tmp_path_factory.mktemp("jjb")
    render(out)
    return ET.parse(out / "tiny-analytics" / "config.xml").getroot()


def _readme_jenkins_section() -> str:
    text = (ROOT / "README.md").read_text()
    start = text.index("\n## Jenkins\n")
    end = text.find("\n## ", start + 1)
    return text[start:end if end > 0 else None]


def _traits(push_job: ET.Element) -> list[str]:
    return [t.tag.rsplit(".", 1)[-1] for t in push_job.iter() if t.tag.endswith("Trait")]


def test_the_push_job_keeps_its_workspace(push_job):
    """JJB's multibranch `git` source wipes the workspace before every build by default: the venv, Node tools and
    caches would be rebuilt on every push."""
    wiping = {"WipeWorkspaceTrait", "CleanBeforeCheckoutTrait", "CleanAfterCheckoutTrait"}
    assert not wiping & set(_traits(push_job)), _traits(push_job)


def test_a_push_notification_starts_the_push_job(push_job):
    """The git plugin's notifyCommit fires a branch event for each `git` source with that remote (unless it
    ignores push notifications); the README tells the git server's admin which URL to call."""
    sources = [s for s in push_job.iter("source")]
    assert [s.get("class") for s in sources] == ["jenkins.plugins.git.GitSCMSource"]
    assert "IgnoreOnPushNotificationTrait" not in _traits(push_job)
    readme = _readme_jenkins_section()
    assert "/git/notifyCommit?url=" in readme and "token=" in readme


def test_the_readme_says_what_the_source_discovers(push_job):
    """Only the GitHub / Bitbucket / GitLab branch sources discover pull requests; the `git` source builds
    branches only, and the README, the job file and the Jenkinsfile must say so."""
    discovers_prs = any("PullRequestDiscoveryTrait" in t for t in _traits(push_job))
    readme = _readme_jenkins_section()
    claims = [name for name, text in [("README", readme), ("Jenkinsfile", FILES["push"].read_text()),
                                      ("push-pipeline.yaml", (JOBS / "push-pipeline.yaml").read_text())]
              if re.search(r"branch(es)? and pull request", text)]
    if discovers_prs:
        assert "pull request" in readme
    else:
        assert not claims, f"these say pull requests are built, but the source discovers none: {claims}"
        assert "branches only" in readme
