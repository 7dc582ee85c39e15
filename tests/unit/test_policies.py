"""How the local cloud decides a request against a bucket policy (ci.localcloud.policies), as S3 does:
"an explicit deny in any policy overrides any allows", and a statement applies only when its conditions are met
(IAM User Guide, Policy evaluation logic; Condition operators)."""

from __future__ import annotations

import pytest

from ci.localcloud.policies import decide

ARN = "arn:aws:s3:::tiny-analytics-local-raw-123456789012"
TLS_ONLY = {"Version": "2012-10-17", "Statement": [
    {"Sid": "DenyPlainHttp", "Effect": "Deny", "Principal": "*", "Action": "s3:*", "Resource": [ARN, f"{ARN}/*"],
     "Condition": {"Bool": {"aws:SecureTransport": "false"}}}]}


@pytest.mark.parametrize(("action", "resource"), [("s3:GetObject", f"{ARN}/raw/a.csv"), ("s3:ListBucket", ARN),
                                                  ("s3:PutObject", f"{ARN}/x")])
def test_plain_http_is_denied_and_https_is_left_to_iam(action, resource):
    assert decide(TLS_ONLY, action, resource, {"aws:SecureTransport": "false"}) == "deny"
    # moto's trust-policy check answered "denied" here: a Deny whose condition is not met denied HTTPS too.
    assert decide(TLS_ONLY, action, resource, {"aws:SecureTransport": "true"}) == "neutral"


def test_bool_compares_case_insensitively_and_other_buckets_are_untouched():
    policy = {"Statement": [{**TLS_ONLY["Statement"][0], "Condition": {"Bool": {"aws:SecureTransport": "False"}}}]}
    assert decide(policy, "s3:GetObject", f"{ARN}/a", {"aws:SecureTransport": "false"}) == "deny"
    assert decide(policy, "s3:GetObject", "arn:aws:s3:::someone-else/a", {"aws:SecureTransport": "false"}) == "neutral"


def test_explicit_deny_overrides_allow_and_not_action_inverts():
    policy = {"Statement": [
        {"Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "s3:Get*", "Resource": f"{ARN}/*"},
        {"Effect": "Deny", "Principal": "*", "NotAction": "s3:GetObject", "Resource": f"{ARN}/*"}]}
    assert decide(policy, "s3:GetObject", f"{ARN}/a", {}) == "allow"
    assert decide(policy, "s3:GetObjectTagging", f"{ARN}/a", {}) == "deny"
    assert decide(policy, "s3:PutObject", f"{ARN}/a", {}) == "deny"


def test_what_it_cannot_tell_leans_strict():
    """An unknown operator, a key the request lacks, a principal other than everyone: a Deny applies, an Allow
    does not (never more lenient than S3)."""
    unknown = {"IpAddress": {"aws:SourceIp": "10.0.0.0/8"}}
    for condition in (unknown, {"StringEquals": {"aws:PrincipalOrgID": "o-1"}}):
        deny = {"Statement": [{"Effect": "Deny", "Principal": "*", "Action": "s3:*", "Resource": "*",
                               "Condition": condition}]}
        allow = {"Statement": [{**deny["Statement"][0], "Effect": "Allow"}]}
        assert decide(deny, "s3:GetObject", f"{ARN}/a", {"aws:SecureTransport": "true"}) == "deny"
        assert decide(allow, "s3:GetObject", f"{ARN}/a", {"aws:SecureTransport": "true"}) == "neutral"
    someone = {"Statement": [{"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::1:root"}, "Action": "s3:*",
                              "Resource": "*"}]}
    assert decide(someone, "s3:GetObject", f"{ARN}/a", {}) == "neutral"


def test_condition_keys_are_case_insensitive_and_brackets_are_literal():
    """Condition key names are case-insensitive (IAM User Guide, Condition element); IAM's wildcards are `*` and
    `?` only, so `[` in a resource is a character, not a class."""
    lower = {"Statement": [{**TLS_ONLY["Statement"][0], "Condition": {"Bool": {"aws:securetransport": "false"}}}]}
    assert decide(lower, "s3:GetObject", f"{ARN}/a", {"aws:SecureTransport": "true"}) == "neutral"
    assert decide(lower, "s3:GetObject", f"{ARN}/a", {"aws:SecureTransport": "false"}) == "deny"
    bracket = {"Statement": [{"Effect": "Deny", "Principal": "*", "Action": "s3:*", "Resource": f"{ARN}/[ab].csv"}]}
    assert decide(bracket, "s3:GetObject", f"{ARN}/[ab].csv", {}) == "deny"
    assert decide(bracket, "s3:GetObject", f"{ARN}/a.csv", {}) == "neutral"


def test_a_statement_without_resource_applies_only_in_a_trust_policy():
    """A trust policy names no resource (its resource is the role); any other statement needs one to apply."""
    bare = {"Statement": [{"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject"}]}
    assert decide(bare, "s3:GetObject", f"{ARN}/a", {}) == "neutral"
    trust = {"Statement": [{"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::1:role/host"},
                            "Action": "sts:AssumeRole"}]}
    role = "arn:aws:iam::1:role/data"
    session = "arn:aws:sts::1:assumed-role/host/i-1"
    callers = frozenset({session, "arn:aws:iam::1:role/host"})
    assert decide(trust, "sts:AssumeRole", role, {}, callers, trust_policy=True) == "allow"
    assert decide(trust, "sts:AssumeRole", role, {}, frozenset({session}), trust_policy=True) == "neutral"
