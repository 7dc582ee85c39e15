"""Declarative Pipeline structure rules, applied to the call tree PipelineAst.groovy prints.

The lists follow the Declarative Pipeline syntax reference (pipeline-model-definition): sections and
directives, `when` conditions and `post` conditions. Step bodies (`steps { ... }`) are not checked.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterator

PIPELINE_SECTIONS = {"agent", "environment", "libraries", "options", "parameters", "post", "stages", "tools",
                     "triggers"}
REQUIRED_PIPELINE_SECTIONS = ("agent", "stages")
STAGE_DIRECTIVES = {"agent", "environment", "input", "options", "post", "steps", "stages", "parallel", "matrix",
                    "tools", "when", "failFast"}
STAGE_BODIES = ("steps", "stages", "parallel", "matrix")
MATRIX_DIRECTIVES = {"axes", "excludes", "stages", "agent", "environment", "options", "post", "tools", "when", "input"}
AGENT_TYPES = {"any", "none", "label", "node", "docker", "dockerfile", "kubernetes"}
WHEN_CONDITIONS = {"branch", "buildingTag", "changelog", "changeset", "changeRequest", "environment", "equals",
                   "expression", "tag", "not", "allOf", "anyOf", "triggeredBy", "beforeAgent", "beforeInput",
                   "beforeOptions"}
WHEN_NESTING = {"not", "allOf", "anyOf"}
POST_CONDITIONS = {"always", "changed", "fixed", "regression", "aborted", "failure", "success", "unstable",
                   "unsuccessful", "cleanup", "notBuilt"}
INPUT_DIRECTIVES = {"message", "id", "ok", "submitter", "submitterParameter", "parameters"}
ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")

Issue = tuple[int, int, str]


def _hint(name: str, known: set[str]) -> str:
    close = difflib.get_close_matches(name, sorted(known), n=1)
    return f" (did you mean `{close[0]}`?)" if close else ""


def _calls(body: list[dict] | None, where: str, known: set[str]) -> Iterator[tuple[dict | None, Issue | None]]:
    """Yield the calls of a block, or an issue for anything that is not a known directive call."""
    for node in body or []:
        if node["t"] != "call":
            yield None, (node["line"], node["col"], f"unexpected {node['t']} in {where}: only directives belong here")
        elif node["name"] not in known:
            yield None, (node["line"], node["col"],
                         f"unknown directive `{node['name']}` in {where}{_hint(node['name'], known)}")
        else:
            yield node, None


def _once(nodes: list[dict], where: str) -> Iterator[Issue]:
    seen: set[str] = set()
    for node in nodes:
        if node["name"] in seen:
            yield node["line"], node["col"], f"`{node['name']}` appears more than once in {where}"
        seen.add(node["name"])


def _checked_block(node: dict, where: str, known: set[str]) -> tuple[list[dict], list[Issue]]:
    calls, issues = [], []
    for call, issue in _calls(node.get("body"), where, known):
        if issue:
            issues.append(issue)
        else:
            calls.append(call)
    issues.extend(_once(calls, where))
    return calls, issues


def check_agent(node: dict) -> Iterator[Issue]:
    """`agent any|none` or `agent { <type> ... }` with a known type."""
    if node["args"]:
        arg = node["args"][0]
        if arg["t"] != "var" or arg["name"] not in {"any", "none"}:
            yield node["line"], node["col"], "agent takes `any`, `none` or a block such as `{ label 'x' }`"
        return
    if not node.get("body"):
        yield node["line"], node["col"], "agent needs `any`, `none` or a block naming the agent type"
        return
    _, issues = _checked_block(node, "agent", AGENT_TYPES)
    yield from issues


def check_when(node: dict, where: str = "when") -> Iterator[Issue]:
    """Every condition is a known one; `not`/`allOf`/`anyOf` nest (conditions may repeat)."""
    calls = []
    for call, issue in _calls(node.get("body"), where, WHEN_CONDITIONS):
        if issue:
            yield issue
        else:
            calls.append(call)
    if not node.get("body"):
        yield node["line"], node["col"], f"`{where}` has no condition"
    for call in calls:
        if call["name"] in WHEN_NESTING:
            yield from check_when(call, call["name"])


def check_post(node: dict) -> Iterator[Issue]:
    """Only known build conditions, each once."""
    _, issues = _checked_block(node, "post", POST_CONDITIONS)
    yield from issues


def check_environment(node: dict) -> Iterator[Issue]:
    """Each entry is `NAME = value`."""
    for entry in node.get("body") or []:
        if entry["t"] != "assign" or entry.get("target") != "VariableExpression" or not ENV_NAME.match(entry["name"]):
            what = entry.get("name") or entry.get("text") or entry["t"]
            yield entry["line"], entry["col"], f"environment entries must be `NAME = value`, found `{what}`"


def check_input(node: dict) -> Iterator[Issue]:
    """`input` needs a `message`."""
    calls, issues = _checked_block(node, "input", INPUT_DIRECTIVES)
    yield from issues
    if "message" not in {c["name"] for c in calls}:
        yield node["line"], node["col"], "input has no `message`"


def _stage_name(node: dict) -> str | None:
    args = node["args"]
    if len(args) == 1 and args[0]["t"] in {"const", "gstring"}:
        return args[0]["value"]
    return None


def check_stage_list(node: dict, names: dict[str, dict]) -> Iterator[Issue]:
    """A `stages` or `parallel` block: only `stage('name') { ... }` entries, at least one."""
    where = node["name"]
    stages = []
    for entry in node.get("body") or []:
        if entry["t"] == "call" and entry["name"] == "stage":
            stages.append(entry)
        else:
            what = entry.get("name") or entry["t"]
            hint = _hint(what, {"stage"}) if entry["t"] == "call" else ""
            yield entry["line"], entry["col"], f"only `stage` blocks belong in `{where}`, found `{what}`{hint}"
    if not stages:
        yield node["line"], node["col"], f"`{where}` has no stage"
    for stage in stages:
        yield from check_stage(stage, names)


def check_stage(node: dict, names: dict[str, dict]) -> Iterator[Issue]:
    """One stage: a unique string name, known directives, exactly one of steps/stages/parallel/matrix."""
    name = _stage_name(node)
    if name is None:
        yield node["line"], node["col"], "stage needs a single string name: stage('Name') { ... }"
        name = "?"
    elif name in names:
        first = names[name]
        yield node["line"], node["col"], f"duplicate stage name '{name}' (first at line {first['line']})"
    else:
        names[name] = node
    if node.get("body") is None:
        yield node["line"], node["col"], f"stage '{name}' has no body"
        return
    where = f"stage '{name}'"
    calls, issues = _checked_block(node, where, STAGE_DIRECTIVES)
    yield from issues
    bodies = [c for c in calls if c["name"] in STAGE_BODIES]
    if len({c["name"] for c in bodies}) != 1:
        found = ", ".join(sorted({c["name"] for c in bodies})) or "none"
        yield (node["line"], node["col"],
               f"{where} must have exactly one of steps, stages, parallel, matrix (found: {found})")
    for call in calls:
        yield from check_directive(call, names, where)


def check_directive(call: dict, names: dict[str, dict], where: str) -> Iterator[Issue]:
    """Dispatch a section or directive to its rule."""
    kind = call["name"]
    if kind in {"stages", "parallel"}:
        yield from check_stage_list(call, names)
    elif kind == "steps":
        if not call.get("body"):
            yield call["line"], call["col"], f"`steps` in {where} is empty: at least one step is required"
    elif kind == "matrix":
        calls, issues = _checked_block(call, "matrix", MATRIX_DIRECTIVES)
        yield from issues
        for sub in calls:
            if sub["name"] == "stages":
                yield from check_stage_list(sub, names)
    elif kind == "agent":
        yield from check_agent(call)
    elif kind == "when":
        yield from check_when(call)
    elif kind == "post":
        yield from check_post(call)
    elif kind == "environment":
        yield from check_environment(call)
    elif kind == "input":
        yield from check_input(call)


def check_pipeline(body: list[dict]) -> list[Issue]:
    """All structure issues of one parsed Jenkinsfile."""
    pipelines = [n for n in body if n["t"] == "call" and n["name"] == "pipeline"]
    if not pipelines:
        return [(1, 1, "no `pipeline { ... }` block: this checker expects a declarative pipeline")]
    issues: list[Issue] = []
    for extra in pipelines[1:]:
        issues.append((extra["line"], extra["col"], "more than one `pipeline` block"))
    pipeline = pipelines[0]
    calls, block_issues = _checked_block(pipeline, "pipeline", PIPELINE_SECTIONS)
    issues.extend(block_issues)
    present = {c["name"] for c in calls}
    for required in REQUIRED_PIPELINE_SECTIONS:
        if required not in present:
            issues.append((pipeline["line"], pipeline["col"], f"pipeline has no `{required}` section"))
    names: dict[str, dict] = {}
    for call in calls:
        issues.extend(check_directive(call, names, "pipeline"))
    return sorted(issues)
