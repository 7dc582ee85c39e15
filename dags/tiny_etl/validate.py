"""Validation of raw files, columnar (pyarrow): each bad row is kept with its reason for the quarantine; good
rows come out typed. Nothing is dropped silently, nothing is inferred from the data, and no byte of a file
raises anything but `RejectedFile` (a file that is wrong whole: wrong header, not line-delimited).

Reading (encodings, CSV, JSON lines) is in lines.py and readers.py; here each text value is checked against
its column's type, the same way for every format:
- int: an optional sign and up to 18 digits; decimal: up to 14 digits and 4 decimals (exact, numeric(19,4));
- date: YYYY-MM-DD, a real day (2026-02-30 is not one);
- timestamp: YYYY-MM-DD[T ]HH:MM[:SS[.ffffff]] with an optional Z or +HH:MM / +HHMM offset, stored in UTC;
  a timestamp without an offset is read in the tenant's time zone (one that does not exist there, skipped by a
  daylight-saving change, is rejected; an ambiguous one is the first of the two);
- text: anything but a NUL character; empty text is null, and a required column must not be null.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc

from tiny_etl.lines import RejectedFile
from tiny_etl.readers import TextRows, csv_rows, jsonl_rows
from tiny_etl.tenant import Source

__all__ = ["RejectedFile", "Validated", "validate"]

INT = r"^[+-]?[0-9]{1,18}$"  # fits int64
DECIMAL = r"^[+-]?([0-9]{1,14})(\.[0-9]{1,4})?$"
DATE = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$"
TIMESTAMP = (r"^(?P<day>[0-9]{4}-[0-9]{2}-[0-9]{2})[T ](?P<hm>[0-9]{2}:[0-9]{2})(?::(?P<sec>[0-9]{2})"
             r"(?:\.(?P<frac>[0-9]{1,6}))?)?(?P<zone>Z|[+-][0-9]{2}:?[0-9]{2})?$")
US = pa.timestamp("us", tz="UTC")
MICROS_PER_MINUTE = 60_000_000


@dataclass
class Validated:
    """Outcome of validating one file."""

    valid: pa.Table       # typed rows, plus `_row` (the row's line in the file: delivery order)
    rejected: pa.Table    # raw rows as text, plus `_row` and `_reason` (lines rejected before typing: nulls)
    rows_in: int
    last_row: int = 0     # the highest line number seen: the next file's rows are numbered after it
    ignored_fields: dict[str, int] = field(default_factory=dict)  # JSON fields the schema does not know


# The system allocator rather than pyarrow's default mimalloc pool: it hands freed blocks back to the OS while
# a task streams. `make bench` reports the ETL process's peak RSS with it (no committed run compares the two).
pa.set_memory_pool(pa.system_memory_pool())


def _strict(text: pa.ChunkedArray, pattern: str, fmt: str) -> pa.ChunkedArray:
    """Parse `text` with strptime, null unless it matches `pattern` and formats back to itself (arrow's
    strptime is lenient: 2026-02-30 would become 2026-03-02) in years 1 to 9999."""
    shaped = pc.match_substring_regex(text, pattern)
    parsed = pc.strptime(pc.if_else(shaped, text, pa.scalar(None, pa.string())), format=fmt, unit="s",
                         error_is_null=True)
    same = pc.equal(pc.strftime(parsed, format=fmt), text)
    year = pc.year(parsed)
    ok = pc.and_(same, pc.and_(pc.greater_equal(year, 1), pc.less_equal(year, 9999)))
    return pc.if_else(ok, parsed, pa.scalar(None, parsed.type))


def _micros(digits: pa.ChunkedArray, width: int) -> pa.ChunkedArray:
    """Regex-checked digit text (empty: 0) as an int64, right-padded with zeros to `width` digits."""
    padded = pc.utf8_rpad(digits, width=width, padding="0")
    return pc.cast(pc.if_else(pc.equal(digits, ""), "0", padded), pa.int64())


def _cast(text: pa.ChunkedArray, shaped: pa.ChunkedArray, placeholder: str, kind: pa.DataType) -> pa.ChunkedArray:
    """Arrow's ISO 8601 cast (strict, fast) of the shaped values; raises ArrowInvalid if any is not a real time."""
    return pc.cast(pc.if_else(shaped, text, placeholder), kind)


def _in_years(values: pa.ChunkedArray) -> pa.ChunkedArray:
    """Values in years 1 to 9999 (PostgreSQL has no year 0), others null."""
    year = pc.year(values)
    ok = pc.fill_null(pc.and_(pc.greater_equal(year, 1), pc.less_equal(year, 9999)), False)
    return pc.if_else(ok, values, pa.scalar(None, values.type))


def _dates(text: pa.ChunkedArray) -> pa.ChunkedArray:
    shaped = pc.match_substring_regex(text, DATE)
    try:
        values = _cast(text, shaped, "1970-01-01", pa.date32())
    except pa.ArrowInvalid:  # an impossible day somewhere in the block: the slower check finds which
        return _in_years(pc.cast(_strict(text, DATE, "%Y-%m-%d"), pa.date32()))
    return _in_years(pc.if_else(shaped, values, pa.scalar(None, pa.date32())))


def _timestamps(text: pa.ChunkedArray, timezone: str) -> pa.ChunkedArray:
    """Timestamps in UTC (null where invalid); see the module's docstring. The usual block casts at once;
    a block with an impossible value takes the component-wise path."""
    shaped = pc.match_substring_regex(text, TIMESTAMP)
    zoned = pc.and_(shaped, pc.match_substring_regex(text, r"(Z|[+-][0-9]{2}:?[0-9]{2})$"))
    try:
        local = _cast(text, pc.and_(shaped, pc.invert(zoned)), "1970-01-01T00:00:00", pa.timestamp("us"))
        utc = _cast(text, zoned, "1970-01-01T00:00:00Z", US) if pc.any(zoned).as_py() else None
    except pa.ArrowInvalid:
        return _timestamps_strict(text, timezone)
    naive = _from_wall_clock(pc.cast(local, pa.int64()), timezone)
    values = pc.cast(naive, US) if utc is None else pc.if_else(zoned, utc, pc.cast(naive, US))
    return _in_years(pc.if_else(shaped, values, pa.scalar(None, US)))


def _from_wall_clock(local: pa.ChunkedArray, timezone: str) -> pa.ChunkedArray:
    """Microseconds of wall-clock time in `timezone` as microseconds since the epoch in UTC (null: a time the
    clock skipped at a daylight-saving change; a time it showed twice is the first of the two)."""
    if timezone == "UTC":
        return local
    wall = pc.cast(local, pa.timestamp("us"))
    first = pc.assume_timezone(wall, timezone=timezone, ambiguous="earliest", nonexistent="earliest")
    after = pc.assume_timezone(wall, timezone=timezone, ambiguous="earliest", nonexistent="latest")
    return pc.if_else(pc.equal(first, after), pc.cast(first, pa.int64()), pa.scalar(None, pa.int64()))


def _timestamps_strict(text: pa.ChunkedArray, timezone: str) -> pa.ChunkedArray:
    """Timestamps in UTC, value by value from their parts: an impossible one is null, not the whole block."""
    parts = pc.extract_regex(pc.if_else(pc.match_substring_regex(text, TIMESTAMP), text, ""), pattern=TIMESTAMP)
    part = {name: pc.fill_null(pc.struct_field(parts, name), "") for name in ("day", "hm", "sec", "frac", "zone")}
    seconds = pc.if_else(pc.equal(part["sec"], ""), "00", part["sec"])
    whole = pc.binary_join_element_wise(part["day"], "T", part["hm"], ":", seconds, "")
    local = pc.add(pc.cast(pc.cast(_strict(whole, r"^.{19}$", "%Y-%m-%dT%H:%M:%S"), pa.timestamp("us")), pa.int64()),
                   _micros(part["frac"], 6))
    zone = part["zone"]
    digits = pc.replace_substring(pc.utf8_slice_codeunits(zone, 1), ":", "")
    offset_ok = pc.match_substring_regex(digits, r"^([01][0-9]|2[0-3])[0-5][0-9]$")
    minutes = pc.add(pc.multiply(_micros(pc.utf8_slice_codeunits(digits, 0, 2), 2), 60),
                     _micros(pc.utf8_slice_codeunits(digits, 2, 4), 2))
    signed = pc.if_else(pc.starts_with(zone, "-"), pc.negate(minutes), minutes)
    with_offset = pc.if_else(offset_ok, pc.subtract(local, pc.multiply(signed, MICROS_PER_MINUTE)),
                             pa.scalar(None, pa.int64()))
    naive = _from_wall_clock(local, timezone)
    utc = pc.if_else(pc.equal(zone, ""), naive, pc.if_else(pc.equal(zone, "Z"), local, with_offset))
    return _in_years(pc.cast(utc, US))


def _parse(column: pa.ChunkedArray, kind: str, timezone: str) -> tuple[pa.ChunkedArray, pa.ChunkedArray]:
    """(typed values, ok mask) for one text column; empty text is null."""
    text = pc.utf8_trim_whitespace(column)
    present = pc.not_equal(text, "")
    if kind == "text":
        ok = pc.invert(pc.match_substring(text, "\x00"))  # JSON's \u0000: PostgreSQL text cannot hold it
        return pc.if_else(present, text, pa.scalar(None, pa.string())), ok
    if kind in ("int", "decimal"):
        ok = pc.match_substring_regex(text, INT if kind == "int" else DECIMAL)
        safe = pc.if_else(ok, text, "0")
        values = pc.cast(safe, pa.int64() if kind == "int" else pa.decimal128(18, 4))
        return pc.if_else(ok, values, pa.scalar(None, values.type)), pc.or_(ok, pc.invert(present))
    values = _dates(text) if kind == "date" else _timestamps(text, timezone)
    return values, pc.or_(pc.is_valid(values), pc.invert(present))


def _check(raw: pa.Table, rows: pa.Array, source: Source, timezone: str) -> tuple[pa.Table, pa.Table]:
    """(typed valid rows, rejected raw rows with reasons) of one batch of text rows numbered `rows`."""
    typed, reason = {}, pa.array([""] * raw.num_rows, pa.string())
    for col in source.columns:
        values, ok = _parse(raw[col.name], col.type, timezone)
        typed[col.name] = values
        problem = pc.if_else(ok, "", f"{col.name}: not a valid {col.type}; ")
        if col.required:
            missing = pc.is_null(values)
            problem = pc.if_else(pc.and_(missing, ok), f"{col.name}: required but empty; ", problem)
        reason = pc.binary_join_element_wise(reason, problem, "")
    bad = pc.not_equal(reason, "")
    valid = pa.table({**{c: typed[c] for c in source.column_names}, "_row": rows}).filter(pc.invert(bad))
    rejected = raw.append_column("_row", rows).append_column("_reason", pc.utf8_rtrim(reason, "; ")).filter(bad)
    return valid, rejected


def _unreadable(lines: list[tuple[int, str]], source: Source) -> pa.Table:
    """Rejected rows for lines that never became rows: no values, the line and reason only."""
    return pa.table({**{c: pa.array([None] * len(lines), pa.string()) for c in source.column_names},
                     "_row": pa.array([n for n, _ in lines], pa.int64()),
                     "_reason": pa.array([why for _, why in lines], pa.string())})


def _reader(source: Source) -> type:
    return {"csv": csv_rows, "jsonl": jsonl_rows}[source.format]


def validate(data: bytes | Path, source: Source, timezone: str = "UTC") -> Validated:
    """Check every row against the source's schema, a block at a time; raises RejectedFile for a file that is
    wrong whole. `data` is the file's bytes or its path (streamed: memory stays flat); `timezone` is the
    tenant's, for timestamps delivered without an offset."""
    batches: Iterator[TextRows] = _reader(source)(data, source)
    valid, rejected, rows_in, last, ignored = [], [], 0, 0, Counter()
    for batch in batches:
        numbers = pa.array(batch.rows, pa.int64())
        good, bad = _check(batch.table, numbers, source, timezone)
        valid.append(good)
        for table in (bad, _unreadable(batch.rejected, source)):
            if table.num_rows:
                rejected.append(table)
        rows_in += batch.table.num_rows + len(batch.rejected)
        last = max(last, batch.rows[-1] if len(batch.rows) else 0, max((n for n, _ in batch.rejected), default=0))
        ignored.update(batch.ignored)
    empty = _check(pa.table({c: pa.array([], pa.string()) for c in source.column_names}),
                   pa.array([], pa.int64()), source, timezone)
    return Validated(valid=pa.concat_tables(valid) if valid else empty[0],
                     rejected=pa.concat_tables(rejected).sort_by("_row") if rejected else empty[1],
                     rows_in=rows_in, last_row=last, ignored_fields=dict(ignored))
