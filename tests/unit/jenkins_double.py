"""TEST DOUBLE of a Jenkins controller's REST API (no Jenkins controller can run on this machine).

It speaks the subset python-jenkins uses for `ci jenkins`: basic auth on every request, a crumb required
on every POST, jobs (api/json, config.xml, createItem) whose XML must be well formed, buildWithParameters
checked against the job's declared parameters, queue items that become builds, build info, and
progressiveText with X-Text-Size / X-More-Data. Each job's next build plays a scripted outcome.
"""

from __future__ import annotations

import base64
import json
import threading
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse

CRUMB = "double-crumb"


@dataclass
class Outcome:
    """What the next build of a job does: its console lines (one per poll) and its result."""

    lines: list[str]
    result: str = "SUCCESS"


@dataclass
class Build:
    number: int
    params: dict
    outcome: Outcome
    shown: int = 0  # lines released so far: one more per console poll

    @property
    def text(self) -> str:
        return "".join(line + "\n" for line in self.outcome.lines[:self.shown])

    @property
    def building(self) -> bool:
        return self.shown < len(self.outcome.lines)


@dataclass
class State:
    user: str
    token: str
    jobs: dict[str, str] = field(default_factory=dict)            # name -> config.xml
    builds: dict[str, list[Build]] = field(default_factory=dict)
    outcomes: dict[str, Outcome] = field(default_factory=dict)
    queue: dict[int, tuple[str, dict, int]] = field(default_factory=dict)  # id -> (job, params, polls left)
    queue_started: dict[int, int] = field(default_factory=dict)
    requests: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)


class Handler(BaseHTTPRequestHandler):
    state: State
    disable_nagle_algorithm = True

    def log_message(self, *args: object) -> None:
        pass

    def _send(self, code: int, body: bytes | str = b"", ctype: str = "application/json",
              headers: dict | None = None) -> None:
        data = body.encode() if isinstance(body, str) else body
        self.send_response(code)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(data)))
        self.send_header("X-Jenkins", "2.500")
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(data)

    def _authorised(self) -> bool:
        expected = "Basic " + base64.b64encode(f"{self.state.user}:{self.state.token}".encode()).decode()
        if self.headers.get("Authorization") != expected:
            self._send(401, "<html>Unauthorized</html>", "text/html")
            return False
        return True

    def _body(self) -> str:
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length).decode() if length else ""

    def do_GET(self) -> None:
        url = urlparse(self.path)
        self.state.requests.append(f"GET {url.path}")
        if not self._authorised():
            return
        parts = [p for p in url.path.split("/") if p]
        with self.state.lock:
            if parts in ([], ["api", "json"]):
                jobs = [{"name": n, "url": f"http://double/job/{n}/", "color": self._colour(n), "fullname": n}
                        for n in sorted(self.state.jobs)]
                return self._send(200, json.dumps({"jobs": jobs}))
            if parts == ["crumbIssuer", "api", "json"]:
                return self._send(200, json.dumps({"crumb": CRUMB, "crumbRequestField": "Jenkins-Crumb"}))
            if parts == ["me", "api", "json"]:
                return self._send(200, json.dumps({"id": self.state.user}))
            if len(parts) >= 2 and parts[0] == "job":
                return self._get_job(parts[1], parts[2:], parse_qs(url.query))
            if parts[:2] == ["queue", "item"]:
                return self._get_queue(int(parts[2]))
        return self._send(404, "not found", "text/plain")

    def _colour(self, job: str) -> str:
        builds = self.state.builds.get(job)
        if not builds:
            return "notbuilt"
        last = builds[-1]
        if last.building:
            return "blue_anime"
        return {"SUCCESS": "blue", "FAILURE": "red", "ABORTED": "aborted"}.get(last.outcome.result, "yellow")

    def _get_job(self, name: str, rest: list[str], query: dict) -> None:
        if name not in self.state.jobs:
            return self._send(404, "no such job", "text/plain")
        if rest == ["api", "json"]:
            return self._send(200, json.dumps({"name": name, "fullName": name}))
        if rest == ["config.xml"]:
            return self._send(200, self.state.jobs[name], "application/xml")
        if len(rest) >= 2 and rest[0].isdigit():
            build = self.state.builds[name][int(rest[0]) - 1]
            if rest[1:] == ["api", "json"]:
                return self._send(200, json.dumps({"number": build.number, "building": build.building,
                                                   "result": None if build.building else build.outcome.result}))
            if rest[1:] == ["logText", "progressiveText"]:
                start = int(query.get("start", ["0"])[0])
                build.shown = min(build.shown + 1, len(build.outcome.lines))
                text = build.text
                return self._send(200, text[start:].encode(), "text/plain",
                                  {"X-Text-Size": str(len(text.encode())),
                                   "X-More-Data": "true" if build.building else "false"})
        return self._send(404, "not found", "text/plain")

    def _get_queue(self, item: int) -> None:
        job, params, polls = self.state.queue[item]
        if polls > 0:  # waits in the queue for a poll or two, as on a busy controller
            self.state.queue[item] = (job, params, polls - 1)
            return self._send(200, json.dumps({"id": item, "why": "Waiting for next available executor"}))
        if item not in self.state.queue_started:
            builds = self.state.builds.setdefault(job, [])
            outcome = self.state.outcomes.get(job, Outcome(["ok"]))
            builds.append(Build(len(builds) + 1, params, outcome))
            self.state.queue_started[item] = len(builds)
        number = self.state.queue_started[item]
        return self._send(200, json.dumps({"id": item, "executable": {"number": number,
                                                                       "url": f"http://double/job/{job}/{number}/"}}))

    def do_POST(self) -> None:
        url = urlparse(self.path)
        self.state.requests.append(f"POST {url.path}")
        if not self._authorised():
            return
        if self.headers.get("Jenkins-Crumb") != CRUMB:
            return self._send(403, "No valid crumb was included in the request", "text/plain")
        parts = [p for p in url.path.split("/") if p]
        query = parse_qs(url.query)
        body = self._body()
        with self.state.lock:
            if parts == ["createItem"]:
                name = query["name"][0]
                if name in self.state.jobs:
                    return self._send(400, f"A job already exists with the name '{name}'", "text/plain")
                return self._store(name, body)
            if len(parts) == 3 and parts[0] == "job" and parts[2] == "config.xml":
                if parts[1] not in self.state.jobs:
                    return self._send(404, "no such job", "text/plain")
                return self._store(parts[1], body)
            if len(parts) == 3 and parts[0] == "job" and parts[2] == "buildWithParameters":
                return self._build(parts[1], {k: v[0] for k, v in query.items()})
        return self._send(404, "not found", "text/plain")

    def _store(self, name: str, xml: str) -> None:
        try:
            ET.fromstring(xml)
        except ET.ParseError as exc:
            return self._send(400, f"Failed to parse config.xml: {exc}", "text/plain")
        self.state.jobs[name] = xml
        return self._send(200)

    def _build(self, name: str, params: dict) -> None:
        if name not in self.state.jobs:
            return self._send(404, "no such job", "text/plain")
        declared = {p.findtext("name") for p in ET.fromstring(self.state.jobs[name]).iter()
                    if p.tag.endswith("ParameterDefinition")}
        unknown = set(params) - declared
        if unknown:
            return self._send(400, f"unknown parameters {sorted(unknown)}", "text/plain")
        item = 100 + len(self.state.queue)
        self.state.queue[item] = (name, params, 1)
        return self._send(201, headers={"Location": f"http://double/queue/item/{item}/"})


class JenkinsDouble:
    """Runs the test double on a free loopback port in a thread; stop() shuts it down."""

    def __init__(self, user: str = "ci-bot", token: str = "tok-123") -> None:
        self.state = State(user=user, token=token)
        handler = type("BoundHandler", (Handler,), {"state": self.state})
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def start(self) -> JenkinsDouble:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
