"""configure (site.yml) stops before touching a host when provision's outputs lack what a tenant needs, naming
what is missing and the command that makes it."""

from __future__ import annotations

import os
import subprocess

import pytest
import yaml

from ci.ansible import ANSIBLE_ENV, playbook_argv, tool_path_env
from ci.paths import DAGS, ROOT
from tiny_etl.tenant import tenant_files

pytestmark = pytest.mark.slow  # runs ansible-playbook: `make unit-slow`, not the push loop

TENANTS = sorted(path.stem for path in tenant_files(DAGS / "tenants"))
ROLES = "arn:aws:iam::123456789012:role"
OUTPUTS = {"deploy_env": "local", "aws_region": "us-east-1", "db_endpoint": "db.internal", "db_port": 5432,
           "buckets": {"raw": "r", "logs": "l", "artifacts": "a"},
           "platform_role_arn": f"{ROLES}/tiny-analytics-local-platform",
           "tenant_role_arns": {t: f"{ROLES}/tiny-analytics-local/tenants/tiny-analytics-local-tenant-{t}"
                                for t in TENANTS}}


def _configure(tmp_path, outputs: dict) -> str:
    path = tmp_path / "outputs.yml"
    path.write_text(yaml.safe_dump(outputs))
    argv = playbook_argv("local", "site.yml", [f"platform_outputs_file={path}"])
    argv[argv.index("-i") + 1] = "localhost,"  # no host is reached: the first play runs on the control node
    env = {**os.environ, **ANSIBLE_ENV, **tool_path_env(), "AWS_ENDPOINT_URL": "http://127.0.0.1:9",
           "AWS_ACCESS_KEY_ID": "none", "AWS_SECRET_ACCESS_KEY": "none"}
    proc = subprocess.run([*argv, "-e", "deploy_env=local", "-e", "aws_region=us-east-1"], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=120, check=False)
    assert proc.returncode != 0
    return " ".join((proc.stdout + proc.stderr).split())


@pytest.mark.parametrize("missing", ["platform", TENANTS[-1]])
def test_configure_without_a_data_role_names_it_and_asks_for_provision(tmp_path, missing):
    outputs = yaml.safe_load(yaml.safe_dump(OUTPUTS))
    if missing == "platform":
        del outputs["platform_role_arn"]
    else:
        del outputs["tenant_role_arns"][missing]
    out = _configure(tmp_path, outputs)
    who = "the platform" if missing == "platform" else missing
    assert f"provision's outputs name no data role for {who}: run `make provision ENV=local`" in out, out[-3000:]
    assert "Read the secrets" not in out, "configure went on past the missing role"
