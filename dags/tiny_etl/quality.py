"""Data-quality checks of a loaded day, read back from the warehouse."""

from __future__ import annotations

import datetime as dt

from tiny_etl.load import partition_name
from tiny_etl.tenant import Source, Tenant


class QualityError(AssertionError):
    """A loaded day breaks a quality rule; the message lists every broken rule."""


def check_day(conn, tenant: Tenant, source: Source, ds: dt.date, rows_in: int, quarantined: int) -> dict:  # noqa: ANN001
    """Rows reconcile (in = loaded + quarantined), keys are unique, required columns are filled."""
    part = f"{tenant.schema}.{partition_name(source, ds)}"
    key = ", ".join(source.key)
    nulls = " + ".join(f"count(*) FILTER (WHERE {c.name} IS NULL)" for c in source.columns if c.required) or "0"
    with conn.cursor() as cur:
        cur.execute(f"SELECT count(*), count(DISTINCT ({key})), {nulls} FROM {part}")  # noqa: S608 - checked ids  # nosec B608
        loaded, distinct, null_required = cur.fetchone()
    conn.rollback()
    problems = []
    if rows_in != loaded + quarantined:
        problems.append(f"rows in {rows_in} != loaded {loaded} + quarantined {quarantined}")
    if distinct != loaded:
        problems.append(f"key ({key}) not unique: {loaded - distinct} repeated")
    if null_required:
        problems.append(f"{null_required} empty values in required columns")
    if loaded < source.min_rows:
        problems.append(f"{loaded} rows loaded, fewer than min_rows {source.min_rows}")
    if problems:
        raise QualityError(f"{tenant.tenant}.{source.name} {ds}: " + "; ".join(problems))
    return {"rows_loaded": loaded, "distinct_keys": distinct}
