"""The deployer's policy (ansible/iam/deployer-policy.json) is what provision needs: every stage on the local
cloud runs as a deployer with exactly this file (moto enforces IAM), and one action fewer stops provision with
AWS's AccessDenied naming that action ("User: ARN is not authorized to perform: ACTION", IAM User Guide,
"Troubleshoot access denied error messages")."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
from conftest import ENV

from ci.localcloud import settings
from ci.localcloud.endpoint import Moto, free_port
from ci.paths import ROOT

POLICY = ROOT / "ansible" / "iam" / "deployer-policy.json"
# Provision's first write: without it nothing at all can be built.
REMOVED = "ec2:CreateVpc"


@pytest.mark.skipif(ENV != "local", reason="removes a permission from a private local cloud's deployer only")
def test_provision_fails_naming_the_one_action_the_policy_lacks(tmp_path, monkeypatch):
    policy = json.loads(POLICY.read_text())
    found = False
    for statement in policy["Statement"]:
        actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
        if REMOVED in actions:
            statement["Action"] = [a for a in actions if a != REMOVED]
            found = True
    assert found, f"{REMOVED} is not in {POLICY}: pick an action provision needs"
    policy["Statement"] = [s for s in policy["Statement"] if s["Action"]]
    lacking = tmp_path / "deployer-policy.json"
    lacking.write_text(json.dumps(policy))

    state_dir = tmp_path / "cloud"
    port = free_port()
    env = {**os.environ, "TINY_LOCALCLOUD_DIR": str(state_dir), "TINY_MOTO_HOST": "127.0.0.1",
           "TINY_MOTO_PORT": str(port), "TINY_DEPLOYER_POLICY": str(lacking)}
    monkeypatch.setenv("TINY_DEPLOYER_POLICY", str(lacking))
    moto = Moto(state_dir)
    moto.up("127.0.0.1", port)
    try:
        run = subprocess.run([sys.executable, "-m", "ci", "provision", "--env", "local",
                              "-e", f"outputs_dir={tmp_path / 'outputs'}"], cwd=ROOT, env=env,
                             capture_output=True, text=True, timeout=600, check=False)
    finally:
        moto.down()
    out = run.stdout + run.stderr
    assert run.returncode != 0, out[-3000:]
    assert f"user/tiny-analytics-deployer is not authorized to perform: {REMOVED}" in out, out[-3000:]
    denied = [json.loads(line) for line in settings.iam_decisions(state_dir).read_text().splitlines()]
    assert {d["action"] for d in denied if not d["allowed"]} == {REMOVED}, denied[-5:]
