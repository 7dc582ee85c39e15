"""Adapters from the ETL steps to Airflow's providers: S3 via the amazon provider's S3Hook, the warehouse
via the postgres provider's PostgresHook. Connections come from the environment or the secrets backend
(each tenant's `aws_<tenant>` and `warehouse_<tenant>`, as the tenant's own IAM and database roles; the
platform's `aws_default` and `warehouse`); the bucket name from the Variable `raw_bucket`. Imported inside tasks
only.
"""

from __future__ import annotations

from airflow.providers.amazon.aws.hooks.s3 import S3Hook
from airflow.providers.postgres.hooks.postgres import PostgresHook
from airflow.sdk import Variable


class S3Storage:
    """The raw bucket as a `tiny_etl.pipeline.Storage`, through Airflow connection `conn_id`: a tenant's DAGs pass
    their tenant's `aws_conn_id` (no default, so none reaches S3 as the platform by omission)."""

    def __init__(self, conn_id: str, bucket: str | None = None) -> None:
        self.hook = S3Hook(aws_conn_id=conn_id)
        self.bucket = bucket or Variable.get("raw_bucket")

    def list_keys(self, prefix: str) -> list[str]:
        """Keys under a prefix."""
        return self.hook.list_keys(bucket_name=self.bucket, prefix=prefix) or []

    def get(self, key: str) -> bytes:
        """An object's bytes."""
        return self.hook.get_key(key, bucket_name=self.bucket).get()["Body"].read()

    def put(self, key: str, data: bytes) -> None:
        """Write an object (replacing it)."""
        self.hook.load_bytes(data, key=key, bucket_name=self.bucket, replace=True)


def warehouse_connection(conn_id: str):  # noqa: ANN201 - a psycopg2 connection
    """A new psycopg2 connection to the warehouse (autocommit off), from Airflow connection `conn_id`: a tenant's
    DAGs pass their tenant's `warehouse_conn_id` (no default, so none connects as the platform by omission).

    psycopg2 explicitly: the loader streams with `copy_expert`; the hook may prefer psycopg 3.
    """
    import psycopg2

    from tiny_etl.libpq import tls_settings

    conn = PostgresHook(postgres_conn_id=conn_id).get_connection(conn_id)
    return psycopg2.connect(host=conn.host, port=conn.port or 5432, user=conn.login, password=conn.password,
                            dbname=conn.schema or "warehouse", connect_timeout=10, application_name="tiny-etl",
                            **tls_settings(conn.extra_dejson))

