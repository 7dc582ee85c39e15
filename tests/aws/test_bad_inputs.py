"""Bad inventory variables are refused before any AWS call, naming the variable and what is expected.

Each case runs ansible/provision.yml on a copy of the local inventory with one variable broken and the
AWS endpoint pointed at a closed port: reaching any API task would fail differently (and later).
"""

from __future__ import annotations

import os
import subprocess
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import yaml

from ci.ansible import ANSIBLE_ENV, playbook_argv
from ci.paths import ROOT

GOOD_KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIKkq0dP5VhfNRQ0rq2vEB8uF3bS8qU2gH5Z1xA7mC3dE fixture"
FIRST_API_TASK = "Read the account id"
DROP = object()

CASES = {
    "missing region": ({"aws_region": DROP}, "missing required arguments: aws_region"),
    "malformed region": ({"aws_region": "mars-1"}, "aws_region must be an AWS region name such as us-east-1"),
    "empty admin_cidrs": ({"admin_cidrs": []}, "admin_cidrs must list the IPv4 CIDRs"),
    "invalid CIDR": ({"admin_cidrs": ["10.0.0.300/24"]}, 'admin_cidrs must list the IPv4 CIDRs (e.g. 203.0.113.0/24)'),
    "world CIDR": ({"admin_cidrs": ["0.0.0.0/0"]}, "It may not be empty or contain 0.0.0.0/0"),
    "missing public key": ({"ssh_public_key": DROP}, "missing required arguments: ssh_public_key"),
    "malformed public key": ({"ssh_public_key": "my-key"}, "ssh_public_key must be an OpenSSH public key line"),
    "unknown instance class": ({"db_instance_class": "db.x9.huge"},
                               "value of db_instance_class must be one of: db.t4g.micro"),
    "unknown instance type": ({"airflow_instance_type": "m9.huge"},
                              "value of airflow_instance_type must be one of: t4g.small"),
    "invalid VPC CIDR": ({"vpc_cidr": "10.42.0.0/33"}, "vpc_cidr, public_subnet_cidr and the two private_subnet_cidrs"),
    "production without deletion protection": ({"deploy_env": "production"},
                                               "production needs db_deletion_protection: true"),
    # <project>-<env>-tenant-<tenant> over IAM's 64 characters for the tenants of dags/tenants/
    "tenant role name too long": ({"project": "tiny-analytics-with-a-name-long-enough-for-iam"},
                                  "A tenant's IAM role (tiny-analytics-with-a-name-long-enough-for-iam-local-tenant-"
                                  "<tenant>) has at most 64 characters (IAM's limit)"),
}


def _run(case: str, tmp: Path) -> subprocess.CompletedProcess:
    changes, _ = CASES[case]
    variables = yaml.safe_load((ROOT / "inventory" / "local" / "group_vars" / "all.yml").read_text())
    variables["ssh_public_key"] = GOOD_KEY
    for key, value in changes.items():
        if value is DROP:
            variables.pop(key)
        else:
            variables[key] = value
    inventory = tmp / case.replace(" ", "_")
    (inventory / "group_vars").mkdir(parents=True)
    (inventory / "group_vars" / "all.yml").write_text(yaml.safe_dump(variables))
    (inventory / "hosts.yml").write_text((ROOT / "inventory" / "local" / "hosts.yml").read_text())
    argv = playbook_argv("local", "provision.yml", [])
    argv[argv.index("-i") + 1] = str(inventory)
    # A dead endpoint through the SDK's own setting: a call that slipped past validation fails, never reaches AWS
    env = {**os.environ, **ANSIBLE_ENV, "AWS_ACCESS_KEY_ID": "none", "AWS_SECRET_ACCESS_KEY": "none",
           "AWS_ENDPOINT_URL": "http://127.0.0.1:9"}
    return subprocess.run(argv, cwd=ROOT, env=env, capture_output=True, text=True, timeout=300, check=False)


@pytest.fixture(scope="module")
def runs(tmp_path_factory) -> dict[str, subprocess.CompletedProcess]:
    tmp = tmp_path_factory.mktemp("bad-inventories")
    with ThreadPoolExecutor(max_workers=4) as pool:
        return dict(zip(CASES, pool.map(lambda c: _run(c, tmp), CASES), strict=True))


@pytest.mark.parametrize("case", sorted(CASES))
def test_bad_variable_refused_before_any_api_call(runs, case):
    run, expected = runs[case], CASES[case][1]
    out = " ".join((run.stdout + run.stderr).split())
    assert run.returncode != 0
    assert expected in out, out[-3000:]
    assert FIRST_API_TASK not in out, "an AWS call was attempted before the inputs were validated"
