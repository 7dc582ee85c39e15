"""The warehouse side: tables per tenant, the day's partition swapped in one transaction, etl_runs.

SQL identifiers come from tenant files, checked against tenant.IDENTIFIER. Runs as the tenant's own role
(connection `warehouse_<tenant>`), which owns the tenant's schema: the schema and the shared etl.etl_runs are
made beforehand (sql/tenant.sql, sql/platform.sql), never by a load.

A day is loaded with `COPY` into a fresh table shaped like the partition, which then replaces the day's
partition, all in one transaction: re-running a day replaces it (idempotent), and a failure anywhere
leaves the warehouse exactly as it was.
"""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Iterator

import pyarrow as pa
import pyarrow.csv as pacsv

from tiny_etl.tenant import Source, Tenant

PG_TYPES = {"int": "bigint", "decimal": "numeric(19,4)", "text": "text", "date": "date", "timestamp": "timestamptz"}
COPY_BATCH_ROWS = 65_536


def table_ddl(tenant: Tenant, source: Source) -> str:
    """The partitioned table (by day) of a source, in the tenant's schema; the key is unique per day."""
    cols = [f"{c.name} {PG_TYPES[c.type]}{' NOT NULL' if c.required else ''}" for c in source.columns]
    cols += [f"{d.name} numeric" for d in source.derived]
    cols += ["ds date NOT NULL", f"PRIMARY KEY ({', '.join(source.key)}, ds)"]
    return (f"CREATE TABLE IF NOT EXISTS {tenant.schema}.{source.table} (\n    " + ",\n    ".join(cols)
            + "\n) PARTITION BY LIST (ds);")


class CsvStream(io.RawIOBase):
    """A file-like object that renders a table as CSV batch by batch, for `COPY ... FROM STDIN`."""

    def __init__(self, table: pa.Table, batch_rows: int = COPY_BATCH_ROWS) -> None:
        self._batches: Iterator[pa.RecordBatch] = iter(table.to_batches(max_chunksize=batch_rows))
        self._chunk = memoryview(b"")
        self._pos = 0
        self.rows = 0

    def readable(self) -> bool:
        """Always: it is a source."""
        return True

    def _next_chunk(self) -> bytes:
        batch = next(self._batches)
        self.rows += batch.num_rows
        out = io.BytesIO()
        pacsv.write_csv(batch, out, write_options=pacsv.WriteOptions(include_header=False, quoting_style="needed"))
        return out.getvalue()

    def read(self, size: int = -1) -> bytes:
        """Up to `size` bytes of CSV (the rest of the current batch for -1); b"" at the end."""
        while self._pos >= len(self._chunk):  # the current batch is used up: render the next one
            try:
                self._chunk, self._pos = memoryview(self._next_chunk()), 0
            except StopIteration:
                return b""
        end = len(self._chunk) if size < 0 else min(len(self._chunk), self._pos + size)
        out = self._chunk[self._pos:end].tobytes()
        self._pos = end
        return out


def upgrade_table(cur, tenant: Tenant, source: Source) -> list[str]:  # noqa: ANN001
    """Bring an existing table's column types to the schema's where they only widened: timestamp columns of
    tables created before timestamps were stored in UTC become timestamptz (their values were UTC).
    Returns the columns changed."""
    wanted = [c.name for c in source.columns if c.type == "timestamp"]
    if not wanted:
        return []
    cur.execute("SELECT column_name FROM information_schema.columns WHERE table_schema = %s AND table_name = %s "
                "AND data_type = 'timestamp without time zone' AND column_name = ANY(%s)",
                (tenant.schema, source.table, wanted))
    changed = [row[0] for row in cur.fetchall()]
    for column in changed:
        cur.execute(f"ALTER TABLE {tenant.schema}.{source.table} ALTER COLUMN {column} TYPE timestamptz "
                    f"USING {column} AT TIME ZONE 'UTC'")
    return changed


def partition_name(source: Source, ds: dt.date) -> str:
    """The day's partition of a source's table."""
    return f"{source.table}_p{ds:%Y%m%d}"


def replace_day(conn, tenant: Tenant, source: Source, ds: dt.date, rows: pa.Table,  # noqa: ANN001
                stream: io.RawIOBase | None = None) -> int:
    """Load `rows` as the whole of day `ds` in one transaction; returns the rows loaded.

    `stream` replaces the CSV stream of `rows` (tests inject a stream that fails mid-load).
    """
    schema, part = tenant.schema, partition_name(source, ds)
    staged = f"{part}__load"
    columns = ", ".join(rows.column_names)
    with conn, conn.cursor() as cur:  # one transaction: commit on success, rollback on any error
        cur.execute(table_ddl(tenant, source))
        upgrade_table(cur, tenant, source)
        cur.execute(f"DROP TABLE IF EXISTS {schema}.{staged}")
        cur.execute(f"CREATE TABLE {schema}.{staged} (LIKE {schema}.{source.table} INCLUDING DEFAULTS "
                    f"INCLUDING CONSTRAINTS)")
        # The CHECK lets ATTACH skip its validation scan.
        day = f"DATE '{ds.isoformat()}'"  # a date's ISO form: safe to inline (DDL takes no parameters)
        cur.execute(f"ALTER TABLE {schema}.{staged} ADD CONSTRAINT {staged}_ds CHECK (ds = {day})")
        cur.copy_expert(f"COPY {schema}.{staged} ({columns}) FROM STDIN WITH (FORMAT csv)",
                        stream or CsvStream(rows))
        cur.execute(f"DROP TABLE IF EXISTS {schema}.{part}")
        cur.execute(f"ALTER TABLE {schema}.{staged} RENAME TO {part}")
        cur.execute(f"ALTER TABLE {schema}.{source.table} ATTACH PARTITION {schema}.{part} FOR VALUES IN ({day})")
        cur.execute(f"SELECT count(*) FROM {schema}.{part}")  # noqa: S608 - ids checked by tenant.py  # nosec B608
        return cur.fetchone()[0]


def record_run(conn, run: dict) -> None:  # noqa: ANN001
    """Insert (or replace, for a retried task) the run's row in etl.etl_runs."""
    with conn, conn.cursor() as cur:
        cur.execute(
            "INSERT INTO etl.etl_runs (run_id, tenant, source, ds, rows_in, rows_loaded, rows_quarantined, "
            "files_rejected, status, detail) VALUES (%(run_id)s, %(tenant)s, %(source)s, %(ds)s, %(rows_in)s, "
            "%(rows_loaded)s, %(rows_quarantined)s, %(files_rejected)s, %(status)s, %(detail)s) "
            "ON CONFLICT (tenant, source, ds, run_id) DO UPDATE SET rows_in = EXCLUDED.rows_in, "
            "rows_loaded = EXCLUDED.rows_loaded, rows_quarantined = EXCLUDED.rows_quarantined, "
            "files_rejected = EXCLUDED.files_rejected, status = EXCLUDED.status, detail = EXCLUDED.detail, "
            "recorded_at = now()", run)
