"""Raw bytes to decoded lines, a block at a time: the one place where a delivery's bytes meet an encoding.

A raw file is split into lines on b"\\n" (a trailing \\r is part of the line ending) before anything is
decoded, so one bad byte costs one line, never the file. A line is rejected, with its number, the byte offset
of the problem and its text, when it does not decode in the source's encoding, holds a NUL byte (PostgreSQL
text cannot store one) or a carriage return inside it (CSV and JSON-lines parsers would split the row there).
Empty lines are not rows. Good lines come out as UTF-8, whatever the source's encoding.

Only a file that cannot be split into lines (a "line" longer than MAX_LINE_BYTES) is rejected whole.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

BLOCK_BYTES = 1 << 20        # read, decode and parse 1 MiB at a time: memory stays flat in the file size
MAX_LINE_BYTES = 8 << 20     # a longer line is not a line-delimited file
SHOWN_CHARS = 300            # how much of a rejected line its reason repeats (the raw file keeps the rest)
UTF8_BOM = b"\xef\xbb\xbf"


class RejectedFile(ValueError):
    """The whole file is unusable (wrong header, not line-delimited): it goes to quarantine as it is."""


@dataclass
class LineBlock:
    """Consecutive lines of a file: the good ones as UTF-8 and the rejected ones with their reasons."""

    text: bytes                   # the good lines, UTF-8, each ending in b"\n" (a \r before it is kept)
    numbers: list[int] | range    # the good lines' 1-based numbers in the file
    rejected: list[tuple[int, str]] = field(default_factory=list)  # (line number, reason)
    spanned: int = 0              # how many lines of the file the block covers (empty ones included)


def shown(line: bytes | str) -> str:
    """A line as a reason quotes it: undecodable bytes as \\xNN escapes, cut at SHOWN_CHARS."""
    text = line.decode("utf-8", "backslashreplace") if isinstance(line, bytes) else line
    text = text.encode("utf-8", "backslashreplace").decode("utf-8")  # lone surrogates from JSON escapes
    return text if len(text) <= SHOWN_CHARS else f"{text[:SHOWN_CHARS]}... ({len(text)} characters)"


def _chunks(data: bytes | Path) -> Iterator[bytes]:
    if isinstance(data, Path):
        with data.open("rb") as fh:
            while chunk := fh.read(BLOCK_BYTES):
                yield chunk
    else:
        for start in range(0, len(data), BLOCK_BYTES):
            yield data[start:start + BLOCK_BYTES]


def _is_plain(block: bytes) -> bool:
    """No empty line, no NUL, no \\r except before \\n: every line is a row as it is (the usual block)."""
    if b"\x00" in block or block.startswith((b"\n", b"\r\n")) or b"\n\n" in block:
        return False
    return b"\r" not in block or (b"\n\r\n" not in block and block.count(b"\r") == block.count(b"\r\n"))


def _line_problem(line: bytes, encoding: str) -> tuple[int, str] | None:
    """(offset in the line, what is wrong) for a line that cannot be a row, else None."""
    if b"\x00" in line:
        return line.index(b"\x00"), "a NUL byte, which the warehouse cannot store"
    if b"\r" in line:
        return line.index(b"\r"), "a carriage return inside the line (lines end with \\n or \\r\\n)"
    try:
        line.decode(encoding)
    except UnicodeDecodeError as exc:
        return exc.start, f"not valid {encoding} (byte 0x{line[exc.start]:02x})"
    return None


def _decode_block(block: bytes, encoding: str, first_line: int, offset: int) -> LineBlock:
    """One block of whole lines (ending in b"\\n") starting at line `first_line`, byte `offset`."""
    if _is_plain(block):
        try:
            text = block.decode(encoding)
        except UnicodeDecodeError:
            pass
        else:
            count = block.count(b"\n")
            return LineBlock(block if encoding == "utf-8" else text.encode("utf-8"),
                             range(first_line, first_line + count), spanned=count)
    good, numbers, rejected, start = [], [], [], offset
    raws = block.split(b"\n")[:-1]
    for number, raw in enumerate(raws, start=first_line):
        line = raw.removesuffix(b"\r")
        problem = _line_problem(line, encoding) if line else None
        if problem:
            at, what = problem
            rejected.append((number, f"line {number}, byte offset {start + at}: {what}: {shown(line)}"))
        elif line:
            good.append(raw if encoding == "utf-8" else line.decode(encoding).encode("utf-8"))
            numbers.append(number)
        start += len(raw) + 1
    return LineBlock(b"".join(g + b"\n" for g in good), numbers, rejected, len(raws))


def line_blocks(data: bytes | Path, encoding: str = "utf-8") -> Iterator[LineBlock]:
    """The file's lines, a block at a time; RejectedFile when it cannot be split into lines."""
    pending, offset, line, first = b"", 0, 1, True
    for chunk in _chunks(data):
        buffer = pending + chunk
        if first and encoding == "utf-8" and buffer.startswith(UTF8_BOM):
            buffer, offset = buffer[len(UTF8_BOM):], len(UTF8_BOM)
        first = False
        cut = buffer.rfind(b"\n") + 1
        block, pending = buffer[:cut], buffer[cut:]
        if len(pending) > MAX_LINE_BYTES:
            long_line = line + block.count(b"\n")
            raise RejectedFile(f"line {long_line} (from byte offset {offset + cut}) is longer than "
                               f"{MAX_LINE_BYTES} bytes: not a line-delimited file")
        if block:
            decoded = _decode_block(block, encoding, line, offset)
            yield decoded
            line, offset = line + decoded.spanned, offset + cut
    if pending:
        yield _decode_block(pending + b"\n", encoding, line, offset)
