"""`python -m ci dev --env local`: the work tree's dags/ live on the local default, without a commit.

Bundles the work tree's dags/ as a dev release marked with its base commit and a dirty flag, stores it under
dev/ in the artifacts bucket, fetches it back by digest and deploys it with the same playbook, digest checks
and atomic switch as `deploy`. Then it waits until the DAG processor has parsed every DAG file of the release
(through the REST API) and prints each import error as FILE:LINE: message, failing when there is one.

Only the local default takes a dev release: staging and production run commits, and local-prod stands in
for production. A later `make deploy` or `make rollback` replaces a dev release as usual; smoke never writes
a verification record for one, so it can never be promoted.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import re
import subprocess
import sys
import tarfile
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from ci import bundle
from ci.airflow_api import AirflowApi, AirflowApiError, admin_login
from ci.host_exec import AIRFLOW_HOME
from ci.paths import ROOT
from ci.platform import load_for_stage
from ci.runner import Stage, StepFailed
from ci.stages.deploy import deploy_bundle

DEV_ENVS = ("local",)
# What deploy.yml prints when the switch restarted the DAG processor (the dag_bundle role's handler).
PARSER_RESTART = "RUNNING HANDLER [dag_bundle : Restart the DAG processor]"
PARSE_WAIT_SECONDS = 180.0
FRAME = re.compile(r'File "(?P<file>[^"]+)", line (?P<line>\d+)')
# A frame in the release on the host: the dags folder through `current` or a release folder's own path.
RELEASE_FILE = re.compile(rf"^{re.escape(AIRFLOW_HOME)}/(?:current|releases/[^/]+)/dags/(?P<relative>.+)$")
# Airflow's own listing of the DAG files (.airflowignore, safe mode), run apart with a throwaway AIRFLOW_HOME.
_LIST_DAG_FILES = ("import json, sys\nfrom pathlib import Path\nfrom ci.dag_integrity import dag_files\n"
                   "root = Path(sys.argv[1]).resolve()\n"
                   "print(json.dumps([str(p.relative_to(root)) for p in dag_files(root)]))")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """How long to wait for the DAG processor."""
    parser.add_argument("--wait", type=float, default=PARSE_WAIT_SECONDS,
                        help="seconds to wait for the DAG processor to parse the release (default: %(default)s)")


def refusal(env: str) -> str | None:
    """Why env takes no dev release (None for the local default)."""
    if env in DEV_ENVS:
        return None
    why = "it stands in for production" if env == "local-prod" else "it runs committed code only"
    return (f"make dev is for the local default (ENV=local), not {env}: {why}. Commit and push, and the "
            f"pipeline deploys it (`make deploy ENV={env}` deploys a commit)")


def release_dag_files(bundle_path: Path) -> list[str]:
    """The files of the bundle's dags/ that the DAG processor parses, relative to dags/, as Airflow lists them."""
    with tempfile.TemporaryDirectory(prefix="tiny-dev-") as tmp:
        with tarfile.open(bundle_path) as tar:
            tar.extractall(Path(tmp) / "release", filter="data")
        env = {**os.environ, "AIRFLOW_HOME": str(Path(tmp) / "airflow-home"), "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
               "PYTHONPATH": str(ROOT)}
        proc = subprocess.run([sys.executable, "-c", _LIST_DAG_FILES, str(Path(tmp) / "release" / "dags")],
                              capture_output=True, text=True, env=env, cwd=ROOT, check=False)
    if proc.returncode != 0:
        raise StepFailed(f"listing the release's DAG files failed: {proc.stderr.strip()[-300:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def _parsed_at(stamp: str | None) -> dt.datetime | None:
    return dt.datetime.fromisoformat(stamp) if stamp else None


@dataclass
class ParseState:
    """What the DAG processor has recorded since a moment: files parsed, their DAGs and import errors."""

    parsed: set[str] = field(default_factory=set)
    dags: dict[str, dict] = field(default_factory=dict)
    errors: list[dict] = field(default_factory=list)

    def missing(self, files: list[str]) -> list[str]:
        """The files not parsed yet."""
        return [f for f in files if f not in self.parsed]


def parse_state(dags: list[dict], errors: list[dict], since: dt.datetime) -> ParseState:
    """The files parsed at or after `since` (a DAG of theirs was parsed, or their import error recorded), with
    those DAGs (dag_id -> DAG) and those import errors."""
    state = ParseState()
    for dag in dags:
        parsed = _parsed_at(dag.get("last_parsed_time"))
        if parsed and parsed >= since:
            state.parsed.add(dag["relative_fileloc"])
            state.dags[dag["dag_id"]] = dag
    for error in errors:
        stamp = _parsed_at(error.get("timestamp"))
        if stamp and stamp >= since:
            state.parsed.add(error["filename"])
            state.errors.append(error)
    state.errors.sort(key=lambda e: e["filename"])
    return state


def import_error_line(error: dict) -> str:
    """`dags/FILE:LINE: message` of one import error: the deepest frame inside the release (a tenant file's
    loader or the shared library as well as the DAG file), its last traceback line as the message."""
    trace = error.get("stack_trace") or error.get("stacktrace") or ""
    where = f"dags/{error['filename']}"
    for match in FRAME.finditer(trace):
        inside = RELEASE_FILE.match(match["file"])
        if inside:
            where = f"dags/{inside['relative']}:{match['line']}"
    lines = [line.strip() for line in trace.strip().splitlines() if line.strip()]
    return f"{where}: {lines[-1] if lines else 'import failed'}"


def wait_for_parse(api: AirflowApi, files: list[str], since: dt.datetime, wait: float,
                   poll: float = 2.0) -> ParseState:
    """Poll the API until every file has been parsed since `since`; AirflowApiError naming the rest at the
    deadline."""
    deadline = time.monotonic() + wait
    while True:
        state = parse_state(api.dags(), api.import_errors(), since)
        missing = state.missing(files)
        if not missing:
            return state
        if time.monotonic() > deadline:
            raise AirflowApiError(
                f"the DAG processor has not parsed {', '.join(missing)} within {wait:.0f} s of the switch (a file "
                "that defines no DAG is never reported): see `journalctl -u airflow-dag-processor` on the host")
        time.sleep(poll)


def parse_since(api: AirflowApi, restarted: bool, deployed_at: dt.datetime) -> dt.datetime:
    """From when the DAG processor's results are the release's: the end of the deploy when it restarted the
    processor (the old one is gone by then; the local hosts share this machine's clock); otherwise the release
    was live already, and the processor that runs now has parsed nothing else since it started."""
    if restarted:
        return deployed_at
    job = api.running_dag_processor()
    return _parsed_at(job["start_date"]) if job and job.get("start_date") else deployed_at


def describe(state: ParseState, files: list[str], seconds: float) -> str:
    """One line for the parse, then one per DAG of the release (paused ones say how to run them)."""
    lines = [f"{len(files)} DAG file(s) parsed within {seconds:.0f} s of the deploy: {len(state.dags)} DAG(s), "
             f"{len(state.errors)} import error(s)"]
    for dag_id, dag in sorted(state.dags.items()):
        paused = "  paused (make run unpauses it)" if dag.get("is_paused") else ""
        lines.append(f"{dag_id:<40} {dag['relative_fileloc']}{paused}")
    return "\n".join(lines)


def run(args: argparse.Namespace) -> int:
    """Refuse non-local, bundle the work tree, store, fetch back, deploy, wait for the parse."""
    stage = Stage("dev")
    reason = refusal(args.env)
    if reason:
        stage.fail("environment", reason)
        return stage.finish()
    base: list[str] = []

    def work_tree() -> str:
        try:
            base.append(bundle.resolve("HEAD"))
            changes = bundle.uncommitted_changes()
        except bundle.BundleError as exc:
            raise StepFailed(str(exc)) from exc
        if not changes:
            return f"base {base[0][:12]}: no uncommitted change under dags/ (the release holds HEAD's DAGs)"
        return "\n".join([f"base {base[0][:12]} plus {len(changes)} uncommitted change(s) under dags/:"]
                         + [f"  {change}" for change in changes])

    if not stage.call("work tree", work_tree).ok:
        return stage.finish()
    print("\n".join(f"  {line}" for line in stage.results[-1].output.splitlines()))
    platform = load_for_stage(stage, args.env)
    if platform is None:
        return stage.finish()
    s3 = platform.client("s3")
    bucket = platform.bucket("artifacts")
    fetched: list[bundle.DevBundle] = []
    files: list[str] = []

    def build_and_store() -> str:
        try:
            built = bundle.build_dev(base[0])
            stored = bundle.upload_dev(s3, bucket, built)
            fetched.append(bundle.fetch_dev(s3, bucket, built))
        except bundle.BundleError as exc:
            raise StepFailed(str(exc)) from exc
        files.extend(release_dag_files(fetched[0].path))
        verb = "stored" if stored else "already stored"
        return (f"{built.release} sha256 {built.digest} {verb} in s3://{bucket}/{built.key}\n"
                f"DAG files: {', '.join(files) or 'none'}")

    if not stage.call("dev bundle", build_and_store).ok:
        return stage.finish()
    print("\n".join(f"  {line}" for line in stage.results[-1].output.splitlines()))
    if deploy_bundle(stage, platform, fetched[0]) != 0:
        return stage.finish()
    switched = dt.datetime.now(dt.UTC)
    restarted = any(PARSER_RESTART in r.output for r in stage.results if r.name.startswith("ansible-playbook"))

    def parsed() -> str:
        try:
            api = admin_login(platform)
            state = wait_for_parse(api, files, parse_since(api, restarted, switched), args.wait)
        except AirflowApiError as exc:
            raise StepFailed(str(exc)) from exc
        if state.errors:
            raise StepFailed("\n".join(
                [f"{len(state.errors)} import error(s) in {fetched[0].release}: fix them and run `make dev` again"]
                + [import_error_line(error) for error in state.errors]))
        return describe(state, files, (dt.datetime.now(dt.UTC) - switched).total_seconds())

    if stage.call("parsed by the DAG processor", parsed).ok:
        print("\n".join(f"  {line}" for line in stage.results[-1].output.splitlines()))
    return stage.finish()
