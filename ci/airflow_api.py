"""A small client of the Airflow 3 REST API (/api/v2) for the smoke, dev and run stages and the tests.

It logs in through the auth manager's token endpoint (POST /auth/token) and waits with bounded polling:
every wait names what it waited for when it gives up.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import requests

if TYPE_CHECKING:
    from ci.platform import Platform

PAGE = 100


class AirflowApiError(RuntimeError):
    """The API refused a call, or a wait ran out of time."""


@dataclass
class AirflowApi:
    """An authenticated session against one Airflow API server."""

    base_url: str
    token: str
    timeout: float = 15.0
    # The CA file the server's certificate is verified against (requests' `verify`): the platform CA.
    verify: str | bool = True

    @classmethod
    def login(cls, base_url: str, username: str, password: str, wait: float = 120.0,
              verify: str | bool = True) -> AirflowApi:
        """Get an access token, retrying while the API server starts; 401/403 fail at once, and so does a
        certificate that does not verify (no retry changes it)."""
        deadline = time.monotonic() + wait
        while True:
            try:
                reply = requests.post(f"{base_url}/auth/token", json={"username": username, "password": password},
                                      timeout=15, verify=verify)
                if reply.status_code in (401, 403):
                    raise AirflowApiError(f"{base_url}: login as {username} refused ({reply.status_code})")
                if reply.ok:
                    return cls(base_url, reply.json()["access_token"], verify=verify)
                problem = f"HTTP {reply.status_code}"
            except requests.exceptions.SSLError as exc:
                if "CERTIFICATE_VERIFY_FAILED" in str(exc):  # no retry changes it (a handshake cut short may)
                    raise AirflowApiError(f"{base_url}: the server's certificate does not verify against "
                                          f"{verify}: {exc}") from exc
                problem = type(exc).__name__
            except requests.RequestException as exc:
                problem = type(exc).__name__
            if time.monotonic() > deadline:
                raise AirflowApiError(f"{base_url}/auth/token did not answer within {wait:.0f} s ({problem})")
            time.sleep(2)

    def call(self, method: str, path: str, headers_extra: dict[str, str] | None = None, **kwargs: object) -> dict:
        """One API call; an AirflowApiError with the server's detail on an error status."""
        reply = requests.request(method, f"{self.base_url}/api/v2{path}", timeout=self.timeout, verify=self.verify,
                                 headers={"Authorization": f"Bearer {self.token}", **(headers_extra or {})},
                                 **kwargs)
        if not reply.ok:
            raise AirflowApiError(f"{method} {path}: HTTP {reply.status_code} {reply.text[:300]}")
        return reply.json() if reply.content else {}

    def wait_for_dag(self, dag_id: str, wait: float = 300.0) -> dict:
        """The DAG once the DAG processor has parsed it."""
        deadline = time.monotonic() + wait
        while True:
            try:
                return self.call("GET", f"/dags/{dag_id}")
            except AirflowApiError as exc:
                if "HTTP 404" not in str(exc) or time.monotonic() > deadline:
                    raise AirflowApiError(f"DAG {dag_id} did not appear within {wait:.0f} s: {exc}") from exc
            time.sleep(3)

    def trigger(self, dag_id: str, run_id: str, logical_date: str) -> dict:
        """Unpause the DAG and start one run."""
        self.call("PATCH", f"/dags/{dag_id}", json={"is_paused": False})
        return self.call("POST", f"/dags/{dag_id}/dagRuns", json={"dag_run_id": run_id, "logical_date": logical_date})

    def trigger_day(self, dag_id: str, run_id: str, day: dt.date, offset_seconds: int = 0) -> dict:
        """Start one run whose `ds` is day. Airflow keeps logical dates unique per DAG, so the logical date is
        day at the current time of day (plus offset_seconds): many runs can read the same day."""
        return self.trigger(dag_id, run_id, logical_date_of(day, offset_seconds))

    def unpause(self, dag_id: str) -> dict:
        """Unpause one DAG (its schedule runs from then on too)."""
        return self.set_paused(dag_id, False)

    def set_paused(self, dag_id: str, paused: bool) -> dict:
        """Pause or unpause one DAG."""
        return self.call("PATCH", f"/dags/{dag_id}", json={"is_paused": paused})

    def dag_details(self, dag_id: str) -> dict:
        """One DAG's details: its DagModel (is_paused, ...) and the latest parsed version's arguments
        (is_paused_upon_creation, catchup, ...; null when the file does not set them)."""
        return self.call("GET", f"/dags/{dag_id}/details")

    def dag_runs(self, dag_id: str, run_type: str | None = None) -> list[dict]:
        """The DAG's runs (of one run_type: scheduled, manual, asset_triggered, backfill), newest first."""
        params = {"order_by": "-run_after", **({"run_type": run_type} if run_type else {})}
        return list(self._pages(f"/dags/{dag_id}/dagRuns", "dag_runs", params))

    def start_run(self, dag_id: str, run_id: str, day: dt.date) -> dict:
        """Start one run whose `ds` is day, leaving the DAG's paused flag as it is (a paused DAG's run waits)."""
        return self.call("POST", f"/dags/{dag_id}/dagRuns",
                         json={"dag_run_id": run_id, "logical_date": logical_date_of(day)})

    def dag_run(self, dag_id: str, run_id: str) -> dict:
        """One DAG run as the API returns it."""
        return self.call("GET", f"/dags/{dag_id}/dagRuns/{run_id}")

    def _pages(self, path: str, key: str, params: dict | None = None) -> Iterator[dict]:
        offset = 0
        while True:
            page = self.call("GET", path, params={**(params or {}), "limit": PAGE, "offset": offset})
            yield from page[key]
            offset += PAGE
            if offset >= page["total_entries"] or not page[key]:
                return

    def dags(self) -> list[dict]:
        """Every DAG the API lists (stale ones left out, as the UI does)."""
        return list(self._pages("/dags", "dags"))

    def import_errors(self) -> list[dict]:
        """Every import error the DAG processor recorded, with its file, time and traceback."""
        return list(self._pages("/importErrors", "import_errors"))

    def running_dag_processor(self) -> dict | None:
        """The DAG processor job that runs now (the newest one, if several claim to), or None."""
        found = self.call("GET", "/jobs", params={"job_type": "DagProcessorJob", "job_state": "running",
                                                  "order_by": "-id", "limit": 1})
        return next(iter(found["jobs"]), None)

    def task_log(self, dag_id: str, run_id: str, task_id: str, try_number: int, map_index: int = -1) -> list:
        """One try's log from the task log store the UI reads: a list of structured entries (or text lines)."""
        found = self.call("GET", f"/dags/{dag_id}/dagRuns/{run_id}/taskInstances/{task_id}/logs/{try_number}",
                          params={"full_content": "true", "map_index": map_index},
                          headers_extra={"Accept": "application/json"})
        return found.get("content", [])

    def wait_for_run(self, dag_id: str, run_id: str, wait: float = 900.0) -> str:
        """The run's final state (success or failed); an error when it is still going at the deadline."""
        deadline = time.monotonic() + wait
        while True:
            state = self.call("GET", f"/dags/{dag_id}/dagRuns/{run_id}")["state"]
            if state in ("success", "failed"):
                return state
            if time.monotonic() > deadline:
                raise AirflowApiError(f"{dag_id} run {run_id} still {state} after {wait:.0f} s")
            time.sleep(3)

    def task_instances(self, dag_id: str, run_id: str) -> list[dict]:
        """The task instances of one run, as the API returns them."""
        found = self.call("GET", f"/dags/{dag_id}/dagRuns/{run_id}/taskInstances", params={"limit": 100})
        return found["task_instances"]

    def task_states(self, dag_id: str, run_id: str) -> dict[str, str]:
        """task_id -> state of one run."""
        return {ti["task_id"]: ti["state"] for ti in self.task_instances(dag_id, run_id)}


def logical_date_of(day: dt.date, offset_seconds: int = 0) -> str:
    """A logical date whose `ds` is day: day at the current UTC time of day (plus offset_seconds), since Airflow
    keeps logical dates unique per DAG and many runs may read the same day."""
    clock = time.strftime("%H:%M:%S", time.gmtime(time.time() + offset_seconds))
    return f"{day.isoformat()}T{clock}Z"


@dataclass(frozen=True)
class UiEndpoint:
    """Where this machine reaches an environment's UI and API, and what its certificate is checked against."""

    url: str
    # requests' `verify`: the platform CA's file, or True (the public roots) for your own certificate
    verify: str | bool
    # the platform CA's file for a browser to trust; None with your own certificate
    ca_file: Path | None


def ui_endpoint(platform: Platform) -> UiEndpoint:
    """The one place that knows it: the local hosts' published address, else `ui_domain` from the inventory,
    else the Airflow host's current public address; the platform CA unless the inventory gives your own
    certificate (`ui_certificate`). PlatformError when it cannot be known."""
    from ci.localcloud import LOCAL_ENVS
    from ci.localcloud.hosts import ui_url
    from ci.platform import inventory_variables

    variables = inventory_variables(platform.env)
    if platform.env in LOCAL_ENVS:
        url = ui_url(platform.env)
    elif variables.get("ui_domain"):
        url = f"https://{variables['ui_domain']}"
    else:
        url = f"https://{platform.airflow_public_address()}"
    if variables.get("ui_certificate"):
        return UiEndpoint(url, True, None)
    ca_file = platform.ca_file()
    return UiEndpoint(url, str(ca_file), ca_file)


def admin_login(platform: Platform, wait: float = 120.0) -> AirflowApi:
    """A session as the environment's admin, whose password is read from its secret store."""
    from ci.platform import PlatformError

    try:
        endpoint = ui_endpoint(platform)
    except PlatformError as exc:
        raise AirflowApiError(str(exc)) from exc
    return AirflowApi.login(endpoint.url, "admin", platform.secret("airflow_admin_password"), wait=wait,
                            verify=endpoint.verify)
