"""Tenant files: one YAML file per tenant declares its sources, tables, schedule and quality rules.

`load_tenant` turns a file into a `Tenant` or raises `TenantFileError` naming the file, the field and what
was expected, so a typo in one tenant's file is reported precisely and never hides the other tenants.
"""

from __future__ import annotations

import codecs
import datetime as dt
import logging
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml

TYPES = ("int", "decimal", "text", "date", "timestamp")
FORMATS = ("csv", "jsonl")
IDENTIFIER = re.compile(r"^[a-z][a-z0-9_]{0,40}$")
# A person's name in a tenant file; the login is `<tenant>.<name>` (no tenant id or name holds a dot).
PERSON = re.compile(r"^[a-z][a-z0-9_-]{0,31}$")
# What a tenant's person may do in Airflow, on the tenant's DAGs only: each level is an Airflow (FAB) role,
# `tenant_<tenant>_<level>`, that site.yml creates before a DAG names it, with the DAG-level permissions below
# (the DAG's `access_control`; the role's other permissions are the airflow role's files/airflow_access.py).
LEVELS = ("viewer", "operator")
DAG_PERMISSIONS = {
    "viewer": {"DAGs": {"can_read"}},
    # Trigger (a DAG run of this DAG), pause, clear and mark its tasks: never another tenant's.
    "operator": {"DAGs": {"can_read", "can_edit"}, "DAG Runs": {"can_read", "can_create"}},
}
# Files are split into lines on b"\n" before decoding, so an encoding must write ASCII as ASCII (utf-8,
# latin-1, cp1252, iso8859-15, ...; not utf-16).
ASCII_PROBE = "\n\r,;\"{}[]:.-+0123456789 abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ_"
log = logging.getLogger(__name__)


class TenantFileError(ValueError):
    """A tenant file that does not describe a valid tenant."""


@dataclass(frozen=True)
class Column:
    """One column of a source file and of its warehouse table."""

    name: str
    type: str
    required: bool = False


@dataclass(frozen=True)
class Derived:
    """A derived column: the product of two numeric columns (e.g. quantity * unit_price)."""

    name: str
    multiply: tuple[str, str]


@dataclass(frozen=True)
class Source:
    """A kind of raw file a tenant delivers each day, and the table it loads."""

    name: str
    format: str
    table: str
    key: tuple[str, ...]
    columns: tuple[Column, ...]
    derived: tuple[Derived, ...] = ()
    min_rows: int = 1
    encoding: str = "utf-8"

    @property
    def column_names(self) -> list[str]:
        """Raw column names, in file order."""
        return [c.name for c in self.columns]


@dataclass(frozen=True)
class Person:
    """Someone of the tenant with an Airflow login on the tenant's DAGs: a viewer or an operator."""

    name: str
    level: str
    email: str = ""


@dataclass(frozen=True)
class Tenant:
    """A tenant and its pipelines."""

    tenant: str
    owner: str
    schedule: str
    start_date: dt.date
    retries: int
    sources: tuple[Source, ...] = field(default_factory=tuple)
    retry_delay_minutes: int = 5
    active: bool = True
    timezone: str = "UTC"
    people: tuple[Person, ...] = ()

    @property
    def schema(self) -> str:
        """The tenant's warehouse schema."""
        return f"tenant_{self.tenant}"

    @property
    def warehouse_role(self) -> str:
        """The tenant's own warehouse role: it owns the schema and reaches nothing of other tenants."""
        return f"etl_{self.tenant}"

    @property
    def warehouse_conn_id(self) -> str:
        """The Airflow connection of the tenant's DAGs to the warehouse, as its own role."""
        return f"warehouse_{self.tenant}"

    @property
    def aws_conn_id(self) -> str:
        """The Airflow connection of the tenant's DAGs to S3: it assumes the tenant's own IAM role, which reaches
        only raw/, staging/ and quarantine/<tenant>/ of the raw bucket."""
        return f"aws_{self.tenant}"

    def airflow_role(self, level: str) -> str:
        """The Airflow role of the tenant's people at `level` (viewer or operator)."""
        return f"tenant_{self.tenant}_{level}"

    def username(self, person: Person) -> str:
        """A person's Airflow login: `<tenant>.<name>` (its password: SSM, tenants/<tenant>/people/<name>/)."""
        return f"{self.tenant}.{person.name}"

    @property
    def access_control(self) -> dict[str, dict[str, set[str]]]:
        """The DAG-level permissions of the tenant's roles, for each of the tenant's DAGs (`access_control`):
        the DAG processor grants them and revokes any other non-admin role's on these DAGs."""
        return {self.airflow_role(level): {resource: set(actions) for resource, actions in grants.items()}
                for level, grants in DAG_PERMISSIONS.items()}

    @property
    def start_datetime(self) -> dt.datetime:
        """start_date as the UTC midnight Airflow schedules from."""
        return dt.datetime.combine(self.start_date, dt.time(), tzinfo=dt.UTC)

    @property
    def default_args(self) -> dict:
        """Task defaults shared by all of the tenant's DAGs: its owner, retries and the wait between tries."""
        return {"owner": self.owner, "retries": self.retries,
                "retry_delay": dt.timedelta(minutes=self.retry_delay_minutes)}


def _fail(path: Path, where: str, expected: str, got: object) -> TenantFileError:
    return TenantFileError(f"{path}: {where}: expected {expected}, got {got!r}")


def _get(data: dict, key: str, path: Path, where: str, kind: type, expected: str, default: object = ...) -> object:
    if key not in data:
        if default is ...:
            raise _fail(path, f"{where}{key}", expected, None)
        return default
    value = data[key]
    if not isinstance(value, kind) or (isinstance(value, bool) and kind is not bool):
        raise _fail(path, f"{where}{key}", expected, value)
    return value


def _choice(data: dict, key: str, path: Path, where: str, choices: tuple[str, ...]) -> str:
    expected = f"one of {', '.join(choices)}"
    value = _get(data, key, path, where, str, expected)
    if value not in choices:
        raise _fail(path, f"{where}{key}", expected, value)
    return value


def _identifier(value: str, path: Path, where: str) -> str:
    if not IDENTIFIER.match(value):
        raise _fail(path, where, "a lower-case identifier (a-z, 0-9, _; starting with a letter)", value)
    return value


def _encoding(data: dict, path: Path, where: str) -> str:
    expected = "a Python codec name that writes ASCII as ASCII, such as utf-8, latin-1 or cp1252"
    value = _get(data, "encoding", path, where, str, expected, "utf-8")
    try:
        name = codecs.lookup(value).name
        ascii_compatible = ASCII_PROBE.encode(name) == ASCII_PROBE.encode("ascii")
    except (LookupError, UnicodeError):
        ascii_compatible = False
    if not ascii_compatible:
        raise _fail(path, f"{where}encoding", expected, value)
    return name


def _timezone(data: dict, path: Path) -> str:
    expected = "an IANA time zone such as UTC or Europe/Berlin"
    value = _get(data, "timezone", path, "", str, expected, "UTC")
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise _fail(path, "timezone", expected, value) from None
    return value


def _source(data: object, path: Path, index: int) -> Source:
    where = f"sources[{index}]."
    if not isinstance(data, dict):
        raise _fail(path, f"sources[{index}]", "a mapping", data)
    name = _identifier(_get(data, "name", path, where, str, "a source name"), path, f"{where}name")
    fmt = _choice(data, "format", path, where, FORMATS)
    table = _identifier(_get(data, "table", path, where, str, "a table name"), path, f"{where}table")
    raw_columns = _get(data, "columns", path, where, list, "a list of {name, type, required}")
    columns = []
    for j, col in enumerate(raw_columns):
        cw = f"{where}columns[{j}]."
        if not isinstance(col, dict):
            raise _fail(path, f"{where}columns[{j}]", "a mapping {name, type, required}", col)
        cname = _identifier(_get(col, "name", path, cw, str, "a column name"), path, f"{cw}name")
        ctype = _choice(col, "type", path, cw, TYPES)
        columns.append(Column(cname, ctype, _get(col, "required", path, cw, bool, "true or false", False)))
    names = [c.name for c in columns]
    if not columns or len(set(names)) != len(names) or "ds" in names:
        raise _fail(path, f"{where}columns", "unique column names, at least one, none called ds", names)
    key = _get(data, "key", path, where, list, "a list of column names")
    if not key or any(k not in names for k in key):
        raise _fail(path, f"{where}key", f"column names among {names}", key)
    derived = []
    for j, der in enumerate(_get(data, "derived", path, where, list, "a list of {name, multiply}", [])):
        dw = f"{where}derived[{j}]."
        dname = _identifier(_get(der, "name", path, dw, str, "a column name"), path, f"{dw}name")
        factors = _get(der, "multiply", path, dw, list, "two numeric column names")
        numeric = [c.name for c in columns if c.type in ("int", "decimal")]
        if len(factors) != 2 or any(f not in numeric for f in factors):
            raise _fail(path, f"{dw}multiply", f"two of the numeric columns {numeric}", factors)
        derived.append(Derived(dname, (factors[0], factors[1])))
    min_rows = _get(data, "min_rows", path, where, int, "a whole number >= 0", 1)
    return Source(name, fmt, table, tuple(key), tuple(columns), tuple(derived), min_rows,
                  _encoding(data, path, where))


def _people(data: dict, path: Path) -> tuple[Person, ...]:
    people = []
    for i, raw in enumerate(_get(data, "people", path, "", list, "a list of {name, level, email}", [])):
        where = f"people[{i}]."
        if not isinstance(raw, dict):
            raise _fail(path, f"people[{i}]", "a mapping {name, level, email}", raw)
        name = _get(raw, "name", path, where, str, "a person's name")
        if not PERSON.match(name):
            raise _fail(path, f"{where}name", "a lower-case name (a-z, 0-9, _ and -; starting with a letter; at "
                        "most 32)", name)
        email = _get(raw, "email", path, where, str, "an e-mail address", "")
        if email and not re.match(r"^[^@\s]+@[^@\s]+$", email):
            raise _fail(path, f"{where}email", "an e-mail address", email)
        people.append(Person(name, _choice(raw, "level", path, where, LEVELS), email))
    names = [p.name for p in people]
    if len(set(names)) != len(names):
        raise _fail(path, "people", "unique names", names)
    return tuple(people)


def load_tenant(path: Path) -> Tenant:
    """Read and check one tenant file."""
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = f":{mark.line + 1}" if mark else ""
        raise TenantFileError(f"{path}{line}: not valid YAML: {getattr(exc, 'problem', exc)}") from exc
    if not isinstance(data, dict):
        raise _fail(path, "(file)", "a mapping with tenant, owner, schedule, start_date, sources", data)
    tenant = _identifier(_get(data, "tenant", path, "", str, "the tenant's id"), path, "tenant")
    if tenant != path.stem:
        raise _fail(path, "tenant", f"the file name {path.stem!r}", tenant)
    owner = _get(data, "owner", path, "", str, "the owning team")
    schedule = _get(data, "schedule", path, "", str, "a cron expression or preset such as @daily")
    start = _get(data, "start_date", path, "", dt.date, "a date such as 2026-11-01")
    retries = _get(data, "retries", path, "", int, "a whole number >= 1", 2)
    if retries < 1:
        raise _fail(path, "retries", "a whole number >= 1", retries)
    retry_delay = _get(data, "retry_delay_minutes", path, "", int, "whole minutes between 1 and 1440", 5)
    if not 1 <= retry_delay <= 1440:
        raise _fail(path, "retry_delay_minutes", "whole minutes between 1 and 1440", retry_delay)
    sources = _get(data, "sources", path, "", list, "a non-empty list of sources")
    if not sources:
        raise _fail(path, "sources", "a non-empty list of sources", sources)
    parsed = tuple(_source(s, path, i) for i, s in enumerate(sources))
    if len({s.name for s in parsed}) != len(parsed):
        raise _fail(path, "sources", "unique source names", [s.name for s in parsed])
    active = _get(data, "active", path, "", bool, "true (the schedule runs) or false (its DAGs stay paused)", True)
    return Tenant(tenant, owner, schedule, start, retries, parsed, retry_delay, active, _timezone(data, path),
                  _people(data, path))


def tenant_files(folder: Path) -> list[Path]:
    """The tenant files of a folder (*.yml), sorted."""
    return sorted(folder.glob("*.yml"))


def tenants_folder(dags_folder: Path) -> Path:
    """dags/tenants, or TINY_TENANTS_DIR (tests; a deployment keeping tenant files elsewhere)."""
    return Path(os.environ.get("TINY_TENANTS_DIR", dags_folder / "tenants"))


def valid_tenants(folder: Path) -> Iterator[Tenant]:
    """Every tenant whose file is valid; a broken file is logged and skipped, never hiding the others
    (the DAG integrity suite fails on it, naming the file and field)."""
    for path in tenant_files(folder):
        try:
            yield load_tenant(path)
        except TenantFileError as exc:
            log.error("tenant file skipped: %s", exc)
