"""The promote job's shape, read from jobs/promote.Jenkinsfile through the same Groovy 2.4 parser as the
Jenkinsfile checker: an approval never given ends the build before anything is deployed.

Jenkins itself cannot run here (see README, Jenkins): what the build does on a timeout is Jenkins' own
behaviour (`timeout` aborts the build, the result is ABORTED); what this test asserts is that the job is built
so that this abort happens while `input` waits, before any stage that deploys.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest

from ci.jenkinsfile.groovy import parse
from ci.paths import ROOT

pytestmark = pytest.mark.slow  # starts processes or services: `make unit-slow`, not the push loop

PROMOTE = ROOT / "jobs" / "promote.Jenkinsfile"


def _walk(nodes: list[dict] | None) -> Iterator[dict]:
    for node in nodes or []:
        yield node
        yield from _walk(node.get("body"))
        for arg in node.get("args", []):
            yield from _walk([arg] if arg.get("t") == "call" else [])


@pytest.fixture(scope="module")
def pipeline() -> dict:
    parsed = parse([PROMOTE])[0]
    assert not parsed["errors"], parsed["errors"]
    return next(n for n in parsed["body"] if n.get("name") == "pipeline")


def _section(pipeline: dict, name: str) -> dict:
    return next(n for n in pipeline["body"] if n.get("name") == name)


def _shell(stage: dict) -> str:
    return "\n".join(a["value"] for n in _walk(stage["body"]) if n.get("name") == "sh"
                     for a in n["args"] if a["t"] == "const")


def test_restart_from_a_stage_is_off(pipeline):
    """Restart from stage is on unless disabled: a restart from the deploy stage would skip the approval."""
    assert any(n["name"] == "disableRestartFromStage" for n in _section(pipeline, "options")["body"])


def test_the_approver_reaches_the_deploy_step(pipeline):
    """`input` values live only in the approval stage's environment (Declarative's ModelInterpreter wraps that
    stage in withEnv): the stage must copy the approver into the build's environment, and the deploy step
    must pass that copy to make promote, or the audit record names the agent's OS user."""
    stages = _section(pipeline, "stages")["body"]
    index = next(i for i, s in enumerate(stages) if any(n["name"] == "input" for n in s["body"]))
    approval = stages[index]
    parameter = next(n for n in _walk(approval["body"]) if n["name"] == "submitterParameter")["args"][0]["value"]
    lines = PROMOTE.read_text().splitlines()[approval["line"] - 1:stages[index + 1]["line"] - 1]
    copies = [m.group(1) for ln in lines
              if (m := re.search(rf"env\.(\w+)\s*=\s*(?:env\.)?{parameter}\b", ln)) and m.group(1) != parameter]
    assert copies, f"the approval stage does not copy {parameter} into the build's environment"
    deploy = "\n".join(_shell(s) for s in stages[index + 1:] if "make promote " in _shell(s))
    assert re.search(rf'APPROVER="\${copies[0]}"', deploy), deploy


def test_the_build_has_a_timeout(pipeline):
    timeouts = [n for n in _section(pipeline, "options")["body"] if n["name"] == "timeout"]
    assert timeouts and timeouts[0]["named"]["unit"]["value"] in {"MINUTES", "HOURS"}, timeouts


def test_approval_comes_before_any_deploy(pipeline):
    stages = _section(pipeline, "stages")["body"]
    names = [s["args"][0]["value"] for s in stages]
    approval = next(i for i, s in enumerate(stages) if any(n["name"] == "input" for n in s["body"]))
    deploying = [i for i, s in enumerate(stages) if "make promote " in _shell(s) or "make deploy" in _shell(s)]
    assert deploying, f"no stage deploys: {names}"
    assert approval < min(deploying), f"a stage deploys before the approval: {names}"
    submitter = next(n for n in _walk(stages[approval]["body"]) if n["name"] == "submitter")
    assert submitter["args"][0]["value"] == "platform-leads"
