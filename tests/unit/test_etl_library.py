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


def test_jsonl_records_without_the_schema_fields_are_rejected_rows_and_unknown_fields_counted():
    checked = validate(b'{"foo": 1}\n{"foo": 2}\n', SHIPMENTS)
    assert checked.rows_in == 2 and checked.valid.num_rows == 0 and checked.ignored_fields == {"foo": 2}
    assert checked.rejected["_reason"].to_pylist()[0].startswith("shipment_id: required but empty; ")


def test_bad_rows_have_reasons_and_counts_add_up():
    checked = validate(acme_orders_csv(DAY, rows=50), ORDERS)
    assert checked.rows_in == 57 and checked.valid.num_rows == 53 and checked.rejected.num_rows == 4
    assert sorted(checked.rejected["_reason"].to_pylist()) == [
        "customer_id: required but empty", "line 55: expected 7 fields, found 5: "
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


# --- any bytes, the schema drives reading (issue 14) ------------------------------------------------------

HEADER = b"order_id,customer_id,ordered_at,product,quantity,unit_price,country\n"


def reasons(checked) -> dict[int, str]:
    return dict(zip(checked.rejected["_row"].to_pylist(), checked.rejected["_reason"].to_pylist(), strict=True))


def test_a_latin1_byte_rejects_its_row_naming_line_and_offset_and_the_other_rows_load():
    data = HEADER + b"1,2,2026-11-24T10:00:00,tea,1,2.50,DE\n2,2,2026-11-24T10:00:00,Caf\xe9,1,2.50,DE\n"
    checked = validate(data, ORDERS)
    assert checked.rows_in == 2 and checked.valid["order_id"].to_pylist() == [1]
    offset = len(HEADER) + len(b"1,2,2026-11-24T10:00:00,tea,1,2.50,DE\n") + len(b"2,2,2026-11-24T10:00:00,Caf")
    assert reasons(checked) == {3: f"line 3, byte offset {offset}: not valid utf-8 (byte 0xe9): "
                                   "2,2,2026-11-24T10:00:00,Caf\\xe9,1,2.50,DE"}


def test_a_declared_encoding_decodes_the_file():
    import dataclasses

    data = HEADER + "1,2,2026-11-24T10:00:00,Café,1,2.50,DE\n".encode("cp1252")
    checked = validate(data, dataclasses.replace(ORDERS, encoding="cp1252"))
    assert checked.valid["product"].to_pylist() == ["Café"] and checked.rejected.num_rows == 0


@pytest.mark.parametrize(("line", "reason"), [
    (b"1,2,2026-11-24T10:00:00,t\x00a,1,2.50,DE", "a NUL byte, which the warehouse cannot store"),
    (b"1,2,2026-11-24T10:00:00,t\ra,1,2.50,DE", "a carriage return inside the line"),
    (b'1,2,2026-11-24T10:00:00,"tea,1,2.50,DE', "line 2: "),                    # a quote left open
])
def test_lines_no_parser_can_split_are_rejected_rows(line, reason):
    checked = validate(HEADER + line + b"\n3,2,2026-11-24T10:00:00,tea,1,2.50,DE\n", ORDERS)
    assert checked.rows_in == 2 and checked.valid["order_id"].to_pylist() == [3]
    assert reason in reasons(checked)[2]


def test_crlf_bom_and_blank_lines_are_line_endings_not_rows():
    data = b"\xef\xbb\xbf" + HEADER.replace(b"\n", b"\r\n") + b"1,2,2026-11-24T10:00:00,tea,1,2.50,DE\r\n\r\n\n" \
        b"2,2,2026-11-24T10:00:00,tea,1,2.50,DE\r\n"
    checked = validate(data, ORDERS)
    assert checked.rows_in == 2 and checked.valid["_row"].to_pylist() == [2, 5]


def test_a_file_that_is_not_line_delimited_is_rejected_whole(monkeypatch):
    from tiny_etl import lines

    monkeypatch.setattr(lines, "MAX_LINE_BYTES", 1000)
    monkeypatch.setattr(lines, "BLOCK_BYTES", 256)
    with pytest.raises(RejectedFile, match=r"line 2 \(from byte offset 68\) is longer than 1000 bytes"):
        validate(HEADER + b"x" * 5000, ORDERS)


def test_an_undecodable_header_rejects_the_file():
    with pytest.raises(RejectedFile, match="the header cannot be read: line 1, byte offset 5: not valid utf-8"):
        validate(b"order\xff_id\n1\n", ORDERS)


def test_impossible_dates_and_timestamps_are_not_moved_to_a_real_day():
    data = (HEADER + b"1,2,2026-02-30T10:00:00,tea,1,2.50,DE\n2,2,2026-11-24T24:00:00,tea,1,2.50,DE\n"
            b"3,2,0000-01-01T10:00:00,tea,1,2.50,DE\n4,2,2026-1-5T10:00:00,tea,1,2.50,DE\n")
    checked = validate(data, ORDERS)
    assert checked.valid.num_rows == 0
    assert set(reasons(checked).values()) == {"ordered_at: not a valid timestamp"}
    shipped = validate(b'{"shipment_id": 1, "shipped_on": "2026-02-29", "origin": "a", "destination": "b", '
                       b'"weight_kg": 1, "cost_per_kg": 1}\n', SHIPMENTS)
    assert reasons(shipped) == {1: "shipped_on: not a valid date"}


def test_timestamps_with_offsets_are_stored_in_utc_and_naive_ones_read_in_the_tenant_zone():
    data = (HEADER + b"1,2,2026-11-24T10:00:00Z,tea,1,2.50,DE\n2,2,2026-11-24 10:00:00.25+0130,tea,1,2.50,DE\n"
            b"3,2,2026-07-01T10:00,tea,1,2.50,DE\n4,2,2026-03-29T02:30:00,tea,1,2.50,DE\n"
            b"5,2,2026-10-25T02:30:00,tea,1,2.50,DE\n")
    utc = dt.UTC
    checked = validate(data, ORDERS, "Europe/Berlin")
    assert checked.valid["ordered_at"].to_pylist() == [
        dt.datetime(2026, 11, 24, 10, tzinfo=utc), dt.datetime(2026, 11, 24, 8, 30, 0, 250000, tzinfo=utc),
        dt.datetime(2026, 7, 1, 8, tzinfo=utc),          # summer time: +02:00
        dt.datetime(2026, 10, 25, 0, 30, tzinfo=utc)]    # twice on the clock: the first (summer time)
    assert reasons(checked) == {5: "ordered_at: not a valid timestamp"}  # skipped by the clock change
    assert validate(data, ORDERS).valid["ordered_at"].to_pylist()[2] == dt.datetime(2026, 7, 1, 10, tzinfo=utc)


def test_json_numbers_are_values_exactly_and_never_binary_floats():
    line = (b'{"shipment_id": 1.0e1, "shipped_on": "2026-11-24", "origin": "a", "destination": "b", '
            b'"weight_kg": 12.5, "cost_per_kg": 0.1000, "note": [1]}\n'
            b'{"shipment_id": "11", "shipped_on": "2026-11-24", "origin": true, "destination": "b", '
            b'"weight_kg": "12345678901234.1234", "cost_per_kg": 1e-5}\n')
    checked = validate(line, SHIPMENTS)
    (row,) = checked.valid.to_pylist()
    assert row["shipment_id"] == 10 and row["weight_kg"] == Decimal("12.5") and row["cost_per_kg"] == Decimal("0.1")
    assert reasons(checked) == {2: "cost_per_kg: not a valid decimal"}  # 4 decimals at most: never rounded
    assert checked.ignored_fields == {"note": 1}


@pytest.mark.parametrize(("line", "reason"), [
    (b"[1, 2]", "line 1: a JSON array, not an object"),
    (b'"text"', "line 1: a JSON string, not an object"),
    (b"null", "line 1: a JSON null, not an object"),
    (b'{"shipment_id": {"id": 1}}', "line 1: shipment_id: a JSON object where a single value is wanted"),
    (b'{"origin": [1]}', "line 1: origin: a JSON array where a single value is wanted"),
    (b'{"shipment_id": 1, "shipment_id": 2}', "line 1: field 'shipment_id' appears twice"),
    (b'{"shipment_id": NaN}', "line 1: not valid JSON (NaN is not a JSON number)"),
    (b'{"origin": "\\ud800"}', "line 1: origin: a lone UTF-16 surrogate escape, which is not text"),
    (b'{"origin": "a\\u0000b", "shipment_id": 1, "shipped_on": "2026-11-24", "destination": "b", "weight_kg": 1, '
     b'"cost_per_kg": 1}', "origin: not a valid text"),
    (b"{" * 100_000, "line 1: not valid JSON"),
])
def test_a_json_line_that_is_not_a_record_is_a_rejected_row(line, reason):
    checked = validate(line + b"\n" + globex_shipments_jsonl(DAY, rows=1, bad=0), SHIPMENTS)
    assert checked.rows_in == 2 and checked.valid.num_rows == 1
    assert reasons(checked)[1].startswith(reason)


def test_a_clean_jsonl_day_with_iso_dates_and_numbers_loads_whole():
    """Issue 14: a file with no bad record must not have its dates inferred as timestamps."""
    records = b"".join(
        b'{"shipment_id": %d, "shipped_on": "2026-11-24", "origin": "Hamburg", "destination": "Genoa", '
        b'"weight_kg": 12.5, "cost_per_kg": 0.25}\n' % i for i in range(1, 4))
    checked = validate(records, SHIPMENTS)
    assert checked.valid.num_rows == 3 and checked.rejected.num_rows == 0
    assert checked.valid["shipped_on"].to_pylist() == [DAY] * 3


def test_rows_keep_their_line_numbers_across_blocks(monkeypatch):
    from tiny_etl import lines

    monkeypatch.setattr(lines, "BLOCK_BYTES", 200)
    data = acme_orders_csv(DAY, rows=40)
    whole = validate(data, ORDERS)
    assert whole.valid["_row"].to_pylist() == [*range(2, 42), 46, 47, 48]
    assert whole.last_row == 48 and whole.rows_in == 47
