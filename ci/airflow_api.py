"""A small client of the Airflow 3 REST API (/api/v2) for the smoke stage and the tests.

It logs in through the auth manager's token endpoint (POST /auth/token) and waits with bounded polling:
every wait names what it waited for when it gives up.
"""

from __future__ import annotations

import datetime as dt
import time
from dataclasses import dataclass

import requests


class AirflowApiError(RuntimeError):
    """The API refused a call, or a wait ran out of time."""


@dataclass
class AirflowApi:
    """An authenticated session against one Airflow API server."""

    base_url: str
    token: str
    timeout: float = 15.0

    @classmethod
    def login(cls, base_url: str, username: str, password: str, wait: float = 120.0) -> AirflowApi:
        """Get an access token, retrying while the API server starts; 401/403 fail at once."""
        deadline = time.monotonic() + wait
        while True:
            try:
                reply = requests.post(f"{base_url}/auth/token", json={"username": username, "password": password},
                                      timeout=15)
                if reply.status_code in (401, 403):
                    raise AirflowApiError(f"{base_url}: login as {username} refused ({reply.status_code})")
                if reply.ok:
                    return cls(base_url, reply.json()["access_token"])
                problem = f"HTTP {reply.status_code}"
            except requests.RequestException as exc:
                problem = type(exc).__name__
            if time.monotonic() > deadline:
                raise AirflowApiError(f"{base_url}/auth/token did not answer within {wait:.0f} s ({problem})")
            time.sleep(2)

    def call(self, method: str, path: str, **kwargs: object) -> dict:
        """One API call; an AirflowApiError with the server's detail on an error status."""
        reply = requests.request(method, f"{self.base_url}/api/v2{path}", timeout=self.timeout,
                                 headers={"Authorization": f"Bearer {self.token}"}, **kwargs)
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
        clock = time.strftime("%H:%M:%S", time.gmtime(time.time() + offset_seconds))
        return self.trigger(dag_id, run_id, f"{day.isoformat()}T{clock}Z")

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
