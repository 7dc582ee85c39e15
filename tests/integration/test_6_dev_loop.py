"""The DAG author's inner loop on the running local default: `make dev`, `make run`, and `make deploy` naming
what it leaves out.

The work tree is a throwaway clone of this repository (the checkout's own work tree is left alone) with an
edited DAG, two probe DAGs (one that succeeds, one whose task fails) and later a file that does not import.
The stages run in-process as users run them (`python -m ci dev|run|deploy`), with their reports in a temporary
folder. The tests run in file order; at the end the checkout's committed HEAD is deployed again and the probe
DAGs are deleted from Airflow, so the local default is left as the pipeline left it.
"""

from __future__ import annotations

import contextlib
import functools
import io
import itertools
import json
import re
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from platform_probe import admin_api

from ci import bundle
from ci.airflow_api import AirflowApiError
from ci.cli import main
from ci.host_exec import AIRFLOW_HOME, airflow_host
from ci.paths import ROOT
from ci.platform import Platform
from ci.runner import Stage

pytestmark = [pytest.mark.slow, pytest.mark.usefixtures("local_cloud")]



def deployed_record() -> dict:
    """The local default's record of its live release (kept in the environment's artifacts bucket)."""
    return Platform.load("local").read_record("deployed") or {}
PROBE_DAGS = ("dev_loop_ok", "dev_loop_failing")
PROBE = '''"""Probe DAGs of the dev-loop test: one that succeeds, one whose second task fails."""

from __future__ import annotations

import pendulum
from airflow.sdk import dag, task

ARGS = {"owner": "data-platform", "retries": 0}


@dag(dag_id="dev_loop_ok", schedule=None, start_date=pendulum.datetime(2026, 1, 1, tz="UTC"), default_args=ARGS)
def dev_loop_ok() -> None:
    @task
    def hello() -> str:
        return "hello"

    hello()


@dag(dag_id="dev_loop_failing", schedule=None, start_date=pendulum.datetime(2026, 1, 1, tz="UTC"), default_args=ARGS)
def dev_loop_failing() -> None:
    @task
    def prepare() -> int:
        return 1

    @task
    def explode(value: int) -> None:
        print("DEV-LOOP-MARKER: printed by the task before it fails")
        raise ValueError(f"dev loop probe failed on purpose ({value})")

    explode(prepare())


dev_loop_ok()
dev_loop_failing()
'''
BROKEN = '"""A DAG file that does not import."""\nfrom airflow.sdk import dag\n\ndef broken(:\n    pass\n'
TAGS = 'tags=["platform", "s3", "inventory"]'


def git(repo: Path, *args: str) -> str:
    """git in repo (the clone), its output."""
    return subprocess.run(["git", "-C", str(repo), *args], capture_output=True, text=True, check=True).stdout.strip()


def stage(*argv: str, reports: Path, tree: Path | None = None, terminal: bool = False) -> tuple[int, str]:
    """`python -m ci ARGV` in-process: reports in `reports`, the work tree `tree` (None: this checkout), stdout a
    terminal when `terminal`. Its exit code and output (echoed for the CI log)."""
    out = io.StringIO()
    if terminal:
        out.isatty = lambda: True
    with pytest.MonkeyPatch.context() as patch, contextlib.redirect_stdout(out):
        for module in ("deploy", "dev", "run"):
            patch.setattr(f"ci.stages.{module}.Stage", functools.partial(Stage, reports_dir=reports))
        if tree is not None:
            patch.setattr(bundle, "ROOT", tree)
        patch.setenv("NO_COLOR", "1")
        started = time.monotonic()
        code = main(list(argv))
    text = out.getvalue()
    print(f"\n$ python -m ci {' '.join(argv)}  (exit {code}, {time.monotonic() - started:.0f} s)")
    print("\n".join(line for line in text.splitlines() if not line.startswith(("TASK ", "ok: ", "changed: ",
                                                                                  "skipping: ", "included: "))))
    return code, text


def restore_head(reports: Path) -> None:
    """Deploy this checkout's HEAD unless it is live already; delete the probe DAGs; wait until the DAG processor
    has dropped the import error of the broken file."""
    deployed = deployed_record()
    if deployed.get("dev") or deployed.get("sha") != bundle.resolve("HEAD"):
        code, out = stage("deploy", "--env", "local", reports=reports)
        assert code == 0, out
    api = admin_api()
    for dag_id in PROBE_DAGS:
        with contextlib.suppress(AirflowApiError):  # never parsed, or deleted already
            api.call("DELETE", f"/dags/{dag_id}")
    deadline = time.monotonic() + 90
    while any(e["filename"].startswith("dev_loop") for e in api.import_errors()):
        assert time.monotonic() < deadline, "the probe's import error is still recorded 90 s after HEAD's deploy"
        time.sleep(2)


@pytest.fixture(scope="module")
def reports(tmp_path_factory) -> Path:
    """Where the stages of this module write their JUnit reports (never reports/)."""
    return tmp_path_factory.mktemp("dev-loop-reports")


@pytest.fixture(scope="module")
def tree(tmp_path_factory, reports) -> Iterator[Path]:
    """A clone of this repository's HEAD: the work tree a DAG author edits. The local default gets this
    checkout's HEAD back at the end."""
    clone = tmp_path_factory.mktemp("dev-loop") / "repo"
    subprocess.run(["git", "clone", "-q", "--no-hardlinks", str(ROOT), str(clone)], check=True)
    try:
        yield clone
    finally:
        restore_head(reports)


def test_dev_makes_an_edit_live_without_a_commit(tree, reports):
    inventory = tree / "dags" / "raw_bucket_inventory.py"
    assert TAGS in inventory.read_text(), "the DAG this test edits changed: update TAGS"
    inventory.write_text(inventory.read_text().replace(TAGS, 'tags=["platform", "s3", "inventory", "dev-loop-edit"]'))
    (tree / "dags" / "dev_loop_probe.py").write_text(PROBE)
    code, out = stage("dev", "--env", "local", reports=reports, tree=tree)
    assert code == 0, out
    assert re.search(r"modified\s+dags/raw_bucket_inventory\.py", out) and re.search(
        r"untracked\s+dags/dev_loop_probe\.py", out), out
    head = git(tree, "rev-parse", "HEAD")
    deployed = deployed_record()
    assert re.fullmatch(rf"dev-{head[:12]}-[0-9a-f]{{12}}", deployed["sha"])
    assert (deployed["dev"], deployed["base_sha"], deployed["dirty"]) == (True, head, True)
    dags = {d["dag_id"]: d for d in admin_api().dags()}
    assert "dev-loop-edit" in {t["name"] for t in dags["raw_bucket_inventory"]["tags"]}
    assert set(PROBE_DAGS) <= set(dags)
    host = airflow_host("local")
    with host.sudo():
        assert host.file(f"{AIRFLOW_HOME}/current").linked_to == f"{AIRFLOW_HOME}/releases/{deployed['sha']}"
        marker = json.loads(host.file(f"{AIRFLOW_HOME}/current/{bundle.DEV_MARKER}").content_string)
    assert (marker["base_sha"], marker["dirty"]) == (head, True)


def test_a_failing_run_exits_non_zero_and_prints_the_failed_tasks_log(reports):
    code, out = stage("run", "--env", "local", "--dag", "dev_loop_failing", reports=reports)
    assert code != 0, out
    assert "reason: dev_loop_failing run run__" in out and "failed in explode" in out, out
    assert "log of explode (try 1), last " in out, out
    log = out[out.index("log of explode (try 1)"):]
    assert "DEV-LOOP-MARKER: printed by the task before it fails" in log
    assert "ValueError: dev loop probe failed on purpose (1)" in log
    # from the log store the UI reads: the task logs' S3 bucket (remote logging), not a file on the host
    assert re.search(r"s3://\S+-logs-\S+/dag_id=dev_loop_failing/run_id=run__\S+/task_id=explode/attempt=1\.log", log)


def test_a_passing_run_exits_0_with_one_line_per_state_change_on_a_terminal(reports):
    code, out = stage("run", "--env", "local", "--dag", "dev_loop_ok", reports=reports, terminal=True)
    assert code == 0, out
    assert "unpaused dev_loop_ok" in out
    changes = re.findall(r"^\d\d:\d\d:\d\d  (\S+)\s+(\S+)$", out, re.MULTILINE)
    hello = [state for task, state in changes if task == "hello"]
    run = [state for task, state in changes if task == "(run)"]
    assert hello and hello[-1] == "success" and run and run[-1] == "success", out
    assert all(a != b for states in (hello, run) for a, b in itertools.pairwise(states)), changes


def test_dev_prints_import_errors_with_file_and_line(tree, reports):
    (tree / "dags" / "dev_loop_broken.py").write_text(BROKEN)
    code, out = stage("dev", "--env", "local", reports=reports, tree=tree)
    assert code != 0, out
    assert "dags/dev_loop_broken.py:4: SyntaxError: invalid syntax" in out, out
    assert re.search(r"reason: 1 import error\(s\) in dev-[0-9a-f]{12}-[0-9a-f]{12}: fix them", out), out


def test_deploy_names_the_uncommitted_files_and_replaces_the_dev_release(tree, reports):
    code, out = stage("deploy", "--env", "local", reports=reports, tree=tree)
    assert code == 0, out
    head = git(tree, "rev-parse", "HEAD")
    assert f"it deploys commit {head[:12]}, not the working tree" in out
    assert re.search(r"untracked\s+dags/dev_loop_broken\.py", out), out
    deployed = deployed_record()
    assert deployed["sha"] == head and "dev" not in deployed


def test_a_release_with_a_tenant_the_environment_lacks_is_refused_before_it_goes_live(tree, reports):
    """A new tenant file without provision and configure has no credentials or connections on the host: every task
    of its DAGs would fail. The release is refused before `current` moves, naming what is missing and what to run."""
    live = deployed_record()["sha"]
    acme = (tree / "dags" / "tenants" / "acme.yml").read_text()
    new_tenant = tree / "dags" / "tenants" / "initech.yml"
    new_tenant.write_text(acme.replace("tenant: acme", "tenant: initech"))
    try:
        code, out = stage("dev", "--env", "local", reports=reports, tree=tree)
    finally:
        new_tenant.unlink()
    assert code != 0, out
    flat = " ".join(out.split())
    assert "without their connections on local-airflow-1 (AIRFLOW_CONN_AWS_INITECH, AIRFLOW_CONN_WAREHOUSE_INITECH)" \
        in flat, out
    assert "run `make provision ENV=local` and `make configure ENV=local` first" in flat, out
    assert deployed_record()["sha"] == live
