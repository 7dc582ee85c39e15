"""Daily inventory of the raw bucket: files and bytes each tenant delivered for the day.

Objects are laid out as `raw/<tenant>/<YYYY-MM-DD>/<file>` in the bucket named by the Airflow Variable
`raw_bucket`. The summary is returned as the DAG's XCom and logged; keys that break the layout are
listed so a mis-configured uploader is seen the same day. The S3 connection is `aws_default`, which comes
from the environment or the secrets backend (never from code).

A platform DAG that is meant to run every day: it is created unpaused (`is_paused_upon_creation=False`),
`make deploy` unpauses it if it was paused, and `make verify` checks it. Pause it in the UI for a while if
you must; the next deploy unpauses it again.
"""

from __future__ import annotations

from datetime import timedelta

import pendulum
from airflow.sdk import Variable, dag, task

from tiny_etl.inventory import RAW_PREFIX, RawObject, summarise

AWS_CONN_ID = "aws_default"


@dag(
    dag_id="raw_bucket_inventory",
    schedule="@daily",
    start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
    catchup=False,
    is_paused_upon_creation=False,
    max_active_runs=1,
    tags=["platform", "s3", "inventory"],
    default_args={"owner": "data-platform", "retries": 2, "retry_delay": timedelta(minutes=5)},
    doc_md=__doc__,
)
def raw_bucket_inventory() -> None:
    """List the day's raw objects per tenant, then summarise and report them."""

    @task
    def list_raw_objects(ds: str | None = None) -> list[dict]:
        """Keys and sizes under raw/<tenant>/<ds>/ for every tenant folder in the bucket."""
        from airflow.providers.amazon.aws.hooks.s3 import S3Hook  # heavy: import at run time, not parse time

        hook = S3Hook(aws_conn_id=AWS_CONN_ID)
        bucket = Variable.get("raw_bucket")
        objects: list[dict] = []
        for tenant_prefix in hook.list_prefixes(bucket_name=bucket, prefix=f"{RAW_PREFIX}/", delimiter="/"):
            for meta in hook.get_file_metadata(prefix=f"{tenant_prefix}{ds}/", bucket_name=bucket):
                objects.append({"key": meta["Key"], "size": int(meta["Size"])})
        return objects

    @task
    def summarise_day(objects: list[dict], ds: str | None = None) -> dict:
        """Per-tenant counts (pure logic in tiny_etl.inventory)."""
        return summarise((RawObject(**o) for o in objects), ds)

    @task
    def report(summary: dict) -> dict:
        """Log the summary in one line per tenant; misplaced keys are a warning, not a failure."""
        import logging

        log = logging.getLogger(__name__)
        for tenant in summary["tenants"]:
            log.info("%s: %d files, %d bytes on %s", tenant["tenant"], tenant["files"], tenant["bytes"], summary["ds"])
        if not summary["tenants"]:
            log.warning("no tenant delivered raw files for %s", summary["ds"])
        for key in summary["invalid_keys"]:
            log.warning("key outside raw/<tenant>/<YYYY-MM-DD>/<file>: %s", key)
        return summary

    report(summarise_day(list_raw_objects()))


raw_bucket_inventory()
