"""The ETL steps of one tenant source for one day, independent of Airflow (the DAG's tasks call these).

Objects: raw files at raw/<tenant>/<ds>/<source>*, intermediate Parquet at staging/<tenant>/<ds>/, and
everything set aside at quarantine/<tenant>/<ds>/<source>/ with its reason. Counts travel between steps
as a small dict; rows in = rows loaded + rows quarantined, where quarantined counts bad rows and
duplicate deliveries of a key; a file rejected whole is counted in files_rejected.
"""

from __future__ import annotations

import datetime as dt
import io
import logging
from typing import Protocol

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from tiny_etl.load import record_run, replace_day
from tiny_etl.quality import QualityError, check_day
from tiny_etl.tenant import Source, Tenant
from tiny_etl.transform import transform
from tiny_etl.validate import RejectedFile, validate

log = logging.getLogger(__name__)


class Storage(Protocol):
    """The object store (S3 through the Airflow hook in the DAG; any bucket-like in tests)."""

    def list_keys(self, prefix: str) -> list[str]:
        """Keys under a prefix."""

    def get(self, key: str) -> bytes:
        """An object's bytes."""

    def put(self, key: str, data: bytes) -> None:
        """Write an object (replacing it)."""


def raw_prefix(tenant: Tenant, source: Source, ds: dt.date) -> str:
    """Where a source's raw files for a day are."""
    return f"raw/{tenant.tenant}/{ds}/{source.name}"


def _staging(tenant: Tenant, source: Source, ds: dt.date, step: str) -> str:
    return f"staging/{tenant.tenant}/{ds}/{source.name}.{step}.parquet"


def _quarantine(tenant: Tenant, source: Source, ds: dt.date, name: str) -> str:
    return f"quarantine/{tenant.tenant}/{ds}/{source.name}/{name}"


def _parquet(table: pa.Table) -> bytes:
    out = io.BytesIO()
    pq.write_table(table, out, compression="lz4")
    return out.getvalue()


def _csv(table: pa.Table) -> bytes:
    out = io.BytesIO()
    pacsv.write_csv(table, out)
    return out.getvalue()


def validate_day(storage: Storage, tenant: Tenant, source: Source, ds: dt.date) -> dict:
    """Validate every raw file of the day; quarantine bad rows and bad files; stage the valid rows."""
    counts = {"tenant": tenant.tenant, "source": source.name, "ds": ds.isoformat(), "files": 0,
              "files_rejected": 0, "rows_in": 0, "rows_quarantined": 0, "fields_ignored": {}}
    tables, offset = [], 0
    for key in sorted(storage.list_keys(raw_prefix(tenant, source, ds))):
        counts["files"] += 1
        name = key.rsplit("/", 1)[-1]
        data = storage.get(key)
        try:
            checked = validate(data, source, tenant.timezone)
        except RejectedFile as exc:
            counts["files_rejected"] += 1
            storage.put(_quarantine(tenant, source, ds, name), data)
            storage.put(_quarantine(tenant, source, ds, f"{name}.reason.txt"), f"{key}: {exc}\n".encode())
            continue
        counts["rows_in"] += checked.rows_in
        for field, times in checked.ignored_fields.items():  # JSON fields the schema does not know
            counts["fields_ignored"][field] = counts["fields_ignored"].get(field, 0) + times
        if checked.rejected.num_rows:
            counts["rows_quarantined"] += checked.rejected.num_rows
            storage.put(_quarantine(tenant, source, ds, f"{name}.rejected-rows.csv"), _csv(checked.rejected))
        # Later files are later deliveries: their rows win the dedupe.
        valid = checked.valid.set_column(checked.valid.schema.get_field_index("_row"), "_row",
                                         pc.add(checked.valid["_row"], offset))
        offset += checked.last_row
        tables.append(valid)
    if counts["fields_ignored"]:
        log.info("%s/%s %s: fields not in the schema were ignored (field: records): %s", tenant.tenant,
                 source.name, ds, counts["fields_ignored"])
    if tables:
        storage.put(_staging(tenant, source, ds, "validated"), _parquet(pa.concat_tables(tables)))
    counts["staged"] = bool(tables)
    return counts


def transform_day(storage: Storage, tenant: Tenant, source: Source, ds: dt.date, counts: dict) -> dict:
    """Types are set by validation; here: dedupe on the key (duplicates quarantined), derived columns."""
    counts = dict(counts)
    if not counts["staged"]:
        return counts
    table = pq.read_table(io.BytesIO(storage.get(_staging(tenant, source, ds, "validated"))))
    rows, duplicates = transform(table, source, ds)
    if duplicates.num_rows:
        counts["rows_quarantined"] += duplicates.num_rows
        marked = duplicates.append_column("_reason", pa.array(
            [f"duplicate key {list(source.key)}: a later delivery of it was loaded"] * duplicates.num_rows))
        storage.put(_quarantine(tenant, source, ds, "duplicates.csv"), _csv(marked))
    storage.put(_staging(tenant, source, ds, "transformed"), _parquet(rows))
    return counts


def load_day(storage: Storage, conn, tenant: Tenant, source: Source, ds: dt.date, counts: dict) -> dict:  # noqa: ANN001
    """Replace the day's partition with the transformed rows (one transaction)."""
    counts = dict(counts)
    if counts["staged"]:
        rows = pq.read_table(io.BytesIO(storage.get(_staging(tenant, source, ds, "transformed"))))
    else:  # nothing valid arrived: the loaded day stays as it was
        rows = pa.table({})
    counts["rows_loaded"] = replace_day(conn, tenant, source, ds, rows) if rows.num_columns else 0
    return counts


def check_and_record(conn, tenant: Tenant, source: Source, ds: dt.date, counts: dict, run_id: str) -> dict:  # noqa: ANN001
    """Quality checks on the loaded day, then the etl_runs row (status ok, or failed with the reason)."""
    run = {**counts, "run_id": run_id, "status": "ok", "detail": None, "rows_loaded": counts.get("rows_loaded", 0)}
    try:
        if counts.get("staged"):
            check_day(conn, tenant, source, ds, counts["rows_in"], counts["rows_quarantined"])
    except QualityError as exc:
        record_run(conn, {**run, "status": "failed", "detail": str(exc)})
        raise
    record_run(conn, run)
    return run
