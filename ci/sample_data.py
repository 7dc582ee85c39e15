"""Deterministic sample raw files for the two sample tenants: realistic rows, a few bad rows, duplicates,
and one file with a wrong header. The same seed and day always give the same bytes.
"""

from __future__ import annotations

import datetime as dt
import json
import random
from dataclasses import dataclass

COUNTRIES = ["DE", "FR", "NL", "PL", "ES", "IT", "SE", ""]
PRODUCTS = ["kettle", "toaster", "blender", "mixer", "grinder", "scale", "juicer"]
CITIES = ["Hamburg", "Rotterdam", "Antwerp", "Gdansk", "Valencia", "Genoa", "Gothenburg"]


@dataclass(frozen=True)
class RawFile:
    """One object to put in the raw bucket, and what it is meant to contain."""

    key: str
    body: bytes
    good_rows: int
    bad_rows: int
    duplicate_rows: int
    rejected_whole: bool = False


def _rng(seed: int, ds: dt.date, name: str) -> random.Random:
    return random.Random(f"{seed}:{ds.isoformat()}:{name}")  # noqa: S311 - sample data, not security


def acme_orders_csv(ds: dt.date, rows: int, seed: int = 7, bad: int = 4, duplicates: int = 3) -> bytes:
    """acme's orders for a day: `rows` good rows (ids unique), then `bad` bad rows and `duplicates` repeats."""
    rng = _rng(seed, ds, "acme")
    base = int(ds.strftime("%Y%m%d")) * 1_000_000
    lines = ["order_id,customer_id,ordered_at,product,quantity,unit_price,country"]
    start = dt.datetime.combine(ds, dt.time())
    for i in range(rows):
        at = start + dt.timedelta(seconds=rng.randrange(86_400))
        lines.append(f"{base + i},{rng.randrange(1, 50_000)},{at:%Y-%m-%dT%H:%M:%S},{rng.choice(PRODUCTS)},"
                      f"{rng.randrange(1, 6)},{rng.randrange(199, 19_999) / 100:.2f},{rng.choice(COUNTRIES)}")
    broken = [
        f"{base + rows},17,{ds}T10:00:00,kettle,two,19.99,DE",          # quantity not an int
        f"{base + rows + 1},,{ds}T10:05:00,toaster,1,24.50,FR",          # required customer_id empty
        f"{base + rows + 2},18,yesterday,mixer,1,49.00,NL",              # timestamp not parseable
        f"{base + rows + 3},19,{ds}T11:00:00,scale,1",                   # missing fields
    ]
    lines += broken[:bad]
    for i in range(duplicates):  # re-delivered orders: the later line wins
        lines.append(f"{base + i},{rng.randrange(1, 50_000)},{ds}T23:59:00,{PRODUCTS[0]},9,1.00,DE")
    return ("\n".join(lines) + "\n").encode()


def globex_shipments_jsonl(ds: dt.date, rows: int, seed: int = 7, bad: int = 2, numbers: bool = False) -> bytes:
    """globex's shipments for a day as JSON lines, with `bad` bad records; `numbers`: weights and prices as
    JSON numbers (12.5) rather than strings ("12.5"), as many exporters write them."""
    rng = _rng(seed, ds, "globex")
    base = int(ds.strftime("%Y%m%d")) * 1_000_000
    out = []
    for i in range(rows):
        weight, cost = f"{rng.randrange(1, 50_000) / 10:.1f}", f"{rng.randrange(5, 300) / 100:.2f}"
        out.append({"shipment_id": base + i, "shipped_on": ds.isoformat(), "origin": rng.choice(CITIES),
                    "destination": rng.choice(CITIES), "weight_kg": float(weight) if numbers else weight,
                    "cost_per_kg": float(cost) if numbers else cost})
    broken = [
        {"shipment_id": base + rows, "shipped_on": "31/12/2026", "origin": "Hamburg", "destination": "Genoa",
         "weight_kg": "10.0", "cost_per_kg": "0.50"},                                  # date in the wrong format
        {"shipment_id": base + rows + 1, "shipped_on": ds.isoformat(), "origin": "", "destination": "Genoa",
         "weight_kg": "-", "cost_per_kg": "0.50"},                                      # empty origin, bad weight
    ]
    out += broken[:bad]
    return ("\n".join(json.dumps(o) for o in out) + "\n").encode()


def sample_day(ds: dt.date, rows: int = 200, seed: int = 7) -> list[RawFile]:
    """The sample objects of one day for both tenants, with the counts they must produce."""
    return [
        RawFile(f"raw/acme/{ds}/orders-1.csv", acme_orders_csv(ds, rows, seed), rows, 4, 3),
        RawFile(f"raw/acme/{ds}/orders-2.csv",
                b"id;customer;when;what\n1;2;3;4\n", 0, 0, 0, rejected_whole=True),  # wrong header: whole file
        RawFile(f"raw/globex/{ds}/shipments-1.jsonl", globex_shipments_jsonl(ds, rows, seed), rows, 2, 0),
    ]


def clean_day(ds: dt.date, rows: int = 200, seed: int = 7) -> list[RawFile]:
    """A day with nothing wrong in it, for both tenants: every row must load (JSON numbers, ISO dates)."""
    return [
        RawFile(f"raw/acme/{ds}/orders-1.csv", acme_orders_csv(ds, rows, seed, bad=0, duplicates=0), rows, 0, 0),
        RawFile(f"raw/globex/{ds}/shipments-1.jsonl", globex_shipments_jsonl(ds, rows, seed, bad=0, numbers=True),
                rows, 0, 0),
    ]
