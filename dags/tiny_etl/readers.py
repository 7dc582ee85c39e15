"""CSV and JSON-lines files to rows of text, a block at a time, with the schema's columns and nothing inferred.

Each reader yields `TextRows`: one string column per schema column (the value as delivered; "" for empty or
absent), each row's line number, and the lines rejected before any typing (with their reasons). Types are
checked afterwards, the same way for both formats (validate.py): a JSON number and a JSON string holding the
same digits are the same value, and a number never passes through a binary float.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path

import pyarrow as pa
import pyarrow.csv as pacsv

from tiny_etl.lines import LineBlock, RejectedFile, line_blocks, shown
from tiny_etl.tenant import Source

# A JSON \uD800-\uDFFF escape: a lone one decodes to a surrogate, which is not text (a pair is one character).
SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")


@dataclass
class TextRows:
    """One block of a file as text rows, and the lines of it that were rejected before typing."""

    table: pa.Table                                    # one string column per schema column
    rows: list[int] | range                            # each row's line number in the file
    rejected: list[tuple[int, str]] = field(default_factory=list)  # (line number, reason)
    ignored: Counter = field(default_factory=Counter)  # JSON fields the schema does not know, by name


def _empty(names: list[str]) -> pa.Table:
    return pa.table({n: pa.array([], pa.string()) for n in names})


# --- CSV -----------------------------------------------------------------------------------------------

def _pyarrow_csv(text: bytes, names: list[str]) -> tuple[pa.Table, list[tuple[int, str]]]:
    """(rows, [(1-based row number, why)] of rows with the wrong number of fields); ArrowInvalid if unparseable."""
    invalid: list[tuple[int, str]] = []

    def on_invalid(row: pacsv.InvalidRow) -> str:
        invalid.append((row.number, f"expected {row.expected_columns} fields, found {row.actual_columns}: "
                                    f"{shown(row.text)}"))
        return "skip"

    table = pacsv.read_csv(
        pa.BufferReader(text),
        read_options=pacsv.ReadOptions(use_threads=False, column_names=names, block_size=len(text) + 1),
        parse_options=pacsv.ParseOptions(invalid_row_handler=on_invalid, newlines_in_values=False),
        convert_options=pacsv.ConvertOptions(column_types=dict.fromkeys(names, pa.string()),
                                             strings_can_be_null=False, quoted_strings_can_be_null=False),
    )
    return table, invalid


def _csv_block(text: bytes, numbers: list[int] | range, names: list[str]) -> TextRows:
    """Parse a block of whole lines; each line must be one row (a quote left open spans no lines)."""
    if not numbers:
        return TextRows(_empty(names), [])
    try:
        table, invalid = _pyarrow_csv(text, names)
    except pa.ArrowInvalid:
        table, invalid = None, []
    # Rows are runs of consecutive lines: as many rows as lines means each row is exactly its line.
    if table is not None and table.num_rows + len(invalid) == len(numbers) and all(i >= 1 for i, _ in invalid):
        if not invalid:
            return TextRows(table, numbers)
        bad = {i - 1 for i, _ in invalid}
        rows = [n for k, n in enumerate(numbers) if k not in bad]
        return TextRows(table, rows, [(numbers[i - 1], f"line {numbers[i - 1]}: {why}") for i, why in invalid])
    tables, rows, rejected = [], [], []  # rare: a quote spanning lines somewhere in the block; line by line
    for number, line in zip(numbers, text.split(b"\n"), strict=False):
        try:
            one, invalid = _pyarrow_csv(line + b"\n", names)
        except pa.ArrowInvalid as exc:
            rejected.append((number, f"line {number}: not a CSV row ({exc}): {shown(line)}"))
            continue
        if one.num_rows == 1 and not invalid:
            tables.append(one)
            rows.append(number)
        else:
            why = invalid[0][1] if invalid else f"not one CSV row (a quote left open?): {shown(line)}"
            rejected.append((number, f"line {number}: {why}"))
    return TextRows(pa.concat_tables(tables) if tables else _empty(names), rows, rejected)


def _split_header(block: LineBlock, source: Source) -> LineBlock:
    """The block without its first line, which must be the schema's header."""
    first_bad = min((n for n, _ in block.rejected), default=None)
    if first_bad is not None and (not block.numbers or first_bad < block.numbers[0]):
        raise RejectedFile(f"the header cannot be read: {dict(block.rejected)[first_bad]}")
    header, rest = block.text.split(b"\n", 1)
    found = [h.strip().strip('"') for h in header.decode("utf-8").removesuffix("\r").split(",")]
    if found != source.column_names:
        raise RejectedFile(f"header {found} does not match the schema {source.column_names}")
    return LineBlock(rest, block.numbers[1:], block.rejected, block.spanned)


def csv_rows(data: bytes | Path, source: Source) -> Iterator[TextRows]:
    """A CSV file with the schema's header, as text rows a block at a time."""
    names, header_seen = source.column_names, False
    for block in line_blocks(data, source.encoding):
        if not header_seen:
            if not block.numbers and not block.rejected:
                continue
            block, header_seen = _split_header(block, source), True
        rows = _csv_block(block.text, block.numbers, names)
        rows.rejected = block.rejected + rows.rejected
        yield rows
    if not header_seen:
        raise RejectedFile(f"the file is empty: expected the header {source.column_names}")


# --- JSON lines ----------------------------------------------------------------------------------------

class _DuplicateField(ValueError):
    pass


def _unique_object(pairs: list[tuple[str, object]]) -> dict:
    found = dict(pairs)
    if len(found) != len(pairs):
        seen: set[str] = set()
        raise _DuplicateField(next(k for k, _ in pairs if k in seen or seen.add(k)))
    return found


def _plain_number(text: str) -> str:
    """A JSON number with a fraction or an exponent as plain decimal text, exactly: 1.25e1 -> 12.5, 12.0 -> 12."""
    if "e" not in text and "E" not in text and not text.endswith("0"):
        return text
    try:
        value = Decimal(text)
    except InvalidOperation:
        return text
    if not -40 <= value.adjusted() <= 40:  # far out of any column's range: left as it is, the check rejects it
        return text
    return format(value.normalize(), "f")


def _no_constant(name: str) -> None:
    raise ValueError(f"{name} is not a JSON number")


def _kind(value: object) -> str:
    return {dict: "object", list: "array", str: "string", bool: "boolean"}.get(type(value), "number")


# One decoder for every line (json.loads with options builds a new one per call): numbers stay text.
_DECODER = json.JSONDecoder(parse_int=str, parse_float=_plain_number, parse_constant=_no_constant,
                            object_pairs_hook=_unique_object)


def _record(line: str, names: list[str], ignored: Counter) -> tuple[list[str] | None, str]:
    """(the record's values in schema order, "") or (None, why the line is not a row)."""
    try:
        value = _DECODER.decode(line)
    except _DuplicateField as exc:
        return None, f"field {shown(str(exc))!r} appears twice"
    except (ValueError, RecursionError) as exc:
        return None, f"not valid JSON ({exc})"
    if not isinstance(value, dict):
        return None, f"a JSON {_kind(value) if value is not None else 'null'}, not an object"
    out, known = [], 0
    for name in names:
        item = value.get(name)
        if name in value:
            known += 1
        if item is None:
            out.append("")
        elif isinstance(item, str):
            out.append(item)
        elif isinstance(item, bool):
            out.append("true" if item else "false")
        else:
            return None, f"{name}: a JSON {_kind(item)} where a single value is wanted"
    if SURROGATE_ESCAPE.search(line):
        for name, item in zip(names, out, strict=True):
            try:
                item.encode("utf-8")
            except UnicodeEncodeError:
                return None, f"{name}: a lone UTF-16 surrogate escape, which is not text"
    if len(value) > known:
        ignored.update(shown(k) for k in value if k not in names)
    return out, ""


def jsonl_rows(data: bytes | Path, source: Source) -> Iterator[TextRows]:
    """A JSON-lines file (one object per line) as text rows of the schema's fields, a block at a time."""
    names = source.column_names
    for block in line_blocks(data, source.encoding):
        columns: list[list[str]] = [[] for _ in names]
        rows, rejected, ignored = [], list(block.rejected), Counter()
        for number, line in zip(block.numbers, block.text.decode("utf-8").split("\n"), strict=False):
            if not line.strip():
                continue  # a blank line is not a record
            values, why = _record(line, names, ignored)
            if values is None:
                rejected.append((number, f"line {number}: {why}: {shown(line.removesuffix(chr(13)))}"))
                continue
            for column, item in zip(columns, values, strict=True):
                column.append(item)
            rows.append(number)
        table = pa.table({n: pa.array(c, pa.string()) for n, c in zip(names, columns, strict=True)})
        yield TextRows(table, rows, rejected, ignored)
