"""`python -m ci run --env ENV --dag DAG_ID [--day YYYY-MM-DD]`: run one DAG from the terminal.

Triggers a run through the Airflow REST API, shows task states as they change (one line per change on a
terminal, quiet otherwise) and exits 0 only when the run succeeds. When it fails, the failed tasks' log tails
are printed from the task log store the UI reads (the API's task log endpoint).

Airflow 3.3 pauses a DAG when it first appears, and a paused DAG's run never starts. On the local default
`run` unpauses the DAG and says so (from then on its schedule runs too, as after unpausing it in the UI);
on any other environment it refuses, since unpausing changes what that environment runs on its schedule.
"""

from __future__ import annotations

import argparse
import datetime as dt
import difflib
import sys
import time
from collections.abc import Callable

from ci.airflow_api import AirflowApi, AirflowApiError, admin_login
from ci.platform import load_for_stage
from ci.runner import Stage, StepFailed
from ci.stages.dev import DEV_ENVS

RUN_WAIT_SECONDS = 3600.0
LOG_TAIL_LINES = 40
FINAL_STATES = ("success", "failed")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Which DAG, which day."""
    parser.add_argument("--dag", default="", help="the DAG id to run")
    parser.add_argument("--day", default="", help="the day (`ds`) the run reads, YYYY-MM-DD (default: yesterday)")
    parser.add_argument("--wait", type=float, default=RUN_WAIT_SECONDS,
                        help="seconds to wait for the run to end (default: %(default)s)")


def parse_day(text: str, today: dt.date | None = None) -> dt.date:
    """DAY as a date: yesterday when empty; StepFailed naming the expected form otherwise."""
    if not text.strip():
        return (today or dt.date.today()) - dt.timedelta(days=1)
    try:
        return dt.date.fromisoformat(text.strip())
    except ValueError as exc:
        raise StepFailed(f"DAY must be a date as YYYY-MM-DD (e.g. {dt.date.today().isoformat()}), "
                         f"not {text!r}") from exc


def task_key(ti: dict) -> str:
    """A task instance's name in the output: task_id, with [map_index] for a mapped task's instance."""
    index = ti.get("map_index", -1)
    return ti["task_id"] if index is None or index < 0 else f"{ti['task_id']}[{index}]"


def state_changes(before: dict[str, str | None], instances: list[dict]) -> list[tuple[str, str]]:
    """(task, new state) for each task instance whose state differs from `before`; `before` is updated.
    A task first seen without a state is no change."""
    changes = []
    for ti in instances:
        key, state = task_key(ti), ti.get("state")
        if before.get(key) != state:
            before[key] = state
            if state is not None:
                tries = ti.get("try_number") or 0
                changes.append((key, f"{state} (try {tries})" if tries > 1 else state))
    return changes


def watch_run(api: AirflowApi, dag_id: str, run_id: str, wait: float, show: Callable[[str], None] | None,
              poll: float = 2.0) -> tuple[str, list[dict]]:
    """Poll the run until it succeeds or fails; `show` gets one line per run or task state change. The final
    state and task instances; AirflowApiError when it is still going at the deadline."""
    deadline = time.monotonic() + wait
    seen: dict[str, str | None] = {}
    width = 0
    while True:
        run_state = api.dag_run(dag_id, run_id)["state"]
        instances = api.task_instances(dag_id, run_id)
        changes = state_changes(seen, [{"task_id": "(run)", "state": run_state}, *instances])
        width = max([width] + [len(task) for task, _ in changes])
        for task, state in changes:
            if show:
                show(f"{time.strftime('%H:%M:%S')}  {task:<{width}}  {state}")
        if run_state in FINAL_STATES:
            return run_state, instances
        if time.monotonic() > deadline:
            raise AirflowApiError(f"{dag_id} run {run_id} still {run_state} after {wait:.0f} s")
        time.sleep(poll)


def log_lines(entries: list) -> list[str]:
    """Text lines of a task log as the API returns it (structured entries: time, level, event and the error's
    traceback; or plain strings), without the UI's ::group:: folding markers."""
    lines: list[str] = []
    for entry in entries:
        if isinstance(entry, str):
            lines.extend(entry.splitlines())
            continue
        if not isinstance(entry, dict):
            continue
        event = str(entry.get("event") or "")
        if event == "::endgroup::":
            continue
        event = event.removeprefix("::group::")
        stamp = str(entry.get("timestamp") or "")[11:19]
        level = str(entry.get("level") or "").upper()
        lines.extend(" ".join(part for part in (stamp, level, event) if part).splitlines() or [""])
        for error in entry.get("error_detail") or []:
            lines.append("Traceback (most recent call last):")
            for frame in error.get("frames") or []:
                lines.append(f'  File "{frame.get("filename")}", line {frame.get("lineno")}, in {frame.get("name")}')
            lines.append(f"{error.get('exc_type')}: {error.get('exc_value')}")
    return lines


def failure_report(api: AirflowApi, dag_id: str, run_id: str, instances: list[dict]) -> list[str]:
    """For each failed task instance: a heading and the last lines of its log (or why there is none)."""
    report = []
    for ti in instances:
        if ti.get("state") != "failed":
            continue
        tries = ti.get("try_number") or 1
        try:
            tail = log_lines(api.task_log(dag_id, run_id, ti["task_id"], tries, ti.get("map_index", -1)))
        except AirflowApiError as exc:
            tail = [f"(no log: {exc})"]
        tail = tail[-LOG_TAIL_LINES:]
        report.append(f"log of {task_key(ti)} (try {tries}), last {len(tail)} lines:")
        report.extend(f"  {line}" for line in tail)
    return report


def run(args: argparse.Namespace) -> int:
    """Check the arguments and the DAG, trigger, watch, report."""
    stage = Stage("run")
    wanted: dict = {}

    def arguments() -> str:
        if not args.dag.strip():
            raise StepFailed("no DAG given: `make run DAG=<dag_id>` (the DAG ids are in the UI and in "
                             "`make dev`'s output)")
        wanted["dag_id"], wanted["day"] = args.dag.strip(), parse_day(args.day)
        return f"{wanted['dag_id']} for {wanted['day']}"

    if not stage.call("arguments", arguments).ok:
        return stage.finish()
    platform = load_for_stage(stage, args.env)
    if platform is None:
        return stage.finish()
    dag_id, day = wanted["dag_id"], wanted["day"]
    api: list[AirflowApi] = []

    def dag() -> str:
        try:
            api.append(admin_login(platform))
            known = {d["dag_id"]: d for d in api[0].dags()}
            if dag_id not in known:
                close = difflib.get_close_matches(dag_id, list(known), n=3)
                hint = f" (did you mean {', '.join(close)}?)" if close else ""
                raise StepFailed(f"no DAG {dag_id} on {args.env}{hint}: `make dev` deploys your work tree's DAGs to "
                                 "the local default")
            if not known[dag_id]["is_paused"]:
                return f"{dag_id} is not paused"
            if args.env not in DEV_ENVS:
                raise StepFailed(f"{dag_id} is paused on {args.env}, and a paused DAG's run never starts: unpause it "
                                 "in the UI first (its schedule then runs too); `make run` unpauses DAGs only on "
                                 "the local default")
            api[0].unpause(dag_id)
        except AirflowApiError as exc:
            raise StepFailed(str(exc)) from exc
        return (f"unpaused {dag_id}: Airflow pauses a new DAG and a paused DAG's run never starts (its schedule "
                "runs from now on too; pause it again in the UI)")

    def trigger() -> str:
        try:
            api[0].start_run(dag_id, wanted["run_id"], day)
        except AirflowApiError as exc:
            raise StepFailed(str(exc)) from exc
        return f"{dag_id} run {wanted['run_id']} for {day}: {api[0].base_url}/dags/{dag_id}/runs/{wanted['run_id']}"

    def wait() -> str:
        show = print if sys.stdout.isatty() else None
        try:
            state, instances = watch_run(api[0], dag_id, wanted["run_id"], args.wait, show)
            summary = ", ".join(f"{task_key(ti)}={ti['state']}" for ti in sorted(instances, key=task_key))
            if state == "success" and not instances:
                raise StepFailed(f"{dag_id} run {wanted['run_id']} ran no task: is {day} before the DAG's "
                                 "start_date?")
            if state != "success":
                failed = [task_key(ti) for ti in instances if ti.get("state") == "failed"] or ["no task"]
                retry = (f"`make dev`, then `make run DAG={dag_id}` again" if args.env in DEV_ENVS
                         else "commit the fix and let the pipeline deploy it")
                raise StepFailed("\n".join([
                    f"{dag_id} run {wanted['run_id']} failed in {', '.join(failed)}: fix it (its log is above), "
                    f"{retry}", f"task states: {summary}",
                    *failure_report(api[0], dag_id, wanted["run_id"], instances)]))
        except AirflowApiError as exc:
            raise StepFailed(str(exc)) from exc
        return f"{dag_id} run {wanted['run_id']} succeeded: {summary}"

    wanted["run_id"] = f"run__{time.strftime('%Y%m%dT%H%M%S')}"
    for name, step in (("DAG", dag), ("trigger", trigger), ("wait for the run", wait)):
        result = stage.call(name, step)
        if not result.ok:
            break
        print("\n".join(f"    {line}" for line in result.output.splitlines()))
    return stage.finish()
