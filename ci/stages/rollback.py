"""`python -m ci rollback --env ENV`: the hosts return to the release deployed before the current one."""

from __future__ import annotations

import argparse

from ci.ansible import run_playbook_stage
from ci.host_exec import AIRFLOW_HOME, airflow_host
from ci.platform import load_for_stage
from ci.promotion import now
from ci.runner import Stage
from ci.stages.deploy import DEPLOYED


def current_release(env: str) -> dict:
    """The release `current` points at on env's Airflow host: its commit and bundle digest ("" before any
    deploy)."""
    host = airflow_host(env)
    with host.sudo():  # Airflow's home is closed to the login user
        target = host.file(f"{AIRFLOW_HOME}/current").linked_to
        marker = host.file(f"{AIRFLOW_HOME}/current/BUNDLE_SHA256")
        digest = marker.content_string.strip() if marker.exists else ""  # the empty first release has none
    return {"sha": target.rsplit("/", 1)[-1], "sha256": digest}


def run(args: argparse.Namespace) -> int:
    """ansible/rollback.yml, then record which release is live (what verify expects)."""
    stage = Stage("rollback")
    platform = load_for_stage(stage, args.env)
    if platform is None:
        return stage.finish()
    if run_playbook_stage("rollback", args.env, "rollback.yml", [], stage=stage) == 0:

        def record() -> str:
            live = {**current_release(args.env), "deployed_at": now(), "rolled_back": True}
            platform.write_record(DEPLOYED, live)
            return f"live release {live['sha']} sha256 {live['sha256']}"

        stage.call("record the live release", record)
    return stage.finish()
