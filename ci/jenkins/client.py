"""A thin, careful client over python-jenkins: settings from the environment only, bounded retries on a
network failure, one clear line for an unreachable server or refused credentials."""

from __future__ import annotations

import os
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


class Client:
    """python-jenkins with retries and readable errors."""

    def __init__(self, settings: Settings, retries: int = 3, delay: float = 1.0, timeout: float = 10.0,
                 poll: float = 1.0) -> None:
        self.settings = settings
        self.retries, self.delay, self.poll = retries, delay, poll
        self.server = jenkins.Jenkins(settings.url, username=settings.user, password=settings.token, timeout=timeout)

    def call(self, what: str, fn: Callable[[], T]) -> T:
        """Run one API call: retry network failures (bounded), turn errors into one line."""
        for attempt in range(1, self.retries + 1):
            try:
                return fn()
            except (requests.ConnectionError, requests.Timeout, jenkins.TimeoutException) as exc:
                if attempt == self.retries:
                    raise JenkinsError(f"cannot reach Jenkins at {self.settings.url} ({what}) after {attempt} "
                                       f"attempts: {type(exc).__name__}") from exc
                time.sleep(self.delay * attempt)
            except jenkins.JenkinsException as exc:
                text = str(exc)
                if "[401]" in text or "[403]" in text:
                    raise JenkinsError(f"Jenkins at {self.settings.url} refused the credentials of "
                                       f"{self.settings.user!r} ({what}): check JENKINS_USER and JENKINS_API_TOKEN"
                                       ) from exc
                raise JenkinsError(f"Jenkins {what} failed: {text.splitlines()[0][:300]}") from exc
        raise AssertionError("unreachable")

    # -- jobs as code -------------------------------------------------------------------------------

    def sync(self, rendered: Path, dry_run: bool = False) -> list[tuple[str, str]]:
        """Create or update every job rendered by `jenkins-jobs test --config-xml -o rendered`.

        Returns (job, action) with action create / update / unchanged; dry_run changes nothing.
        """
        plan = []
        for config in sorted(rendered.glob("*/config.xml")):
            name, xml = config.parent.name, config.read_text(encoding="utf-8")
            if not self.call(f"job_exists {name}", lambda n=name: self.server.job_exists(n)):
                action = "create"
            else:
                current = self.call(f"get_job_config {name}", lambda n=name: self.server.get_job_config(n))
                action = "unchanged" if canonical_xml(current) == canonical_xml(xml) else "update"
            if not dry_run and action == "create":
                self.call(f"create_job {name}", lambda n=name, x=xml: self.server.create_job(n, x))
            elif not dry_run and action == "update":
                self.call(f"reconfig_job {name}", lambda n=name, x=xml: self.server.reconfig_job(n, x))
            plan.append((name, action))
        return plan

    # -- builds ---------------------------------------------------------------------------------------

    def start(self, job: str, parameters: dict[str, str], queue_timeout: float = 300.0) -> int:
        """Queue a build with parameters and wait until it starts; returns the build number."""
        queue_id = self.call(f"build_job {job}", lambda: self.server.build_job(job, parameters))
        deadline = time.monotonic() + queue_timeout
        while True:
            item = self.call("get_queue_item", lambda: self.server.get_queue_item(queue_id))
            if item.get("cancelled"):
                raise JenkinsError(f"{job}: the queued build was cancelled")
            executable = item.get("executable")
            if executable:
                return int(executable["number"])
            if time.monotonic() > deadline:
                raise JenkinsError(f"{job}: still queued after {queue_timeout:.0f}s ({item.get('why')})")
            time.sleep(self.poll)

    def console(self, job: str, number: int) -> Iterator[str]:
        """Follow a build's console (progressiveText) until it ends."""
        start = 0
        path = f"job/{job}/{number}/logText/progressiveText"
        while True:
            request = requests.Request("GET", f"{self.settings.url}/{path}", params={"start": start})
            response = self.call("progressiveText", lambda r=request: self.server.jenkins_request(r))
            if response.text:
                yield response.text
            start = int(response.headers.get("X-Text-Size", start))
            if response.headers.get("X-More-Data") != "true":
                return
            time.sleep(self.poll)

    def result(self, job: str, number: int) -> str:
        """SUCCESS, FAILURE, ABORTED, UNSTABLE (the build has ended)."""
        info = self.call("get_build_info", lambda: self.server.get_build_info(job, number))
        return info.get("result") or "UNKNOWN"

    def status(self) -> list[dict]:
        """Every job with its colour (Jenkins' summary of the last build)."""
        return self.call("get_jobs", lambda: self.server.get_jobs())
