"""Summaries of the raw bucket: which tenants delivered how many files and bytes for a day."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict, dataclass

RAW_PREFIX = "raw"


@dataclass(frozen=True)
class RawObject:
    """One object listed from the raw bucket."""

    key: str
    size: int


@dataclass
class TenantDelivery:
    """What one tenant delivered for a day."""

    tenant: str
    files: int = 0
    bytes: int = 0


class InvalidRawKey(ValueError):
    """A key in the raw bucket that does not follow raw/<tenant>/<YYYY-MM-DD>/<file>."""


def parse_key(key: str) -> tuple[str, str, str]:
    """Split `raw/<tenant>/<YYYY-MM-DD>/<file>` into (tenant, day, file name)."""
    parts = key.split("/")
    if len(parts) != 4 or parts[0] != RAW_PREFIX or not all(parts[1:]):
        raise InvalidRawKey(f"{key!r} does not follow {RAW_PREFIX}/<tenant>/<YYYY-MM-DD>/<file>")
    _, tenant, day, name = parts
    if len(day) != 10 or day[4] != "-" or day[7] != "-" or not day.replace("-", "").isdigit():
        raise InvalidRawKey(f"{key!r}: {day!r} is not a YYYY-MM-DD day in raw/<tenant>/<YYYY-MM-DD>/<file>")
    return tenant, day, name


def summarise(objects: Iterable[RawObject], ds: str) -> dict:
    """Per-tenant file and byte counts for day `ds`, plus the keys that break the layout.

    Misplaced keys are reported, not dropped, so a mis-configured uploader is visible the same day.
    """
    tenants: dict[str, TenantDelivery] = {}
    invalid: list[str] = []
    for obj in objects:
        try:
            tenant, day, _ = parse_key(obj.key)
        except InvalidRawKey:
            invalid.append(obj.key)
            continue
        if day != ds:
            continue
        delivery = tenants.setdefault(tenant, TenantDelivery(tenant))
        delivery.files += 1
        delivery.bytes += obj.size
    return {
        "ds": ds,
        "tenants": [asdict(tenants[name]) for name in sorted(tenants)],
        "invalid_keys": sorted(invalid),
    }
