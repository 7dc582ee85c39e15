"""A thin, careful client over python-jenkins: settings from the environment only, bounded retries of reads on
a network failure, a POST sent at most once, and one line saying what to do for each answer Jenkins gives."""

from __future__ import annotations

import codecs
import hashlib
import os
import re
import time
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

import jenkins
import requests

T = TypeVar("T")
PROMOTE_JOB = "tiny-analytics-promote"
# The hash of the rendered XML is kept in the job's description: Jenkins re-serialises config.xml (XML 1.1
# header, plugin="..." attributes, unknown fields dropped, properties added by a declarative build), so the
# XML read back never equals what was sent. JJB compares a hash of its rendered XML with a remembered one
# (jenkins_jobs/cache.py, JobCache.has_changed) instead of the server's XML; we remember it on the job itself
# so every workspace sees it.
HASH_MARK = re.compile(r"<!-- rendered-sha256: ([0-9a-f]{64}) -->")
_TRANSPORT = (requests.ConnectionError, requests.Timeout, jenkins.TimeoutException)


class JenkinsError(RuntimeError):
    """A Jenkins call failed; the message is the one line the user sees."""


@dataclass(frozen=True)
class Settings:
    """Where Jenkins is and who we are (never from a file in the repository)."""

    url: str
    user: str
    token: str

    @classmethod
    def from_env(cls) -> Settings:
        """JENKINS_URL, JENKINS_USER, JENKINS_API_TOKEN."""
        missing = [n for n in ("JENKINS_URL", "JENKINS_USER", "JENKINS_API_TOKEN") if not os.environ.get(n)]
        if missing:
            raise JenkinsError(f"set {', '.join(missing)} in the environment (the API token of a Jenkins user)")
        return cls(os.environ["JENKINS_URL"].rstrip("/"), os.environ["JENKINS_USER"], os.environ["JENKINS_API_TOKEN"])


def canonical_xml(text: str) -> str:
    """A job's config.xml in canonical form (whitespace between tags and attribute order ignored)."""
    return ET.canonicalize(text, strip_text=True)


def rendered_hash(xml: str) -> str:
    """sha256 of a rendered config.xml in canonical form (without any hash mark of ours)."""
    return hashlib.sha256(canonical_xml(HASH_MARK.sub("", xml)).encode()).hexdigest()


def with_hash(xml: str) -> str:
    """The rendered XML with its hash appended to the job's description (kept by Jenkins as text)."""
    root = ET.fromstring(xml.encode())  # noqa: S314 - jenkins-jobs' own rendering  # nosec B314
    description = root.find("description")
    if description is None:
        description = ET.SubElement(root, "description")
    description.text = f"{description.text or ''}<!-- rendered-sha256: {rendered_hash(xml)} -->"
    return ET.tostring(root, encoding="unicode")


def stored_hash(xml: str) -> str | None:
    """The hash a previous sync left in the description of the job's config.xml (None if there is none)."""
    try:
        # the controller's answer to an authenticated request; expat expands no external entities
        description = ET.fromstring(xml.encode()).findtext("description") or ""  # noqa: S314  # nosec B314
    except ET.ParseError:
        return None
    found = HASH_MARK.search(description)
    return found.group(1) if found else None


def _http_response(exc: BaseException) -> requests.Response | None:
    """The HTTP answer behind a python-jenkins exception (it raises from inside `except HTTPError`)."""
    while exc is not None:
        response = getattr(exc, "response", None)
        if isinstance(response, requests.Response):
            return response
        exc = exc.__cause__ or exc.__context__
    return None


class Client:
    """python-jenkins with bounded retries of reads and readable errors."""

    def __init__(self, settings: Settings, retries: int = 3, delay: float = 1.0, timeout: float = 10.0,
                 poll: float = 1.0) -> None:
        self.settings = settings
        self.retries, self.delay, self.poll = retries, delay, poll
        # retries=0: urllib3 re-sends nothing (python-jenkins mounts HTTPAdapter(max_retries=Retry(total=retries)));
        # only `call` retries, and only reads.
        self.server = jenkins.Jenkins(settings.url, username=settings.user, password=settings.token, timeout=timeout,
                                      retries=0)

    def call(self, what: str, fn: Callable[[], T], retry: bool = True) -> T:
        """Run one API call and turn errors into one line; network failures are retried (bounded) only if
        `retry` (reads). A POST is never re-sent: it may have landed although its answer was lost."""
        attempts = self.retries if retry else 1
        for attempt in range(1, attempts + 1):
            try:
                return fn()
            except _TRANSPORT as exc:
                if attempt == attempts:
                    raise JenkinsError(f"cannot reach Jenkins at {self.settings.url} ({what}) after {attempt} "
                                       f"attempt{'s' if attempt > 1 else ''}: {type(exc).__name__}") from exc
                time.sleep(self.delay * attempt)
            except (jenkins.JenkinsException, requests.HTTPError) as exc:
                raise self._refusal(what, exc) from exc
        raise AssertionError("unreachable")

    def _refusal(self, what: str, exc: Exception) -> JenkinsError:
        """One line for an HTTP refusal, saying what to do."""
        response = _http_response(exc)
        status = response.status_code if response is not None else None
        text = str(exc)
        if status == 403 or (status is None and "[403]" in text):
            body = response.text if response is not None else text
            permission = response.headers.get("X-Required-Permission") if response is not None else None
            if permission or "is missing the" in body:
                # Jenkins' AccessDeniedException3: 403 with X-Required-Permission, "<user> is missing the <p>".
                needed = permission or re.search(r"is missing the (\S+) permission", body).group(1)
                return JenkinsError(f"Jenkins user {self.settings.user!r} lacks the permission {needed} ({what}): "
                                    f"ask a Jenkins administrator to grant it (Manage Jenkins > Security)")
            if "crumb" in body.lower():
                return JenkinsError(f"Jenkins refused the request without a valid crumb ({what}): check that "
                                    f"JENKINS_URL is the controller's own address (a proxy may drop the session)")
        if status == 401 or status == 403 or (status is None and "[401]" in text):
            return JenkinsError(f"Jenkins at {self.settings.url} refused the credentials of {self.settings.user!r} "
                                f"({what}): check JENKINS_USER and JENKINS_API_TOKEN")
        if status == 409:
            return JenkinsError(f"Jenkins will not build ({what}): the job is disabled; enable it in Jenkins "
                                f"(the job's page > Enable) or run `ci jenkins sync`, then try again")
        return JenkinsError(f"Jenkins {what} failed: {text.splitlines()[0][:300] if text else type(exc).__name__}")

    # -- jobs as code -------------------------------------------------------------------------------

    def sync(self, rendered: Path, dry_run: bool = False) -> list[tuple[str, str]]:
        """Create or update every job rendered by `jenkins-jobs test --config-xml -o rendered`.

        A job is unchanged when the hash in its description is the hash of the rendered XML (Jenkins' own
        copy of the XML is re-serialised and cannot be compared). Returns (job, action) with action create /
        update / unchanged; dry_run changes nothing. A failed create or update is not re-sent: run sync again.
        """
        plan = []
        for config in sorted(rendered.glob("*/config.xml")):
            name, xml = config.parent.name, config.read_text(encoding="utf-8")
            if not self.call(f"job_exists {name}", lambda n=name: self.server.job_exists(n)):
                action = "create"
            else:
                current = self.call(f"get_job_config {name}", lambda n=name: self.server.get_job_config(n))
                action = "unchanged" if stored_hash(current) == rendered_hash(xml) else "update"
            upload = with_hash(xml)
            if not dry_run and action == "create":
                self._post(f"create_job {name}", lambda n=name, x=upload: self.server.create_job(n, x), "sync")
            elif not dry_run and action == "update":
                self._post(f"reconfig_job {name}", lambda n=name, x=upload: self.server.reconfig_job(n, x), "sync")
            plan.append((name, action))
        return plan

    def _post(self, what: str, fn: Callable[[], T], again: str) -> T:
        try:
            return self.call(what, fn, retry=False)
        except JenkinsError as exc:
            if isinstance(exc.__cause__, _TRANSPORT):
                raise JenkinsError(f"Jenkins did not answer {what} ({type(exc.__cause__).__name__}); it may or may "
                                   f"not have been applied: run `ci jenkins {again}` again") from exc
            raise

    # -- builds ---------------------------------------------------------------------------------------

    def queue_build(self, job: str, parameters: dict[str, str]) -> int:
        """POST buildWithParameters once; returns the queue item id. 201 + Location: queued. 303: an identical
        build is already queued (Jenkins' ParametersDefinitionProperty.buildWithParameters answers SC_SEE_OTHER
        with the existing item; requests follows it and python-jenkins' build_job then raises
        EmptyResponseException, so the first answer is kept by a response hook). A lost answer: look in the
        queue for a build with these parameters instead of sending the POST again."""
        declared = self._declared_parameters(job)
        missing, unknown = sorted(declared - set(parameters)), sorted(set(parameters) - declared)
        if unknown:
            # Jenkins ignores undeclared parameters (buildWithParameters reads only the declared ones) and the
            # build would run with defaults: refuse instead.
            raise JenkinsError(f"{job} on Jenkins does not declare {', '.join(unknown)}: run `ci jenkins sync` "
                               f"to upload the job from jobs/, then try again")
        if missing:
            raise JenkinsError(f"{job} on Jenkins declares {', '.join(missing)} too: update ci/jenkins to pass it")
        self.call("crumbIssuer", lambda: self.server.maybe_add_crumb(requests.Request("GET", self.settings.url)))
        first: list[requests.Response] = []
        request = requests.Request("POST", self.server.build_job_url(job, parameters),
                                   hooks={"response": lambda r, *a, **k: first.append(r) if not first else None})
        try:
            self.call(f"buildWithParameters {job}", lambda: self.server.jenkins_request(request), retry=False)
        except JenkinsError as exc:
            if not first:  # no answer at all: it may have landed
                return self._find_queued(job, parameters, exc)
            if first[0].status_code not in (201, 303):
                raise
        answer = first[0]
        number = _queue_id(answer.headers.get("Location", ""))
        if answer.status_code == 303 and number is not None:
            raise JenkinsError(f"an identical {job} build ({_describe(parameters)}) is already queued as "
                               f"{self.settings.url}/queue/item/{number}/: follow it in Jenkins, or cancel it "
                               f"there and run again")
        if answer.status_code != 201 or number is None:
            raise JenkinsError(f"Jenkins did not queue {job} (HTTP {answer.status_code}, no queue item): look at "
                               f"{self.settings.url}/job/{job}/ before trying again")
        return number

    def _declared_parameters(self, job: str) -> set[str]:
        info = self.call(f"get_job_info {job}", lambda: self.server.get_job_info(job))
        return {d["name"] for p in info.get("property", []) for d in p.get("parameterDefinitions", []) or []}

    def _find_queued(self, job: str, parameters: dict[str, str], exc: JenkinsError) -> int:
        tree = "items[id,task[name],actions[parameters[name,value]]]"
        items = self._get_json("queue", "queue/api/json", tree).get("items", [])
        for item in items:
            if item.get("task", {}).get("name") == job and _item_parameters(item) == parameters:
                return int(item["id"])
        raise JenkinsError(f"Jenkins did not answer the build request for {job} ({exc}) and has no queued build "
                           f"with {_describe(parameters)}: look at {self.settings.url}/job/{job}/ before running "
                           f"again (the request is never re-sent)") from exc

    def start(self, job: str, parameters: dict[str, str], queue_timeout: float = 300.0) -> int:
        """Queue a build with parameters and wait until it starts; returns the build number."""
        queue_id = self.queue_build(job, parameters)
        deadline = time.monotonic() + queue_timeout
        while True:
            try:
                item = self.call("get_queue_item", lambda: self.server.get_queue_item(queue_id))
            except JenkinsError:
                # Jenkins forgets a queue item about five minutes after it left the queue (python-jenkins'
                # build_job docstring): the build records the queue id it came from.
                number = self._build_from_queue(job, queue_id)
                if number is None:
                    raise
                return number
            if item.get("cancelled"):
                raise JenkinsError(f"{job}: the queued build was cancelled in Jenkins (queue item {queue_id}) "
                                   f"before it started; run again if it should still run")
            executable = item.get("executable")
            if executable:
                return int(executable["number"])
            if time.monotonic() > deadline:
                raise JenkinsError(f"{job}: still queued after {queue_timeout:.0f}s ({item.get('why')}); "
                                   f"it stays queued: follow it at {self.settings.url}/queue/item/{queue_id}/")
            time.sleep(self.poll)

    def _build_from_queue(self, job: str, queue_id: int) -> int | None:
        info = self._get_json(f"builds of {job}", f"job/{job}/api/json", "builds[number,queueId]")
        for build in info.get("builds", []):
            if build.get("queueId") == queue_id:
                return int(build["number"])
        return None

    def console(self, job: str, number: int) -> Iterator[str]:
        """Follow a build's console (progressiveText) until it ends.

        `start` and X-Text-Size count bytes (AnnotatedLargeText); a chunk may end inside a UTF-8 character,
        so the bytes go through one incremental decoder. While the build waits for an input step, one line
        says what it waits for and where to answer it."""
        start, decoder, announced = 0, codecs.getincrementaldecoder("utf-8")("replace"), set()
        path = f"job/{job}/{number}/logText/progressiveText"
        while True:
            request = requests.Request("GET", f"{self.settings.url}/{path}", params={"start": start})
            response = self.call("progressiveText", lambda r=request: self.server.jenkins_request(r))
            text = decoder.decode(response.content)
            if text:
                yield text
            start = int(response.headers.get("X-Text-Size", start))
            if response.headers.get("X-More-Data") != "true":
                rest = decoder.decode(b"", final=True)
                if rest:
                    yield rest
                return
            yield from self._pending_inputs(job, number, announced)
            time.sleep(self.poll)

    def _pending_inputs(self, job: str, number: int, announced: set[str]) -> list[str]:
        info = self._get_json("pending input", f"job/{job}/{number}/api/json",
                              "actions[executions[id,settled,input[message,ok,submitter]]]")
        lines = []
        for action in info.get("actions", []) or []:
            for execution in (action or {}).get("executions", []) or []:
                key = execution.get("id")
                if execution.get("settled") or key in announced:
                    continue
                announced.add(key)
                step = execution.get("input", {})
                who = step.get("submitter") or "anyone with Job/Build"
                lines.append(f"[ci] {job} #{number} waits for input {step.get('message', key)!r} from {who}: "
                             f"answer at {self.settings.url}/job/{job}/{number}/input/\n")
        return lines

    def _get_json(self, what: str, path: str, tree: str) -> dict:
        """GET path?tree=... (explicit trees: nested fields are not in api/json at depth 0)."""
        request = requests.Request("GET", f"{self.settings.url}/{path}", params={"tree": tree})
        return self.call(what, lambda: self.server.jenkins_request(request)).json()

    def result(self, job: str, number: int) -> str:
        """SUCCESS, FAILURE, ABORTED, UNSTABLE (the build has ended)."""
        info = self.call("get_build_info", lambda: self.server.get_build_info(job, number))
        return info.get("result") or "UNKNOWN"

    def status(self) -> list[dict]:
        """Every job with its colour (Jenkins' summary of the last build)."""
        return self.call("get_jobs", lambda: self.server.get_jobs())


def _queue_id(location: str) -> int | None:
    found = re.search(r"/queue/item/(\d+)/?$", location)
    return int(found.group(1)) if found else None


def _item_parameters(item: dict) -> dict[str, str]:
    return {p["name"]: str(p.get("value")) for a in item.get("actions", []) or [] if a
            for p in a.get("parameters", []) or []}


def _describe(parameters: dict[str, str]) -> str:
    return ", ".join(f"{k}={v}" for k, v in parameters.items())
