"""The real services the ETL tests run against: S3 (a private moto server on a free loopback port) and
PostgreSQL (a throwaway cluster from Debian's packages), both stopped at the end; an initialised Airflow
metadata DB in the temporary AIRFLOW_HOME; connections and the bucket Variable from the environment.

Each tenant's S3 connection `aws_<tenant>` assumes a role with the policy provision gives the tenant's role
(aws_platform's tenant-role-policy.json.j2, rendered here), on a local cloud that enforces IAM: the DAGs reach
only their tenant's prefixes.

The warehouse is set up as rds_bootstrap sets up every environment's: the shared tables from sql/platform.sql,
and per tenant a role etl_<tenant> with the access sql/tenant.sql gives it, which the tenant's DAGs connect as
(`warehouse_<tenant>`). The test cluster trusts loopback logins, so the roles need no password here.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass
from pathlib import Path

import boto3
import jinja2
import psycopg2
import pytest

from ci import pgcluster
from ci.localcloud.endpoint import ADMIN, aws_environment, private_moto
from ci.paths import DAGS, ROOT
from tiny_etl.access import converge_platform, converge_tenant
from tiny_etl.tenant import valid_tenants

BUCKET = "tiny-analytics-test-raw"
ROLE_TEMPLATES = ROOT / "ansible" / "roles" / "aws_platform" / "templates"
MASTER = "tiny_admin"  # the role RDS creates the instance with (CREATEROLE, not a superuser)


@dataclass
class Services:
    """Handles on the running services."""

    s3: object
    cluster: pgcluster.Cluster
    cloud: object  # the private local cloud's MotoState
    bucket: str = BUCKET

    @property
    def dsn(self) -> str:
        return self.cluster.dsn

    def connect(self, role: str | None = None):
        """A connection as the cluster's superuser, or as `role`."""
        return psycopg2.connect(self.cluster.dsn_as(role) if role else self.dsn)

    def keys(self, prefix: str) -> list[str]:
        pages = self.s3.get_paginator("list_objects_v2").paginate(Bucket=self.bucket, Prefix=prefix)
        return sorted(o["Key"] for page in pages for o in page.get("Contents", []))

    def put(self, key: str, body: bytes) -> None:
        self.s3.put_object(Bucket=self.bucket, Key=key, Body=body)

    def get(self, key: str) -> bytes:
        return self.s3.get_object(Bucket=self.bucket, Key=key)["Body"].read()

    def query(self, sql: str, params: tuple = (), role: str | None = None) -> list[tuple]:
        conn = self.connect(role)
        try:
            with conn, conn.cursor() as cur:
                cur.execute(sql, params)
                return cur.fetchall()
        finally:
            conn.close()

    def add_tenant(self, tenant: str) -> bool:
        """What provision and configure do for a tenant file: its IAM role and connection `aws_<tenant>`
        (add_tenant_role); the role etl_<tenant>, made by the master, its access (sql/tenant.sql; returned: whether
        it changed anything) and the DAGs' connection `warehouse_<tenant>`."""
        add_tenant_role(self.cloud, tenant)
        conn = self.connect(MASTER)
        try:
            with conn, conn.cursor() as cur:
                cur.execute(f"CREATE ROLE etl_{tenant} LOGIN; GRANT etl_{tenant} TO {MASTER}")
            changed = converge_tenant(conn, tenant)
        finally:
            conn.close()
        os.environ[f"AIRFLOW_CONN_WAREHOUSE_{tenant.upper()}"] = self.cluster.dsn_as(f"etl_{tenant}")
        return changed


def tenant_role_policy(tenant: str) -> str:
    """The policy provision gives `tenant`'s role, rendered from the role's own template (the Jinja filters it
    uses are Ansible's; these two behave alike)."""
    env = jinja2.Environment(undefined=jinja2.StrictUndefined)
    env.filters.update(regex_replace=lambda value, pattern, repl: re.sub(pattern, repl, value), to_json=json.dumps)
    template = env.from_string((ROLE_TEMPLATES / "tenant-role-policy.json.j2").read_text())
    return template.render(aws_platform_partition="aws", aws_platform_buckets={"raw": BUCKET},
                           aws_platform_tenant_prefixes=["raw", "staging", "quarantine"], item={"key": tenant})


def add_tenant_role(state, tenant: str) -> None:
    """The tenant's role as provision makes it (assumable here by the local admin, whose keys the tests hold) and
    its connection `aws_<tenant>`, which assumes it (the amazon provider's `role_arn`). A tenant added again
    keeps its role, as provision keeps it."""
    conn_var = f"AIRFLOW_CONN_AWS_{tenant.upper()}"
    if conn_var in os.environ:
        return
    keys = {k.lower(): v for k, v in state.credentials(ADMIN).items()}
    iam = boto3.client("iam", endpoint_url=state.url, region_name="us-east-1", verify=state.ca_file, **keys)
    admin = boto3.client("sts", endpoint_url=state.url, region_name="us-east-1", verify=state.ca_file,
                         **keys).get_caller_identity()["Arn"]
    name = f"etl-test-tenant-{tenant}"
    arn = iam.create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": {"AWS": admin}, "Action": "sts:AssumeRole"}]}))["Role"]["Arn"]
    iam.put_role_policy(RoleName=name, PolicyName="tenant-data-only", PolicyDocument=tenant_role_policy(tenant))
    os.environ[conn_var] = json.dumps(
        {"conn_type": "aws", "extra": {"endpoint_url": state.url, "region_name": "us-east-1", "role_arn": arn,
                                       # the provider's assume-role client ignores endpoint_url (on the hosts
                                       # botocore's AWS_ENDPOINT_URL serves both)
                                       "service_config": {"sts": {"endpoint_url": state.url}}}})


def set_up_warehouse(services: Services) -> None:
    """As on RDS: a master role that may create roles but is no superuser owns the database, which PUBLIC may not
    enter; the platform's role `etl` owns the shared tables (sql/platform.sql); every tenant gets its role and
    access from sql/tenant.sql, run by the master, as rds_bootstrap does."""
    with services.connect() as conn, conn.cursor() as cur:
        cur.execute(f"CREATE ROLE {MASTER} LOGIN CREATEROLE; ALTER DATABASE warehouse OWNER TO {MASTER}; "
                    "REVOKE CONNECT, TEMPORARY ON DATABASE warehouse FROM PUBLIC")
    conn.close()
    with services.connect(MASTER) as conn, conn.cursor() as cur:
        cur.execute(f"CREATE ROLE etl LOGIN; GRANT etl TO {MASTER}; GRANT CONNECT ON DATABASE warehouse TO etl; "
                    "CREATE SCHEMA etl AUTHORIZATION etl; CREATE SCHEMA analytics AUTHORIZATION etl")
    conn.close()
    conn = services.connect("etl")
    try:
        converge_platform(conn)
    finally:
        conn.close()
    for tenant in valid_tenants(DAGS / "tenants"):
        services.add_tenant(tenant.tenant)


@pytest.fixture(scope="session")
def services(tmp_path_factory: pytest.TempPathFactory) -> Services:
    with private_moto(tmp_path_factory.mktemp("moto")) as state:
        cluster = None
        try:
            cluster = pgcluster.start(tmp_path_factory.mktemp("pg") / "cluster")
            aws = aws_environment(state, "us-east-1", ADMIN)  # the DAGs under test, not IAM: the admin
            os.environ.update({k: v for k, v in aws.items() if k.startswith("AWS_") and k != "AWS_ENDPOINT_URL"})
            os.environ["AIRFLOW_CONN_AWS_DEFAULT"] = json.dumps(
                {"conn_type": "aws", "extra": {"endpoint_url": state.url, "region_name": "us-east-1"}})
            os.environ["AIRFLOW_VAR_RAW_BUCKET"] = BUCKET
            s3 = boto3.client("s3", endpoint_url=state.url, region_name="us-east-1", verify=state.ca_file,
                              aws_access_key_id=aws["AWS_ACCESS_KEY_ID"],
                              aws_secret_access_key=aws["AWS_SECRET_ACCESS_KEY"])
            s3.create_bucket(Bucket=BUCKET)
            from airflow.utils.db import initdb

            initdb()
            services = Services(s3=s3, cluster=cluster, cloud=state)
            set_up_warehouse(services)
            yield services
        finally:
            if cluster:
                cluster.stop()


@pytest.fixture(scope="session")
def dags_folder() -> Path:
    return DAGS
