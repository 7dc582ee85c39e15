"""The promote job's shape, read from jobs/promote.Jenkinsfile through the same Groovy 2.4 parser as the
Jenkinsfile checker: an approval never given ends the build before anything is deployed.

Jenkins itself cannot run here (see README, Jenkins): what the build does on a timeout is Jenkins' own
behaviour (`timeout` aborts the build, the result is ABORTED); what this test asserts is that the job is built
so that this abort happens while `input` waits, before any stage that deploys.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from ci.jenkinsfile.groovy import parse
from ci.paths import ROOT

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
