"""`python -m ci verify --env ENV`: testinfra (tests/infra) against the environment's hosts."""

from __future__ import annotations

import argparse
import json
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

from ci.ansible import ANSIBLE_ENV, tool_path_env
from ci.paths import REPORTS, ROOT
from ci.promotion import verified_file
from ci.runner import Stage
from ci.stages.configure import preflight
from ci.stages.deploy import deployed_file


def infra_tests(stage: Stage, env: str) -> bool:
    """Run tests/infra against inventory/<env>'s Airflow hosts as one step; True when they pass."""
    argv = [sys.executable, "-m", "pytest", str(ROOT / "tests" / "infra"), "--connection=ansible",
            f"--ansible-inventory={ROOT / 'inventory' / env}", "--hosts=airflow",
            f"--junitxml={REPORTS / f'verify-{env}-pytest.xml'}"]
    env_vars = {**ANSIBLE_ENV, **tool_path_env(), "TINY_ENV": env}
    return stage.command("testinfra tests/infra", argv, env=env_vars, stream=True).ok


def junit_summary(path: Path) -> dict:
    """tests/failures/errors/skipped of a pytest JUnit file."""
    suite = ET.parse(path).getroot()  # noqa: S314 - our own pytest report  # nosec B314
    suite = suite if suite.tag == "testsuite" else suite.find("testsuite")
    return {key: int(suite.get(key, 0)) for key in ("tests", "failures", "errors", "skipped")}


def record_result(env: str, passed: bool) -> None:
    """Note which bundle verify saw and how it went (smoke turns a pass into the verification record)."""
    deployed = deployed_file(env)
    junit = REPORTS / f"verify-{env}-pytest.xml"
    if not deployed.exists() or not junit.exists():
        return
    result = {**json.loads(deployed.read_text()), "passed": passed, "tests": junit_summary(junit)}
    verified_file(env).write_text(json.dumps(result, indent=2) + "\n")


def run(args: argparse.Namespace) -> int:
    """The infra suite; JUnit in reports/."""
    reason = preflight(args.env)
    if reason:
        print(f"verify failed: {reason}")
        return 1
    stage = Stage("verify")
    verified_file(args.env).unlink(missing_ok=True)
    record_result(args.env, infra_tests(stage, args.env))
    return stage.finish()
