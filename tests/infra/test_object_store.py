"""The raw bucket seen from the Airflow host: each tenant's connection `aws_<tenant>` assumes the tenant's own
IAM role and reaches only raw/, staging/ and quarantine/<tenant>/; the platform's `aws_default` lists raw files'
names and nothing else there; the host's own credentials (the instance profile) reach no bucket at all. Only
listings: verify changes nothing, on every environment (IAM is enforced on the local cloud as on AWS)."""

from __future__ import annotations

import json

from hostlib import airflow_python, live_tenants

# Python for the Airflow venv: for each (connection, prefix) of ATTEMPTS, "allowed" or the error code of a
# one-key listing through the amazon provider's S3Hook (as the DAGs list); connection None: plain boto3 with
# the host's own credentials.
LISTINGS = """
import boto3, json, os
from botocore.exceptions import ClientError
from airflow.providers.amazon.aws.hooks.s3 import S3Hook
bucket = os.environ['AIRFLOW_VAR_RAW_BUCKET']
def attempt(conn_id, prefix):
    try:
        if conn_id is None:
            boto3.client('s3').list_objects_v2(Bucket=bucket, Prefix=prefix, MaxKeys=1)
        else:
            S3Hook(aws_conn_id=conn_id).list_keys(bucket_name=bucket, prefix=prefix, page_size=1, max_items=1)
        return 'allowed'
    except ClientError as exc:
        return exc.response['Error']['Code']
print(json.dumps([[conn_id, prefix, attempt(conn_id, prefix)] for conn_id, prefix in ATTEMPTS]))
"""
OWN = ("raw", "staging", "quarantine")


def _listings(host, attempts: list[tuple[str | None, str]]) -> dict[tuple[str | None, str], str]:
    out = airflow_python(host, f"ATTEMPTS = {attempts!r}\n" + LISTINGS)
    return {(conn_id, prefix): result for conn_id, prefix, result in json.loads(out.strip().splitlines()[-1])}


def test_each_tenant_lists_only_its_own_prefixes(host):
    tenants = live_tenants(host)
    others = {t: [o for o in tenants if o != t] + ["nobody"] for t in tenants}  # "nobody": no such tenant
    attempts = [(f"aws_{t}", f"{kind}/{t}/") for t in tenants for kind in OWN]
    attempts += [(f"aws_{t}", f"{kind}/{o}/") for t in tenants for o in others[t] for kind in OWN]
    attempts += [(f"aws_{t}", prefix) for t in tenants for prefix in ("", "raw/", "staging/")]
    results = _listings(host, attempts)
    allowed = {(f"aws_{t}", f"{kind}/{t}/") for t in tenants for kind in OWN}
    assert {a for a, r in results.items() if r == "allowed"} == allowed, results
    assert all(r == "AccessDenied" for a, r in results.items() if a not in allowed), results


def test_the_platform_lists_raw_names_and_the_host_itself_nothing(host):
    results = _listings(host, [("aws_default", "raw/"), ("aws_default", "staging/"), ("aws_default", ""),
                               (None, "raw/"), (None, "")])
    assert results == {("aws_default", "raw/"): "allowed", ("aws_default", "staging/"): "AccessDenied",
                       ("aws_default", ""): "AccessDenied", (None, "raw/"): "AccessDenied",
                       (None, ""): "AccessDenied"}, results
