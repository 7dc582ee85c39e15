"""The real services the ETL tests run against: S3 (a private moto server on a free loopback port) and
PostgreSQL (a throwaway cluster from Debian's packages), both stopped at the end; an initialised Airflow
metadata DB in the temporary AIRFLOW_HOME; connections and the bucket Variable from the environment.
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

BUCKET = "tiny-analytics-test-raw"


@dataclass
class Services:
    """Handles on the running services."""

    s3: object
    dsn: str
    bucket: str = BUCKET

    def connect(self):
        return psycopg2.connect(self.dsn)

    def keys(self, prefix: str) -> list[str]:
        pages = self.s3.get_paginator("list_objects_v2").paginate(Bucket=self.bucket, Prefix=prefix)
        return sorted(o["Key"] for page in pages for o in page.get("Contents", []))

    def put(self, key: str, body: bytes) -> None:
        self.s3.put_object(Bucket=self.bucket, Key=key, Body=body)

    def get(self, key: str) -> bytes:
        return self.s3.get_object(Bucket=self.bucket, Key=key)["Body"].read()

    def query(self, sql: str, params: tuple = ()) -> list[tuple]:
        with self.connect() as conn, conn.cursor() as cur:
            cur.execute(sql, params)
            return cur.fetchall()


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
            os.environ["AIRFLOW_CONN_WAREHOUSE"] = cluster.dsn
            os.environ["AIRFLOW_VAR_RAW_BUCKET"] = BUCKET
            s3 = boto3.client("s3", endpoint_url=state.url, region_name="us-east-1", verify=state.ca_file,
                              aws_access_key_id=aws["AWS_ACCESS_KEY_ID"],
                              aws_secret_access_key=aws["AWS_SECRET_ACCESS_KEY"])
            s3.create_bucket(Bucket=BUCKET)
            from airflow.utils.db import initdb

            initdb()
            yield Services(s3=s3, dsn=cluster.dsn)
        finally:
            if cluster:
                cluster.stop()


@pytest.fixture(scope="session")
def dags_folder() -> Path:
    from ci.paths import DAGS

    return DAGS
