"""Loading DAG files the way the DAG processor does, with parse-time network and DB access made to fail.

Used by the DAG integrity suite (tests/dags/test_dag_integrity.py) and the parse-time benchmark, so both
measure and judge the same thing. Airflow is imported lazily: importing this module costs nothing.
"""

from __future__ import annotations

import ast
import re
import socket
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from unittest import mock

DAG_CONSTRUCTORS = {"dag", "DAG"}
NOW_CALLS = {"now", "utcnow", "today", "days_ago"}
FRAME = re.compile(r'File "(?P<file>[^"]+)", line (?P<line>\d+)')


class ParseTimeAccess(RuntimeError):
    """A DAG file touched the network or the metadata DB while being parsed."""


@dataclass
class LoadedFile:
    """One DAG file as the DAG processor would see it."""

    path: Path
    dags: dict = field(default_factory=dict)
    import_error: str | None = None
    seconds: float = 0.0


def dag_files(folder: Path) -> list[Path]:
    """The files Airflow would parse in `folder` (safe mode, .airflowignore honoured)."""
    from airflow.utils.file import list_py_file_paths

    return sorted(Path(p).resolve() for p in list_py_file_paths(str(folder), safe_mode=True))


def _dag_file_line(path: Path) -> int | None:
    """The line of `path` on the current call stack (the DAG file's statement doing the access)."""
    import traceback

    for frame in reversed(traceback.extract_stack()):
        if Path(frame.filename).resolve() == path:
            return frame.lineno
    return None


@contextmanager
def parse_time_guard(path: Path) -> Iterator[None]:
    """Make sockets and database connections raise ParseTimeAccess naming `path` and its line."""

    def refuse(what: str):  # noqa: ANN202 - returns a replacement for any signature
        def _refuse(*args: object, **kwargs: object) -> None:
            target = next((a for a in args if isinstance(a, (tuple, str))), "")
            line = _dag_file_line(path)
            where = f"{path.name}:{line}" if line else path.name
            detail = f" ({target})" if target else ""
            raise ParseTimeAccess(
                f"{where}: top-level {what} at parse time{detail}: DAG files are parsed every "
                f"30 s by the dag-processor; move this into a task"
            )

        return _refuse

    with (
        mock.patch.object(socket.socket, "connect", refuse("network access")),
        mock.patch.object(socket.socket, "connect_ex", refuse("network access")),
        mock.patch.object(socket, "getaddrinfo", refuse("network access (DNS lookup)")),
        mock.patch("sqlalchemy.engine.Engine.connect", refuse("database access")),
        mock.patch("sqlalchemy.engine.Engine.raw_connection", refuse("database access")),
        mock.patch("sqlite3.connect", refuse("database access")),
    ):
        yield


@cache
def load_dag_file(path: Path) -> LoadedFile:
    """Parse one DAG file in a DagBag of its own, under the parse-time guard (cached per process)."""
    from airflow.dag_processing.dagbag import DagBag

    start = time.perf_counter()
    with parse_time_guard(path):
        bag = DagBag(dag_folder=str(path), load_op_links=False)
    elapsed = time.perf_counter() - start
    stats = bag.dagbag_stats
    seconds = stats[0].duration.total_seconds() if stats else elapsed
    error = next(iter(bag.import_errors.values()), None)
    return LoadedFile(path=path, dags=dict(bag.dags), import_error=error, seconds=seconds)


def describe_import_error(path: Path, traceback_text: str) -> str:
    """`FILE:LINE: <last line of the traceback>`: the DAG file's own frame, not the library's."""
    line = None
    for match in FRAME.finditer(traceback_text):
        if Path(match["file"]).resolve() == path:
            line = match["line"]
    lines = [ln for ln in traceback_text.strip().splitlines() if ln.strip()]
    message = lines[-1].strip() if lines else "import failed"
    location = f"{path}:{line}" if line else str(path)
    return f"{location}: {message}"


@dataclass(frozen=True)
class ConstructorCall:
    """A `DAG(...)` / `@dag(...)` call in a DAG file's source."""

    line: int
    keywords: dict[str, ast.expr]


def dag_constructor_calls(path: Path) -> list[ConstructorCall]:
    """Every `dag(...)`/`DAG(...)` call in the file (decorator or constructor), found statically."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    calls = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        func = node.func
        name = func.id if isinstance(func, ast.Name) else func.attr if isinstance(func, ast.Attribute) else None
        if name in DAG_CONSTRUCTORS:
            keywords = {k.arg: k.value for k in node.keywords if k.arg}
            calls.append(ConstructorCall(node.lineno, keywords))
    return calls


def dynamic_calls(expr: ast.expr) -> list[str]:
    """Names of now()/today()-like calls inside an expression (a start_date that moves every parse)."""
    found = []
    for node in ast.walk(expr):
        if isinstance(node, ast.Call):
            func = node.func
            name = func.attr if isinstance(func, ast.Attribute) else func.id if isinstance(func, ast.Name) else ""
            if name in NOW_CALLS:
                found.append(name)
    return found
