"""Airflow assets of the warehouse tables: the ETL DAGs update them, the analytics DAGs wait for them."""

from __future__ import annotations

from airflow.sdk import Asset

from tiny_etl.tenant import Source, Tenant


def source_asset(tenant: Tenant, source: Source) -> Asset:
    """The warehouse table a source loads."""
    return Asset(f"warehouse://{tenant.schema}/{source.table}")
