"""tiny_etl.inventory: raw key layout and the per-tenant day summary."""

from __future__ import annotations

import pytest

from tiny_etl.inventory import InvalidRawKey, RawObject, parse_key, summarise


def test_parse_key():
    assert parse_key("raw/acme/2026-11-24/orders.csv") == ("acme", "2026-11-24", "orders.csv")


@pytest.mark.parametrize("key", ["acme/2026-11-24/orders.csv", "raw/acme/orders.csv", "raw/acme/24-11-2026/x.csv",
                                 "raw//2026-11-24/x.csv", "raw/acme/2026-11-24/sub/x.csv"])
def test_parse_key_rejects_other_layouts(key):
    with pytest.raises(InvalidRawKey, match="raw/<tenant>"):
        parse_key(key)


def test_summarise_counts_per_tenant_for_the_day_and_lists_bad_keys():
    objects = [
        RawObject("raw/acme/2026-11-24/a.csv", 100),
        RawObject("raw/acme/2026-11-24/b.csv", 50),
        RawObject("raw/globex/2026-11-24/c.jsonl", 7),
        RawObject("raw/globex/2026-11-23/old.jsonl", 999),
        RawObject("raw/stray.csv", 1),
    ]
    assert summarise(objects, "2026-11-24") == {
        "ds": "2026-11-24",
        "tenants": [{"tenant": "acme", "files": 2, "bytes": 150}, {"tenant": "globex", "files": 1, "bytes": 7}],
        "invalid_keys": ["raw/stray.csv"],
    }


def test_summarise_empty_day():
    assert summarise([], "2026-11-24") == {"ds": "2026-11-24", "tenants": [], "invalid_keys": []}
