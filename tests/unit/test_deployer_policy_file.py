"""ansible/iam/deployer-policy.json, the deployer's least privilege: every action named (no wildcard), the
project's buckets, parameters and roles only where AWS scopes by resource; and the form moto evaluates keeps
every action (ci.localcloud.policy_relaxation.for_moto)."""

from __future__ import annotations

import json
import re

from ci.localcloud.policy_relaxation import for_moto
from ci.paths import ROOT

POLICY = json.loads((ROOT / "ansible" / "iam" / "deployer-policy.json").read_text())


def _list(value: str | list[str]) -> list[str]:
    return value if isinstance(value, list) else [value]


def test_every_action_is_named_and_allowed_only():
    assert POLICY["Version"] == "2012-10-17"
    sids = [s["Sid"] for s in POLICY["Statement"]]
    assert len(sids) == len(set(sids)), sids
    for statement in POLICY["Statement"]:
        assert statement["Effect"] == "Allow" and "NotAction" not in statement and "NotResource" not in statement
        for action in _list(statement["Action"]):
            assert re.fullmatch(r"[a-z0-9-]+:[A-Z][A-Za-z0-9]+", action), f"{statement['Sid']}: {action!r}"


def test_data_and_secrets_are_the_project_s_only():
    scoped = {"s3": r"arn:\*:s3:::tiny-analytics-[^*/]*\*(/\*)?",
              "ssm": r"arn:\*:ssm:\*:\*:parameter/tiny-analytics/\*",
              "iam": r"arn:\*:iam::\*:((role|instance-profile)/tiny-analytics-\*"
                     r"|role/aws-service-role/rds\.amazonaws\.com/AWSServiceRoleForRDS)"}
    # Actions for which AWS has no resource-level permission: the only ones these services may allow on "*".
    unscoped_in_aws = {"s3:ListAllMyBuckets", "ssm:DescribeParameters", "iam:ListRoles", "iam:ListInstanceProfiles",
                       "iam:ListAccountAliases"}
    for statement in POLICY["Statement"]:
        services = {a.split(":")[0] for a in _list(statement["Action"])}
        assert len(services) == 1, f"{statement['Sid']}: one service a statement ({services})"
        (service,) = services
        if service in scoped and statement["Resource"] != "*":
            for resource in _list(statement["Resource"]):
                assert re.fullmatch(scoped[service], resource), f"{statement['Sid']}: {resource}"
        if service in scoped and statement["Resource"] == "*":
            assert set(_list(statement["Action"])) <= unscoped_in_aws, f"{statement['Sid']}: scope it to the project"


def test_the_form_moto_evaluates_keeps_every_action():
    relaxed = for_moto(POLICY)
    for mine, moto in zip(POLICY["Statement"], relaxed["Statement"], strict=True):
        assert _list(mine["Action"]) == _list(moto["Action"])
        assert "Condition" not in moto
        if all(a.startswith("s3:") for a in _list(mine["Action"])):
            assert moto["Resource"] == mine["Resource"]
        else:
            assert moto["Resource"] == "*"
