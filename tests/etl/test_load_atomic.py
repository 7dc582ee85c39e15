"""A failure in the middle of a load leaves the warehouse exactly as it was; the retry then succeeds."""

from __future__ import annotations

import datetime as dt
import io

import psycopg2
import pytest

from ci.paths import DAGS
from ci.sample_data import acme_orders_csv
from tiny_etl.load import CsvStream, replace_day
from tiny_etl.tenant import load_tenant
from tiny_etl.transform import transform
from tiny_etl.validate import validate

DAY = dt.date(2026, 11, 20)
TENANT = load_tenant(DAGS / "tenants" / "acme.yml")
SOURCE = TENANT.sources[0]


class FailingStream(io.RawIOBase):
    """Streams part of the COPY data, then fails as a dropped connection or a full disk would."""

    def __init__(self, inner: CsvStream, fail_after_bytes: int) -> None:
        self.inner, self.left = inner, fail_after_bytes

    def readable(self) -> bool:
        return True

    def read(self, size: int = -1) -> bytes:
        if self.left <= 0:
            raise OSError("injected failure in the middle of COPY")
        chunk = self.inner.read(min(size, self.left) if size > 0 else self.left)
        self.left -= len(chunk)
        return chunk


def rows_for(seed: int):
    checked = validate(acme_orders_csv(DAY, rows=5_000, seed=seed), SOURCE)
    return transform(checked.valid, SOURCE, DAY)[0]


def test_failed_load_changes_nothing_and_retry_succeeds(services):
    conn = services.connect()
    try:
        assert replace_day(conn, TENANT, SOURCE, DAY, rows_for(seed=1)) == 5_000
        before = services.query("SELECT * FROM tenant_acme.orders WHERE ds = %s ORDER BY order_id", (DAY,))
        tables_before = services.query("SELECT tablename FROM pg_tables WHERE schemaname = 'tenant_acme' ORDER BY 1")
        new_rows = rows_for(seed=2)
        with pytest.raises(psycopg2.Error, match="injected failure in the middle of COPY"):
            replace_day(conn, TENANT, SOURCE, DAY, new_rows, stream=FailingStream(CsvStream(new_rows), 100_000))
        assert services.query("SELECT * FROM tenant_acme.orders WHERE ds = %s ORDER BY order_id", (DAY,)) == before
        assert services.query("SELECT tablename FROM pg_tables WHERE schemaname = 'tenant_acme' ORDER BY 1") \
            == tables_before
        assert replace_day(conn, TENANT, SOURCE, DAY, new_rows) == 5_000
        after = services.query("SELECT * FROM tenant_acme.orders WHERE ds = %s ORDER BY order_id", (DAY,))
        assert after != before and len(after) == 5_000
    finally:
        conn.close()
