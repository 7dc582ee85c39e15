"""The real services the ETL tests run against: S3 (a private moto server on a free loopback port) and
PostgreSQL (a throwaway cluster from Debian's packages), both stopped at the end; an initialised Airflow
metadata DB in the temporary AIRFLOW_HOME; connections and the bucket Variable from the environment.

The warehouse is set up as rds_bootstrap sets up every environment's: the shared tables from sql/platform.sql,
and per tenant a role etl_<tenant> with the access sql/tenant.sql gives it, which the tenant's DAGs connect as
(`warehouse_<tenant>`). The test cluster trusts loopback logins, so the roles need no password here.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

import boto3
import psycopg2
import pytest

from ci import pgcluster
from ci.localcloud.endpoint import ADMIN, aws_environment, private_moto
from ci.paths import DAGS
from tiny_etl.access import converge_platform, converge_tenant
from tiny_etl.tenant import valid_tenants

BUCKET = "tiny-analytics-test-raw"
MASTER = "tiny_admin"  # the role RDS creates the instance with (CREATEROLE, not a superuser)


@dataclass
class Services:
    """Handles on the running services."""

    s3: object
    cluster: pgcluster.Cluster
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
        """What configure does for a tenant file: the role etl_<tenant>, made by the master, its access
        (sql/tenant.sql; returned: whether it changed anything) and the DAGs' connection `warehouse_<tenant>`."""
        conn = self.connect(MASTER)
        try:
            with conn, conn.cursor() as cur:
                cur.execute(f"CREATE ROLE etl_{tenant} LOGIN; GRANT etl_{tenant} TO {MASTER}")
            changed = converge_tenant(conn, tenant)
        finally:
            conn.close()
        os.environ[f"AIRFLOW_CONN_WAREHOUSE_{tenant.upper()}"] = self.cluster.dsn_as(f"etl_{tenant}")
        return changed


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
            services = Services(s3=s3, cluster=cluster)
            set_up_warehouse(services)
            yield services
        finally:
            if cluster:
                cluster.stop()


@pytest.fixture(scope="session")
def dags_folder() -> Path:
    return DAGS
