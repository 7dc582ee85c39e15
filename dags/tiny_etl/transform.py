"""Transforms of validated rows: dedupe on the key (the last delivery of a key wins), derived columns,
the partition day. Dropped duplicates are returned for the quarantine, not discarded.
"""

from __future__ import annotations

import datetime as dt

import pyarrow as pa
import pyarrow.compute as pc

from tiny_etl.tenant import Source


def _exact(column: pa.ChunkedArray) -> pa.ChunkedArray:
    """Ints as decimal(19,0): products of int and decimal(18,4) columns stay exact within decimal128."""
    return pc.cast(column, pa.decimal128(19, 0)) if pa.types.is_integer(column.type) else column


def dedupe(table: pa.Table, key: tuple[str, ...]) -> tuple[pa.Table, pa.Table]:
    """(kept rows, duplicate rows): per key, the row with the highest `_row` is kept."""
    if table.num_rows == 0:
        return table, table
    if len(key) == 1 and pc.count_distinct(table[key[0]]).as_py() == table.num_rows:
        return table, table.slice(0, 0)  # no key repeats (the usual day): no grouping, no copy
    last = table.group_by(list(key), use_threads=False).aggregate([("_row", "max")])
    keep = pc.is_in(table["_row"], value_set=last["_row_max"])
    return table.filter(keep), table.filter(pc.invert(keep))


def transform(table: pa.Table, source: Source, ds: dt.date) -> tuple[pa.Table, pa.Table]:
    """(rows ready to load in the warehouse column order, duplicates) for one day of one source."""
    kept, duplicates = dedupe(table, source.key)
    columns = {c: kept[c] for c in source.column_names}
    for derived in source.derived:
        a, b = (_exact(kept[f]) for f in derived.multiply)
        columns[derived.name] = pc.multiply_checked(a, b)
    columns["ds"] = pa.repeat(pa.scalar(ds, pa.date32()), kept.num_rows)
    return pa.table(columns), duplicates
