"""TEST DOUBLE of a Jenkins controller's REST API (no Jenkins controller can run on this machine).

It speaks the subset python-jenkins and `ci jenkins` use, and answers as Jenkins does (sources in comments):
basic auth on every request (401 for a wrong token), a crumb on every POST (stricter than Jenkins, which
exempts API-token requests), 403 with X-Required-Permission for a missing permission, config.xml re-serialised
on store and changed by a declarative build, buildWithParameters that ignores undeclared parameters and
answers 409 (disabled job) / 303 (identical build already queued) / 201, queue items that are cancelled,
start or are forgotten, progressiveText counted in bytes, and the input step (proceed / abort) of a paused
build. Each job's next build plays a scripted Outcome.
"""

from __future__ import annotations

import base64
import json
import threading
import time
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, unquote, urlparse

CRUMB = "double-crumb"
ALL_PERMISSIONS = frozenset({"hudson.model.Hudson.Administer", "hudson.model.Item.Build", "hudson.model.Item.Create",
                             "hudson.model.Item.Configure", "hudson.model.Item.Read", "hudson.model.Item.Cancel"})
PERMISSION_TITLE = {"hudson.model.Item.Build": "Job/Build", "hudson.model.Item.Create": "Job/Create",
                    "hudson.model.Item.Configure": "Job/Configure", "hudson.model.Item.Cancel": "Job/Cancel"}
# What a controller writes back (PLATFORM-NOTES "Learned since"; issue 13): plugin="name@version" on the
# elements a plugin owns, and only the fields each class really has (XStream's RobustReflectionConverter
# drops the others: CpsScmFlowDefinition has scm, scriptPath, lightweight and no sandbox).
PLUGIN_OF = {"flow-definition": "workflow-job@1520.v56d65e3b_4566",
             "org.jenkinsci.plugins.workflow.cps.CpsScmFlowDefinition": "workflow-cps@4106.v7a_8a_8176d450",
             "org.jenkinsci.plugins.workflow.cps.CpsFlowDefinition": "workflow-cps@4106.v7a_8a_8176d450",
             "hudson.plugins.git.GitSCM": "git@5.7.0",
             "org.jenkinsci.plugins.workflow.job.properties.DisableConcurrentBuildsJobProperty":
                 "workflow-job@1520.v56d65e3b_4566"}
FIELDS_OF = {"org.jenkinsci.plugins.workflow.cps.CpsScmFlowDefinition": {"scm", "scriptPath", "lightweight"},
             "org.jenkinsci.plugins.workflow.cps.CpsFlowDefinition": {"script", "sandbox"}}
DECLARATIVE = "org.jenkinsci.plugins.pipeline.modeldefinition.actions"


def reserialise(xml: str) -> str:
    """config.xml as a controller stores and serves it: XML 1.1 header, plugin attributes, unknown fields dropped,
    two-space indentation."""
    root = ET.fromstring(xml.encode())
    for element in root.iter():
        kind = element.get("class", element.tag)
        if kind in PLUGIN_OF:
            element.set("plugin", PLUGIN_OF[kind])
        for child in list(element):
            if kind in FIELDS_OF and child.tag not in FIELDS_OF[kind]:
                element.remove(child)
    ET.indent(root, "  ")
    return "<?xml version='1.1' encoding='UTF-8'?>\n" + ET.tostring(root, encoding="unicode")


def declarative_first_build(xml: str) -> str:
    """What a declarative pipeline's first build saves into its job (the `options` become job properties and
    the tracker action records them)."""
    root = ET.fromstring(xml.encode())
    actions = root.find("actions")
    if actions is None or actions.find(f"{DECLARATIVE}.DeclarativeJobAction") is not None:
        return xml
    plugin = {"plugin": "pipeline-model-definition@2.2255.v56a_15e805f12"}
    ET.SubElement(actions, f"{DECLARATIVE}.DeclarativeJobAction", plugin)
    tracker = ET.SubElement(actions, f"{DECLARATIVE}.DeclarativeJobPropertyTrackerAction", plugin)
    for name in ("jobProperties", "triggers", "parameters", "options"):
        ET.SubElement(tracker, name)
    properties = root.find("properties")
    if properties is None:
        properties = ET.SubElement(root, "properties")
    discarder = ET.SubElement(properties, "jenkins.model.BuildDiscarderProperty")
    ET.SubElement(ET.SubElement(discarder, "strategy", {"class": "hudson.tasks.LogRotator"}), "numToKeep").text = "100"
    return reserialise(ET.tostring(root, encoding="unicode"))


@dataclass
class InputStep:
    """A pipeline `input` the build pauses at after `after` of its lines (pipeline-input-step)."""

    message: str
    ok: str = "Proceed"
    submitter: str | None = None            # comma-separated user ids or group names
    submitter_parameter: str | None = None  # set to the approver's user id on proceed
    id: str = "Approval"
    after: int = 0


@dataclass
class Outcome:
    """What the next build of a job does: its console lines, released one per console poll (or `chunk` bytes
    per poll), an optional input step, and its result. Lines after the input may use {NAME} for a value the
    input gave (its submitterParameter)."""

    lines: list[str]
    result: str = "SUCCESS"
    chunk: int | None = None
    input: InputStep | None = None


@dataclass
class Build:
    number: int
    params: dict
    outcome: Outcome
    queue_id: int
    log: bytes = b""
    todo: list[bytes] = field(default_factory=list)
    env: dict = field(default_factory=dict)
    settled_by: str | None = None
    aborted: bool = False

    def __post_init__(self) -> None:
        step = self.outcome.input
        before = self.outcome.lines[:step.after] if step else self.outcome.lines
        self.todo = [(line + "\n").encode() for line in before]
        if step:
            # InputStepExecution.start: "<message>\n<ok> or <cancel>\n" for an input without parameters
            self.todo.append(f"{step.message}\n{step.ok} or Abort\n".encode())

    @property
    def waiting(self) -> bool:
        return self.outcome.input is not None and self.settled_by is None and not self.todo

    @property
    def building(self) -> bool:
        return bool(self.todo) or self.waiting

    def advance(self) -> None:
        """Release the next piece of the log (a line, or `chunk` bytes that may split a character)."""
        if not self.todo:
            return
        if self.outcome.chunk is None:
            self.log += self.todo.pop(0)
            return
        data = b"".join(self.todo)
        self.log += data[:self.outcome.chunk]
        self.todo = [data[self.outcome.chunk:]] if data[self.outcome.chunk:] else []

    def settle(self, user: str, proceed: bool) -> None:
        step = self.outcome.input
        self.settled_by = user
        if proceed:  # InputStepExecution.proceed / handleSubmitterParameter
            if step.submitter_parameter:
                self.env[step.submitter_parameter] = user
            after = [line.format(**self.env) for line in self.outcome.lines[step.after:]]
            self.todo = [f"Approved by {user}\n".encode()] + [(line + "\n").encode() for line in after]
        else:  # doAbort: FlowInterruptedException(ABORTED, new Rejection(user))
            self.aborted = True
            self.todo = [f"Rejected by {user}\n".encode()]


@dataclass
class QueueItem:
    id: int
    job: str
    params: dict
    polls: int = 1               # polls spent waiting for an executor
    cancelled: bool = False
    build: int | None = None     # the build number once it left the queue
    forgotten: bool = False      # Jenkins forgets a left item after about five minutes

    @property
    def in_queue(self) -> bool:
        return not self.cancelled and self.build is None


@dataclass
class State:
    user: str
    token: str
    users: dict[str, str] = field(default_factory=dict)               # user -> API token
    permissions: dict[str, set[str]] = field(default_factory=dict)    # user -> permission ids
    groups: dict[str, set[str]] = field(default_factory=dict)         # user -> group names
    jobs: dict[str, str] = field(default_factory=dict)                # name -> config.xml as stored
    builds: dict[str, list[Build]] = field(default_factory=dict)
    outcomes: dict[str, Outcome] = field(default_factory=dict)
    queue: dict[int, QueueItem] = field(default_factory=dict)
    requests: list[str] = field(default_factory=list)
    pending_shown: int = 0            # build replies that showed an unsettled input (a client has seen it)
    build_answer_delay: float = 0.0   # seconds before answering buildWithParameters (the build is queued already)
    cancel_waiting: bool = False      # someone cancels each item while it waits (Queue.cancel / cancelItem)
    forget_left_items: bool = False   # a left item is forgotten at once (a client that polls after ~5 minutes)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def __post_init__(self) -> None:
        self.users.setdefault(self.user, self.token)
        self.permissions.setdefault(self.user, set(ALL_PERMISSIONS))

    def add_user(self, name: str, token: str, groups: tuple[str, ...] = (),
                 permissions: frozenset[str] = frozenset({"hudson.model.Item.Read"})) -> None:
        self.users[name], self.groups[name], self.permissions[name] = token, set(groups), set(permissions)

    def disable(self, job: str) -> None:
        """Job > Disable: `<disabled>true</disabled>` and its queued items cancelled (makeDisabled)."""
        root = ET.fromstring(self.jobs[job].encode())
        (root.find("disabled") if root.find("disabled") is not None else ET.SubElement(root, "disabled")).text = "true"
        self.jobs[job] = reserialise(ET.tostring(root, encoding="unicode"))
        for item in self.queue.values():
            if item.job == job and item.in_queue:
                item.cancelled = True

    def cancel(self, item: int) -> None:
        self.queue[item].cancelled = True


@dataclass
class Reply:
    code: int
    body: bytes | str = b""
    ctype: str = "application/json"
    headers: dict = field(default_factory=dict)


def _json(data: object) -> Reply:
    return Reply(200, json.dumps(data))


def _text(code: int, text: str) -> Reply:
    return Reply(code, text, "text/plain;charset=UTF-8")


class Handler(BaseHTTPRequestHandler):
    state: State
    disable_nagle_algorithm = True

    def log_message(self, *args: object) -> None:
        pass

    def _send(self, reply: Reply) -> None:
        data = reply.body.encode() if isinstance(reply.body, str) else reply.body
        try:
            self.send_response(reply.code)
            self.send_header("Content-Type", reply.ctype)
            self.send_header("Content-Length", str(len(data)))
            self.send_header("X-Jenkins", "2.500")
            for k, v in reply.headers.items():
                self.send_header(k, v)
            self.end_headers()
            self.wfile.write(data)
        except (BrokenPipeError, ConnectionResetError):  # the client gave up waiting (a timed-out POST)
            pass

    @property
    def base(self) -> str:
        return f"http://{self.headers.get('Host')}"

    def _who(self) -> str | None:
        header = self.headers.get("Authorization", "")
        if not header.startswith("Basic "):
            return None
        user, _, token = base64.b64decode(header[6:]).decode().partition(":")
        return user if self.state.users.get(user) == token else None

    def _denied(self, user: str, permission: str) -> Reply | None:
        """AccessDeniedException3: 403, "<user> is missing the <group>/<name> permission", reported as headers."""
        if permission in self.state.permissions.get(user, set()):
            return None
        return Reply(403, f"<html><body>{user} is missing the {PERMISSION_TITLE[permission]} permission</body></html>",
                     "text/html;charset=UTF-8", {"X-You-Are-Authenticated-As": user,
                                                 "X-Required-Permission": permission})

    def do_GET(self) -> None:
        url = urlparse(self.path)
        self.state.requests.append(f"GET {url.path}")
        user = self._who()
        if user is None:
            return self._send(Reply(401, "<html>Invalid password/token for user</html>", "text/html"))
        parts = [unquote(p) for p in url.path.split("/") if p]
        with self.state.lock:
            reply = self._get(parts, parse_qs(url.query))
        self._send(reply)

    def _get(self, parts: list[str], query: dict) -> Reply:
        if parts in ([], ["api", "json"]):
            jobs = [{"name": n, "url": f"{self.base}/job/{n}/", "color": self._colour(n), "fullname": n}
                    for n in sorted(self.state.jobs)]
            return _json({"jobs": jobs})
        if parts == ["crumbIssuer", "api", "json"]:
            return _json({"crumb": CRUMB, "crumbRequestField": "Jenkins-Crumb"})
        if parts == ["queue", "api", "json"]:
            return _json({"items": [self._queue_json(i) for i in self.state.queue.values() if i.in_queue]})
        if parts[:2] == ["queue", "item"] and len(parts) >= 3 and parts[2].isdigit():
            return self._get_queue(int(parts[2]), parts[3:])
        if len(parts) >= 2 and parts[0] == "job":
            return self._get_job(parts[1], parts[2:], query)
        return _text(404, "not found")

    def _colour(self, job: str) -> str:
        if "<disabled>true</disabled>" in self.state.jobs[job]:
            return "disabled"
        builds = self.state.builds.get(job)
        if not builds:
            return "notbuilt"
        last = builds[-1]
        if last.building:
            return "blue_anime"
        return {"SUCCESS": "blue", "FAILURE": "red", "ABORTED": "aborted"}.get(self._result(last), "yellow")

    @staticmethod
    def _result(build: Build) -> str | None:
        if build.building:
            return None
        return "ABORTED" if build.aborted else build.outcome.result

    def _definitions(self, job: str) -> list[ET.Element]:
        return [p for p in ET.fromstring(self.state.jobs[job].encode()).iter()
                if p.tag.endswith("ParameterDefinition")]

    def _get_job(self, name: str, rest: list[str], query: dict) -> Reply:
        if name not in self.state.jobs:
            return _text(404, "no such job")
        if rest == ["api", "json"]:
            definitions = [{"name": d.findtext("name"), "type": d.tag.rsplit(".", 1)[-1]}
                           for d in self._definitions(name)]
            builds = [{"number": b.number, "url": f"{self.base}/job/{name}/{b.number}/", "queueId": b.queue_id}
                      for b in reversed(self.state.builds.get(name, []))]
            return _json({"name": name, "fullName": name, "buildable": "<disabled>true" not in self.state.jobs[name],
                          "property": [{"_class": "hudson.model.ParametersDefinitionProperty",
                                        "parameterDefinitions": definitions}] if definitions else [],
                          "builds": builds})
        if rest == ["config.xml"]:
            return Reply(200, self.state.jobs[name], "application/xml")
        if rest == []:
            return Reply(200, f"<html>{name}</html>", "text/html")
        builds = self.state.builds.get(name, [])
        if len(rest) >= 2 and rest[0].isdigit() and 0 < int(rest[0]) <= len(builds):
            build = builds[int(rest[0]) - 1]
            if rest[1:] == ["api", "json"]:
                return _json(self._build_json(build))
            if rest[1:] == ["logText", "progressiveText"]:
                # AnnotatedLargeText.doProgressText: `start` and X-Text-Size are byte offsets into the log
                start = int(query.get("start", ["0"])[0])
                build.advance()
                return Reply(200, build.log[start:], "text/plain;charset=UTF-8",
                             {"X-Text-Size": str(len(build.log)), "X-More-Data": "true" if build.building else "false"})
        return _text(404, "not found")

    def _build_json(self, build: Build) -> dict:
        actions = [{"_class": "hudson.model.ParametersAction",
                    "parameters": [{"name": k, "value": v} for k, v in build.params.items()]}]
        step = build.outcome.input
        if step is not None and (build.waiting or build.settled_by):
            # InputAction (@ExportedBean) with its InputStepExecutions: id, settled, input
            actions.append({"_class": "org.jenkinsci.plugins.workflow.support.steps.input.InputAction",
                            "executions": [{"id": step.id, "settled": build.settled_by is not None,
                                            "input": {"message": step.message, "ok": step.ok,
                                                      "submitter": step.submitter,
                                                      "submitterParameter": step.submitter_parameter}}]})
            self.state.pending_shown += build.settled_by is None
        return {"number": build.number, "building": build.building, "result": self._result(build),
                "queueId": build.queue_id, "actions": actions}

    def _queue_json(self, item: QueueItem) -> dict:
        return {"_class": "hudson.model.Queue$WaitingItem", "id": item.id, "why": "Waiting for next available executor",
                "task": {"name": item.job, "url": f"{self.base}/job/{item.job}/"},
                "actions": [{"_class": "hudson.model.ParametersAction",
                             "parameters": [{"name": k, "value": v} for k, v in item.params.items()]}]}

    def _get_queue(self, number: int, rest: list[str]) -> Reply:
        item = self.state.queue.get(number)
        if item is None or item.forgotten:
            return _text(404, "not found")
        if rest != ["api", "json"]:
            return Reply(200, f"<html>queue item {number}</html>", "text/html")
        if self.state.cancel_waiting and item.in_queue:
            item.cancelled = True
        if item.cancelled:  # Queue.LeftItem of a cancelled item
            return _json({"_class": "hudson.model.Queue$LeftItem", "id": number, "cancelled": True, "executable": None})
        if item.build is None and item.polls > 0:  # waits for a poll or two, as on a busy controller
            item.polls -= 1
            return _json(self._queue_json(item))
        if item.build is None:
            builds = self.state.builds.setdefault(item.job, [])
            outcome = self.state.outcomes.get(item.job, Outcome(["ok"]))
            builds.append(Build(len(builds) + 1, item.params, outcome, item.id))
            item.build = len(builds)
            self.state.jobs[item.job] = declarative_first_build(self.state.jobs[item.job])
            if self.state.forget_left_items:
                item.forgotten = True
                return _text(404, "not found")
        return _json({"_class": "hudson.model.Queue$LeftItem", "id": number, "cancelled": False,
                      "executable": {"number": item.build, "url": f"{self.base}/job/{item.job}/{item.build}/"}})

    def do_POST(self) -> None:
        url = urlparse(self.path)
        self.state.requests.append(f"POST {url.path}")
        user = self._who()
        if user is None:
            return self._send(Reply(401, "<html>Invalid password/token for user</html>", "text/html"))
        if self.headers.get("Jenkins-Crumb") != CRUMB:
            return self._send(_text(403, "No valid crumb was included in the request"))
        parts = [unquote(p) for p in url.path.split("/") if p]
        query = parse_qs(url.query)
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length).decode() if length else ""
        with self.state.lock:
            reply = self._post(user, parts, query, body)
        if parts[-1:] == ["buildWithParameters"] and self.state.build_answer_delay:
            time.sleep(self.state.build_answer_delay)
        self._send(reply)

    def _post(self, user: str, parts: list[str], query: dict, body: str) -> Reply:
        if parts == ["createItem"]:
            name = query["name"][0]
            if name in self.state.jobs:
                return _text(400, f"A job already exists with the name '{name}'")
            return self._denied(user, "hudson.model.Item.Create") or self._store(name, body)
        if parts == ["queue", "cancelItem"]:
            item = self.state.queue.get(int(query["id"][0]))
            if item is None:
                return _text(404, "not found")
            item.cancelled = item.cancelled or item.in_queue
            return Reply(204)
        if len(parts) < 3 or parts[0] != "job" or parts[1] not in self.state.jobs:
            return _text(404, "not found")
        name, rest = parts[1], parts[2:]
        if rest == ["config.xml"]:
            return self._denied(user, "hudson.model.Item.Configure") or self._store(name, body)
        if rest == ["buildWithParameters"]:
            return self._build(user, name, {k: v[0] for k, v in query.items()})
        builds = self.state.builds.get(name, [])
        if len(rest) == 4 and rest[0].isdigit() and rest[1] == "input" and 0 < int(rest[0]) <= len(builds):
            return self._input(user, builds[int(rest[0]) - 1], rest[2], rest[3])
        return _text(404, "not found")

    def _store(self, name: str, xml: str) -> Reply:
        try:
            self.state.jobs[name] = reserialise(xml)
        except ET.ParseError as exc:
            return _text(400, f"Failed to parse config.xml: {exc}")
        return Reply(200)

    def _build(self, user: str, name: str, given: dict) -> Reply:
        # ParameterizedJobMixIn.doBuildWithParameters: Item.BUILD checked, then 409 if not buildable
        denied = self._denied(user, "hudson.model.Item.Build")
        if denied:
            return denied
        if "<disabled>true</disabled>" in self.state.jobs[name]:
            return _text(409, f"{name} is not buildable!")
        # ParametersDefinitionProperty.buildWithParameters: a value for each DECLARED parameter (the request's
        # or the default); anything else in the request is ignored.
        params = {}
        for definition in self._definitions(name):
            key = definition.findtext("name")
            default = definition.findtext("defaultValue") or next(
                (s.text for s in definition.iter("string")), "") or ""
            params[key] = given.get(key, default)
        # Queue.scheduleInternal: an item of the same job with equal parameters (ParametersAction.shouldSchedule)
        # still in the queue is returned as ScheduleResult.existing, answered with 303 See Other to it.
        for item in self.state.queue.values():
            if item.job == name and item.in_queue and item.params == params:
                return Reply(303, headers={"Location": f"{self.base}/queue/item/{item.id}/"})
        number = 100 + len(self.state.queue)
        self.state.queue[number] = QueueItem(number, name, params)
        return Reply(201, headers={"Location": f"{self.base}/queue/item/{number}/"})

    def _input(self, user: str, build: Build, step_id: str, verb: str) -> Reply:
        step = build.outcome.input
        if step is None or step.id != step_id or not (build.waiting or build.settled_by):
            return _text(404, "not found")
        if verb not in ("proceedEmpty", "proceed", "abort"):
            return _text(404, "not found")
        # InputStepExecution.preSubmissionCheck / preAbortCheck: hudson.model.Failure (400)
        if build.settled_by is not None:
            return _text(400, "This input has been already given")
        allowed = {s.strip() for s in (step.submitter or "").split(",") if s.strip()}
        perms = self.state.permissions.get(user, set())
        may_submit = ("hudson.model.Hudson.Administer" in perms or user in allowed
                      or bool(self.state.groups.get(user, set()) & allowed)
                      or (not allowed and "hudson.model.Item.Build" in perms))
        if verb == "abort" and not (may_submit or "hudson.model.Item.Cancel" in perms):
            return _text(400, f"You need to be '{step.submitter}' (or have Job/Cancel permissions) to cancel this.")
        if verb != "abort" and not may_submit:
            return _text(400, f"You need to be {step.submitter} to submit this.")
        build.settle(user, proceed=verb != "abort")
        return Reply(200)


class JenkinsDouble:
    """Runs the test double on a free loopback port in a thread; stop() shuts it down."""

    def __init__(self, user: str = "ci-bot", token: str = "tok-123") -> None:
        self.state = State(user=user, token=token)
        handler = type("BoundHandler", (Handler,), {"state": self.state})
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.server.daemon_threads = True
        # serve_forever checks for shutdown() every poll_interval (0.5 s by default): each test would wait it.
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def start(self) -> JenkinsDouble:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
