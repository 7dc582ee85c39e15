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
    conn = services.connect(TENANT.warehouse_role)
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


def test_a_table_from_before_utc_timestamps_is_upgraded_in_place(services):
    """Tables created when timestamps were stored without a zone (their values were UTC) become timestamptz
    on the next load, keeping every earlier day's instants."""
    import dataclasses

    legacy = dataclasses.replace(TENANT, tenant="legacy")
    with services.connect() as conn, conn.cursor() as cur:
        cur.execute("CREATE SCHEMA tenant_legacy; CREATE TABLE tenant_legacy.orders (order_id bigint NOT NULL, "
                    "customer_id bigint NOT NULL, ordered_at timestamp NOT NULL, product text NOT NULL, quantity "
                    "bigint NOT NULL, unit_price numeric(19,4) NOT NULL, country text, total numeric, ds date NOT "
                    "NULL, PRIMARY KEY (order_id, ds)) PARTITION BY LIST (ds); CREATE TABLE tenant_legacy.orders_old "
                    "PARTITION OF tenant_legacy.orders FOR VALUES IN ('2026-11-01'); INSERT INTO tenant_legacy.orders "
                    "VALUES (1, 1, '2026-11-01 10:00:00', 'tea', 1, 1, 'DE', 1, '2026-11-01')")
    conn = psycopg2.connect(services.dsn)
    try:
        replace_day(conn, legacy, SOURCE, DAY, rows_for(3))
    finally:
        conn.close()
    assert services.query("SELECT data_type FROM information_schema.columns WHERE table_schema = 'tenant_legacy' "
                          "AND table_name = 'orders' AND column_name = 'ordered_at'") == [("timestamp with time zone",)]
    assert services.query("SELECT ordered_at FROM tenant_legacy.orders WHERE ds = '2026-11-01'") == [
        (dt.datetime(2026, 11, 1, 10, tzinfo=dt.UTC),)]
