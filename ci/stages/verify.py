"""`python -m ci verify --env ENV`: testinfra (tests/infra) against the environment's hosts, then each DAG
paused or unpaused as its file declares (through the Airflow API)."""

from __future__ import annotations

import argparse
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

from ci import dag_states
from ci.ansible import ANSIBLE_ENV, close_shared_ssh, inventory_hosts, tool_path_env
from ci.paths import ROOT, reports_dir
from ci.platform import Platform, load_for_stage
from ci.promotion import VERIFIED
from ci.runner import Stage, StepFailed
from ci.stages.configure import preflight
from ci.stages.deploy import DEPLOYED

INFRA_WORKERS = 2


def hosts_to_verify(inventory: Path) -> str:
    """The `airflow` hosts of the inventory, one line; StepFailed when there is none (testinfra would skip every
    check and verify would pass having checked nothing)."""
    try:
        hosts = inventory_hosts(inventory, "airflow", tool_path_env())
    except RuntimeError as exc:
        raise StepFailed(str(exc)) from exc
    if not hosts:
        raise StepFailed(f"no host in the airflow group of {inventory} (read with ansible-inventory): verify "
                         "would check nothing. Provision the environment, or check the inventory's filters")
    return f"{len(hosts)} host(s) in {inventory}: {', '.join(hosts)}"


def checks_ran(junit: Path) -> str:
    """StepFailed unless testinfra ran at least one check that was not skipped."""
    if not junit.exists():
        raise StepFailed(f"testinfra wrote no report ({junit}): nothing was verified")
    summary = junit_summary(junit)
    if summary["tests"] - summary["skipped"] < 1:
        raise StepFailed(f"testinfra ran no check ({summary}): nothing was verified")
    return f"{summary['tests'] - summary['skipped']} checks ran, {summary['skipped']} skipped"


def fresh_sessions(inventory: Path) -> str:
    """Close the shared SSH connections an earlier stage left open (ci.ansible.close_shared_ssh). Best effort:
    the infra tests that follow name any host they cannot reach."""
    try:
        closed = close_shared_ssh(inventory, tool_path_env())
    except (RuntimeError, ValueError, OSError) as exc:  # ansible-inventory failed, printed no JSON, is missing
        return f"left the shared connections as they are: {exc}"
    return f"closed the shared connection to {', '.join(closed)}" if closed else "no shared connection was open"


def infra_tests(stage: Stage, env: str) -> bool:
    """Run tests/infra against inventory/<env>'s Airflow hosts as one step; True when they pass and ran."""
    junit = reports_dir() / f"verify-{env}-pytest.xml"
    junit.unlink(missing_ok=True)
    # The checks see what a new login sees, not a session shared with the configure or deploy run before.
    stage.call("new SSH sessions", lambda: fresh_sessions(ROOT / "inventory" / env))
    # Two pytest-xdist workers: most checks wait on the host (an Airflow process, lynis' minute), so two run
    # at once. Whole files go to a worker: one session runs lynis (test_hardening.py), one audit per host.
    argv = [sys.executable, "-m", "pytest", str(ROOT / "tests" / "infra"), "--connection=ansible",
            f"--ansible-inventory={ROOT / 'inventory' / env}", "--hosts=airflow", f"--junitxml={junit}",
            "--numprocesses", str(INFRA_WORKERS), "--dist", "loadfile"]
    env_vars = {**ANSIBLE_ENV, **tool_path_env(), "TINY_ENV": env}
    passed = stage.command("testinfra tests/infra", argv, env=env_vars, stream=True).ok
    ran = stage.call("checks ran", lambda: checks_ran(junit)).ok
    stage.call("lynis", lambda: show_lynis_summaries(junit))
    return ran and passed


def show_lynis_summaries(junit: Path) -> str:
    """Print the summary each lynis test recorded in the report (xdist workers' own prints are not shown)."""
    lines = ["no lynis audit in the report"]
    if junit.exists():
        root = ET.parse(junit).getroot()  # noqa: S314 - our own pytest report  # nosec B314
        lines = [p.get("value", "") for p in root.iter("property") if p.get("name") == "lynis_summary"] or lines
    print("\n".join(f"    {line}" for line in lines), flush=True)
    return "\n".join(lines)


def junit_summary(path: Path) -> dict:
    """tests/failures/errors/skipped of a pytest JUnit file."""
    suite = ET.parse(path).getroot()  # noqa: S314 - our own pytest report  # nosec B314
    suite = suite if suite.tag == "testsuite" else suite.find("testsuite")
    return {key: int(suite.get(key, 0)) for key in ("tests", "failures", "errors", "skipped")}


def record_result(platform: Platform, passed: bool) -> None:
    """Note in the environment which bundle verify saw and how it went (smoke turns a pass into the
    verification record)."""
    deployed = platform.read_record(DEPLOYED)
    junit = reports_dir() / f"verify-{platform.env}-pytest.xml"
    if not deployed or not junit.exists():
        return
    platform.write_record(VERIFIED, {**deployed, "passed": passed, "tests": junit_summary(junit)})


def run(args: argparse.Namespace) -> int:
    """The infra suite and the DAGs' paused states; JUnit in reports/."""
    stage = Stage("verify")
    reason = preflight(args.env)
    if reason:
        return stage.refuse("preflight", reason)
    platform = load_for_stage(stage, args.env)
    if platform is None:
        return stage.finish()
    platform.drop_record(VERIFIED)
    if stage.call("hosts to verify", lambda: hosts_to_verify(ROOT / "inventory" / args.env)).ok:
        passed = infra_tests(stage, args.env)
        passed = dag_states.verify_step(stage, platform) and passed
        record_result(platform, passed)
    return stage.finish()
