"""Each DAG paused or running as its file declares it (`is_paused_upon_creation`), applied and checked through
the Airflow REST API.

A DAG file declares the state it wants with `is_paused_upon_creation` (the tenant DAGs: `not tenant.active`).
Airflow applies that argument once, when it first sees the DAG; later changes of the file, and a DAG paused
by hand or by an older release, keep their flag. So after a commit's release is switched on, deploy waits
until the DAG processor has parsed the release and sets each declaring DAG's `is_paused` to match; verify
fails naming each DAG that differs. A DAG that declares nothing (null in the API's DAG details) is left as
it is.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from ci.airflow_api import AirflowApi, AirflowApiError, admin_login
from ci.runner import StepFailed

if TYPE_CHECKING:
    from pathlib import Path

    from ci.platform import Platform
    from ci.runner import Stage

PARSE_WAIT_SECONDS = 300.0


@dataclass(frozen=True)
class PausedState:
    """One DAG's paused flag beside what its latest parsed file declares (None: declares nothing)."""

    dag_id: str
    paused: bool
    declared: bool | None

    @property
    def differs(self) -> bool:
        """The DAG declares a state and is not in it."""
        return self.declared is not None and self.paused != self.declared

    def line(self) -> str:
        """`dag_id  paused|unpaused  (declares ...)` for the stage output."""
        now = "paused" if self.paused else "unpaused"
        wanted = {None: "declares nothing", True: "declares paused", False: "declares unpaused"}[self.declared]
        return f"{self.dag_id:<40} {now:<9} ({wanted})"


def paused_states(api: AirflowApi, dag_ids: Iterable[str]) -> list[PausedState]:
    """The paused flag and declared state of each DAG, sorted by dag_id."""
    states = []
    for dag_id in sorted(dag_ids):
        details = api.dag_details(dag_id)
        states.append(PausedState(dag_id, bool(details["is_paused"]), details.get("is_paused_upon_creation")))
    return states


def apply_declared(api: AirflowApi, dag_ids: Iterable[str]) -> str:
    """Pause or unpause each of the DAGs that declares a state it is not in; one line per DAG, changes marked."""
    lines = []
    for state in paused_states(api, dag_ids):
        if state.differs:
            api.set_paused(state.dag_id, bool(state.declared))
            state = PausedState(state.dag_id, bool(state.declared), state.declared)
            lines.append(f"{state.line()}  <- set by this deploy")
        else:
            lines.append(state.line())
    return "\n".join(lines)


def check_declared(api: AirflowApi) -> str:
    """Every listed DAG that declares a state is in it; StepFailed naming each one that is not."""
    states = paused_states(api, [dag["dag_id"] for dag in api.dags()])
    wrong = [s for s in states if s.differs]
    if wrong:
        raise StepFailed("\n".join(
            [f"{len(wrong)} DAG(s) not paused as their file declares: {', '.join(s.dag_id for s in wrong)}; "
             "`make deploy` sets them (or pause/unpause them in the UI)"]
            + [state.line() for state in wrong]))
    declaring = [s for s in states if s.declared is not None]
    return "\n".join([f"{len(declaring)} of {len(states)} DAG(s) declare a paused state; all are in it"]
                     + [state.line() for state in states])


def parsed_release_dags(api: AirflowApi, bundle_path: Path, restarted: bool, switched: dt.datetime,
                        wait: float) -> list[str]:
    """The dag_ids of the release, once the DAG processor has parsed every DAG file of it since the switch
    (the same wait as `make dev`)."""
    from ci.stages.dev import parse_since, release_dag_files, wait_for_parse  # dev imports deploy, which uses this

    files = release_dag_files(bundle_path)
    parsed = wait_for_parse(api, files, parse_since(api, restarted, switched), wait).dags
    return sorted(dag_id for dag_id, dag in parsed.items() if dag["relative_fileloc"] in files)


def apply_after_switch(stage: Stage, platform: Platform, bundle_path: Path, switched: dt.datetime) -> bool:
    """The deploy step: wait for the parse of the release just switched on, then set the declared states."""
    from ci.stages.dev import PARSER_RESTART

    restarted = any(PARSER_RESTART in r.output for r in stage.results if r.name.startswith("ansible-playbook"))

    def step() -> str:
        try:
            api = admin_login(platform)
            return apply_declared(api, parsed_release_dags(api, bundle_path, restarted, switched, PARSE_WAIT_SECONDS))
        except AirflowApiError as exc:
            raise StepFailed(f"{exc}; the release is live, run `make deploy` again to set the DAGs' paused "
                             "states") from exc

    return _shown_step(stage, step)


def _shown_step(stage: Stage, step: Callable[[], str]) -> bool:
    """Run the paused-states step and show its per-DAG lines when it passes (a failure shows them itself)."""
    result = stage.call("DAGs paused as declared", step)
    if result.ok:
        print("\n".join(f"    {line}" for line in result.output.splitlines()))
    return result.ok


def verify_step(stage: Stage, platform: Platform) -> bool:
    """The verify step: every DAG that declares a paused state is in it."""

    def step() -> str:
        try:
            return check_declared(admin_login(platform))
        except AirflowApiError as exc:
            raise StepFailed(f"the DAGs' paused states could not be read: {exc}; check the Airflow API server "
                             "(the infra checks name a stopped service)") from exc

    return _shown_step(stage, step)
