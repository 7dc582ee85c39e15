"""The tenant ETL DAGs run for real (dag.test()) against S3 and PostgreSQL with the sample data."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal

import pendulum
import pytest

from ci.dag_integrity import load_dag_file
from ci.paths import DAGS
from ci.sample_data import acme_orders_csv, clean_day, sample_day

DAY = dt.date(2026, 11, 24)
ROWS = 200


def run_dag(dag_id: str, file: str, day: dt.date = DAY):
    dag = load_dag_file((DAGS / file).resolve()).dags[dag_id]
    for t in dag.tasks:  # a failure must fail the test now, not wait out the 5-minute retry delay
        t.retries = 0
    return dag.test(logical_date=pendulum.datetime(day.year, day.month, day.day, tz="UTC"))


@pytest.fixture(scope="module")
def seeded(services):
    for raw in sample_day(DAY, rows=ROWS):
        services.put(raw.key, raw.body)
    return services


def snapshot(services) -> dict:
    return {
        "acme": services.query("SELECT * FROM tenant_acme.orders WHERE ds = %s ORDER BY order_id", (DAY,)),
        "globex": services.query("SELECT * FROM tenant_globex.shipments WHERE ds = %s ORDER BY shipment_id", (DAY,)),
    }


@pytest.fixture(scope="module")
def first_runs(seeded):
    runs = [run_dag("tenant_etl__acme", "tenant_etl.py"), run_dag("tenant_etl__globex", "tenant_etl.py")]
    return runs, snapshot(seeded)


def test_runs_succeed(first_runs):
    runs, _ = first_runs
    assert [r.state for r in runs] == ["success", "success"]


def test_rows_loaded_and_counts_reconcile(first_runs, seeded):
    _, rows = first_runs
    assert len(rows["acme"]) == ROWS and len(rows["globex"]) == ROWS
    runs = seeded.query("SELECT tenant, rows_in, rows_loaded, rows_quarantined, files_rejected, status "
                        "FROM etl.etl_runs WHERE ds = %s ORDER BY tenant, recorded_at", (DAY,))
    assert runs[0] == ("acme", ROWS + 7, ROWS, 7, 1, "ok")       # 4 bad rows + 3 duplicate deliveries
    assert runs[-1] == ("globex", ROWS + 2, ROWS, 2, 0, "ok")


def test_bad_file_and_bad_rows_are_quarantined_with_reasons(first_runs, seeded):
    q = seeded.keys(f"quarantine/acme/{DAY}/orders/")
    assert q == [f"quarantine/acme/{DAY}/orders/duplicates.csv",
                 f"quarantine/acme/{DAY}/orders/orders-1.csv.rejected-rows.csv",
                 f"quarantine/acme/{DAY}/orders/orders-2.csv",
                 f"quarantine/acme/{DAY}/orders/orders-2.csv.reason.txt"]
    assert b"header" in seeded.get(f"quarantine/acme/{DAY}/orders/orders-2.csv.reason.txt")
    rejected = seeded.get(f"quarantine/acme/{DAY}/orders/orders-1.csv.rejected-rows.csv").decode()
    for reason in ("quantity: not a valid int", "customer_id: required but empty",
                   "ordered_at: not a valid timestamp", "expected 7 fields, found 5"):
        assert reason in rejected
    assert b"shipped_on: not a valid date" in seeded.get(
        f"quarantine/globex/{DAY}/shipments/shipments-1.jsonl.rejected-rows.csv")


def test_duplicates_keep_the_later_delivery_and_derive_total(first_runs, seeded):
    first_id = int(DAY.strftime("%Y%m%d")) * 1_000_000
    (row,) = seeded.query("SELECT quantity, unit_price, total FROM tenant_acme.orders WHERE order_id = %s", (first_id,))
    assert row[0] == 9 and float(row[1]) == 1.0 and float(row[2]) == 9.0


def test_same_day_twice_gives_the_same_rows(first_runs, seeded):
    _, before = first_runs
    assert run_dag("tenant_etl__acme", "tenant_etl.py").state == "success"
    assert run_dag("tenant_etl__globex", "tenant_etl.py").state == "success"
    assert snapshot(seeded) == before


def test_a_new_tenant_file_gives_a_working_dag(seeded, tmp_path, monkeypatch):
    from airflow.dag_processing.dagbag import DagBag

    tenants = tmp_path / "tenants"
    tenants.mkdir()
    acme = (DAGS / "tenants" / "acme.yml").read_text()
    (tenants / "initech.yml").write_text(acme.replace("tenant: acme", "tenant: initech"))
    monkeypatch.setenv("TINY_TENANTS_DIR", str(tenants))
    seeded.add_tenant("initech")  # what the next configure does for a new tenant file
    for raw in sample_day(DAY, rows=50):
        if raw.key.startswith("raw/acme/") and not raw.rejected_whole:
            seeded.put(raw.key.replace("raw/acme/", "raw/initech/"), raw.body)
    dag = DagBag(dag_folder=str(DAGS / "tenant_etl.py"), load_op_links=False).dags["tenant_etl__initech"]
    for t in dag.tasks:
        t.retries = 0
    assert dag.test(logical_date=pendulum.datetime(DAY.year, DAY.month, DAY.day, tz="UTC")).state == "success"
    assert seeded.query("SELECT count(*) FROM tenant_initech.orders WHERE ds = %s", (DAY,)) == [(50,)]


def test_analytics_builds_daily_totals(first_runs, seeded):
    assert run_dag("tenant_analytics__acme", "tenant_analytics.py").state == "success"
    ((rows, total),) = seeded.query("SELECT rows, total FROM analytics.daily_totals WHERE tenant = 'acme' AND ds = %s",
                                    (DAY,))
    ((expected,),) = seeded.query("SELECT sum(quantity * unit_price) FROM tenant_acme.orders WHERE ds = %s", (DAY,))
    assert rows == ROWS and total == expected


# --- real deliveries (issue 14): clean days load whole, bad bytes cost one row ---------------------------

CLEAN_DAY = dt.date(2026, 11, 25)
BYTES_DAY = dt.date(2026, 11, 26)


def test_a_clean_day_of_each_tenant_loads_whole(services):
    for raw in clean_day(CLEAN_DAY, rows=ROWS):
        services.put(raw.key, raw.body)
    assert run_dag("tenant_etl__acme", "tenant_etl.py", CLEAN_DAY).state == "success"
    assert run_dag("tenant_etl__globex", "tenant_etl.py", CLEAN_DAY).state == "success"
    runs = services.query("SELECT tenant, rows_in, rows_loaded, rows_quarantined, files_rejected FROM etl.etl_runs "
                          "WHERE ds = %s ORDER BY tenant", (CLEAN_DAY,))
    assert runs == [("acme", ROWS, ROWS, 0, 0), ("globex", ROWS, ROWS, 0, 0)]
    assert services.keys(f"quarantine/acme/{CLEAN_DAY}/") == services.keys(f"quarantine/globex/{CLEAN_DAY}/") == []
    # JSON numbers are the exact decimals delivered; the ISO dates are the day's
    first = json.loads(clean_day(CLEAN_DAY, rows=1)[1].body.splitlines()[0], parse_float=Decimal)
    assert services.query("SELECT shipped_on, weight_kg, cost_per_kg FROM tenant_globex.shipments WHERE shipment_id "
                          "= %s", (first["shipment_id"],)) == [(CLEAN_DAY, first["weight_kg"], first["cost_per_kg"])]


def test_a_latin1_byte_quarantines_its_row_and_the_good_rows_load(services):
    good = acme_orders_csv(BYTES_DAY, rows=10, bad=0, duplicates=0)
    lines = good.splitlines(keepends=True)
    fields = lines[3].split(b",")
    fields[3] = b"Caf\xe9"  # the product, in Latin-1
    bad_line = b",".join(fields)
    services.put(f"raw/acme/{BYTES_DAY}/orders-1.csv", b"".join([*lines[:3], bad_line, *lines[4:]]))
    assert run_dag("tenant_etl__acme", "tenant_etl.py", BYTES_DAY).state == "success"
    assert services.query("SELECT rows_in, rows_loaded, rows_quarantined, status FROM etl.etl_runs WHERE tenant = "
                          "'acme' AND ds = %s", (BYTES_DAY,)) == [(10, 9, 1, "ok")]
    rejected = services.get(f"quarantine/acme/{BYTES_DAY}/orders/orders-1.csv.rejected-rows.csv").decode()
    offset = len(b"".join(lines[:3])) + bad_line.index(b"\xe9")
    assert f"line 4, byte offset {offset}: not valid utf-8 (byte 0xe9)" in rejected


def test_timestamps_are_stored_in_utc(first_runs, services):
    (kind,) = services.query("SELECT data_type FROM information_schema.columns WHERE table_schema = 'tenant_acme' "
                             "AND table_name = 'orders' AND column_name = 'ordered_at'")
    assert kind == ("timestamp with time zone",)
