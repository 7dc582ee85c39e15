"""Validation of raw files, columnar (pyarrow): a wrong header rejects the file whole; each bad row is
kept with its reason for the quarantine; good rows come out typed. Nothing is dropped silently.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.json as pajson

from tiny_etl.tenant import Source

INT = r"^[+-]?[0-9]{1,18}$"  # fits int64
DECIMAL = r"^[+-]?([0-9]{1,14})(\.[0-9]{1,4})?$"
DATE_FORMAT = "%Y-%m-%d"
TIMESTAMP_FORMATS = ("%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M:%S")


class RejectedFile(ValueError):
    """The whole file is unusable (wrong header, not parseable): it goes to quarantine as it is."""


@dataclass
class Validated:
    """Outcome of validating one file."""

    valid: pa.Table       # typed rows, plus `_row` (delivery order within the file)
    rejected: pa.Table    # raw rows as text, plus `_row` and `_reason` (unsplittable rows: their line)
    rows_in: int


# The system allocator rather than pyarrow's default mimalloc pool: it hands freed blocks back to the OS while
# a task streams. `make bench` reports the ETL process's peak RSS with it (no committed run compares the two).
pa.set_memory_pool(pa.system_memory_pool())

CSV_BLOCK_BYTES = 1 << 20  # parse and validate 1 MiB at a time: memory stays flat in the file size


def _header(data: bytes | Path) -> str:
    if isinstance(data, Path):
        with data.open("rb") as fh:
            first = fh.readline()
    else:
        first = data.split(b"\n", 1)[0]
    return first.decode("utf-8", "replace").strip().lstrip("\ufeff")


def _csv_batches(data: bytes | Path, source: Source, bad: list[tuple[int, str]]) -> Iterator[pa.Table]:
    found = [h.strip() for h in _header(data).split(",")]
    if found != source.column_names:
        raise RejectedFile(f"header {found} does not match the schema {source.column_names}")

    def on_invalid(row: pacsv.InvalidRow) -> str:
        bad.append((row.number, f"expected {row.expected_columns} fields, found {row.actual_columns}: {row.text}"))
        return "skip"

    reader = pacsv.open_csv(
        str(data) if isinstance(data, Path) else pa.BufferReader(data),
        read_options=pacsv.ReadOptions(use_threads=False, block_size=CSV_BLOCK_BYTES),
        parse_options=pacsv.ParseOptions(invalid_row_handler=on_invalid, newlines_in_values=False),
        convert_options=pacsv.ConvertOptions(column_types=dict.fromkeys(source.column_names, pa.string()),
                                             strings_can_be_null=False, quoted_strings_can_be_null=False),
    )
    for batch in reader:
        yield pa.Table.from_batches([batch])


def _jsonl_batches(data: bytes | Path, source: Source) -> Iterator[pa.Table]:
    try:
        table = pajson.read_json(str(data) if isinstance(data, Path) else io.BytesIO(data))
    except pa.ArrowInvalid as exc:
        raise RejectedFile(f"not JSON lines: {exc}") from exc
    missing = [c for c in source.column_names if c not in table.column_names]
    if missing and table.num_rows:
        raise RejectedFile(f"fields {missing} missing from every record (schema {source.column_names})")
    yield pa.table({c: pc.cast(table[c], pa.string()) for c in source.column_names})


def _parse(column: pa.ChunkedArray, kind: str) -> tuple[pa.ChunkedArray, pa.ChunkedArray]:
    """(typed values, ok mask) for one text column; empty text is null."""
    text = pc.utf8_trim_whitespace(column)
    present = pc.not_equal(text, "")
    if kind == "text":
        return pc.if_else(present, text, pa.scalar(None, pa.string())), pa.scalar(True)
    if kind in ("int", "decimal"):
        ok = pc.match_substring_regex(text, INT if kind == "int" else DECIMAL)
        safe = pc.if_else(ok, text, "0")
        values = pc.cast(safe, pa.int64() if kind == "int" else pa.decimal128(18, 4))
        return pc.if_else(ok, values, pa.scalar(None, values.type)), pc.or_(ok, pc.invert(present))
    if kind == "date":
        parsed = pc.strptime(text, format=DATE_FORMAT, unit="s", error_is_null=True)
        values = pc.cast(parsed, pa.date32())
    else:
        values = pc.strptime(text, format=TIMESTAMP_FORMATS[0], unit="s", error_is_null=True)
        alt = pc.strptime(text, format=TIMESTAMP_FORMATS[1], unit="s", error_is_null=True)
        values = pc.coalesce(values, alt)
    return values, pc.or_(pc.is_valid(values), pc.invert(present))


def _check(raw: pa.Table, source: Source, first_row: int) -> tuple[pa.Table, pa.Table]:
    """(typed valid rows, rejected raw rows with reasons) of one batch of text rows."""
    n = raw.num_rows
    row_numbers = pa.array(range(first_row, first_row + n), pa.int64())
    typed, reason = {}, pa.array([""] * n, pa.string())
    for col in source.columns:
        values, ok = _parse(raw[col.name], col.type)
        typed[col.name] = values
        problem = pc.if_else(ok, "", f"{col.name}: not a valid {col.type}; ")
        if col.required:
            missing = pc.is_null(values)
            problem = pc.if_else(pc.and_(missing, ok), f"{col.name}: required but empty; ", problem)
        reason = pc.binary_join_element_wise(reason, problem, "")
    bad = pc.not_equal(reason, "")
    valid = pa.table({**{c: typed[c] for c in source.column_names}, "_row": row_numbers}).filter(pc.invert(bad))
    rejected = raw.append_column("_row", row_numbers).append_column("_reason", pc.utf8_rtrim(reason, "; ")).filter(bad)
    return valid, rejected


def validate(data: bytes | Path, source: Source) -> Validated:
    """Check every row against the source's schema, a block at a time; raises RejectedFile for a file
    that is wrong whole. `data` is the file's bytes or its path (streamed: memory stays flat)."""
    unsplittable: list[tuple[int, str]] = []
    batches = _csv_batches(data, source, unsplittable) if source.format == "csv" else _jsonl_batches(data, source)
    valid, rejected, rows = [], [], 0
    for raw in batches:
        good, bad = _check(raw, source, rows + 1)
        rows += raw.num_rows
        valid.append(good)
        if bad.num_rows:
            rejected.append(bad)
    if unsplittable:
        rejected.append(pa.table({
            **{c: pa.array([None] * len(unsplittable), pa.string()) for c in source.column_names},
            "_row": pa.array([r for r, _ in unsplittable], pa.int64()),
            "_reason": pa.array([why for _, why in unsplittable], pa.string())}))
    empty = _check(pa.table({c: pa.array([], pa.string()) for c in source.column_names}), source, 1)
    return Validated(valid=pa.concat_tables(valid) if valid else empty[0],
                     rejected=pa.concat_tables(rejected) if rejected else empty[1],
                     rows_in=rows + len(unsplittable))
