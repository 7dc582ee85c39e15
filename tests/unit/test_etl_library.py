"""tiny_etl validation and transforms on small inputs (no services)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

import pytest

from ci.paths import DAGS
from ci.sample_data import acme_orders_csv, globex_shipments_jsonl
from tiny_etl.load import CsvStream
from tiny_etl.tenant import load_tenant
from tiny_etl.transform import transform
from tiny_etl.validate import RejectedFile, validate

DAY = dt.date(2026, 11, 24)
ORDERS = load_tenant(DAGS / "tenants" / "acme.yml").sources[0]
SHIPMENTS = load_tenant(DAGS / "tenants" / "globex.yml").sources[0]


def test_wrong_header_rejects_the_whole_file():
    with pytest.raises(RejectedFile, match=r"header .* does not match the schema"):
        validate(b"id;customer\n1;2\n", ORDERS)


def test_jsonl_without_the_schema_fields_is_rejected_whole():
    with pytest.raises(RejectedFile, match="missing from every record"):
        validate(b'{"foo": 1}\n{"foo": 2}\n', SHIPMENTS)


def test_bad_rows_have_reasons_and_counts_add_up():
    checked = validate(acme_orders_csv(DAY, rows=50), ORDERS)
    assert checked.rows_in == 57 and checked.valid.num_rows == 53 and checked.rejected.num_rows == 4
    assert sorted(checked.rejected["_reason"].to_pylist()) == [
        "customer_id: required but empty", "expected 7 fields, found 5: "
        f"{int(DAY.strftime('%Y%m%d')) * 1_000_000 + 53},19,{DAY}T11:00:00,scale,1",
        "ordered_at: not a valid timestamp", "quantity: not a valid int"]


def test_file_path_and_bytes_validate_the_same(tmp_path: Path):
    data = acme_orders_csv(DAY, rows=300)
    (tmp_path / "f.csv").write_bytes(data)
    a, b = validate(data, ORDERS), validate(tmp_path / "f.csv", ORDERS)
    assert a.valid.equals(b.valid) and a.rows_in == b.rows_in


def test_jsonl_rows_typed():
    checked = validate(globex_shipments_jsonl(DAY, rows=20), SHIPMENTS)
    assert checked.valid.num_rows == 20 and checked.rejected.num_rows == 2
    assert checked.valid["shipped_on"][0].as_py() == DAY


def test_dedupe_keeps_the_later_delivery_and_derives_exact_totals():
    checked = validate(acme_orders_csv(DAY, rows=10, bad=0, duplicates=2), ORDERS)
    rows, duplicates = transform(checked.valid, ORDERS, DAY)
    assert rows.num_rows == 10 and duplicates.num_rows == 2
    first_id = int(DAY.strftime("%Y%m%d")) * 1_000_000
    (first,) = [r for r in rows.to_pylist() if r["order_id"] == first_id]
    assert first["quantity"] == 9 and first["total"] == Decimal("9.00000000") and first["ds"] == DAY


def test_csv_stream_renders_every_row_once():
    rows, _ = transform(validate(acme_orders_csv(DAY, rows=1000, bad=0, duplicates=0), ORDERS).valid, ORDERS, DAY)
    stream = CsvStream(rows, batch_rows=128)
    out = b"".join(iter(lambda: stream.read(1000), b""))
    assert out.count(b"\n") == 1000 and stream.rows == 1000
