"""Monthly cost estimate of an environment from its variables, and the budget gate of `provision`.

Variables are resolved as Ansible resolves them for the provisioning role: the role's defaults, then
`inventory/<env>/group_vars/all.yml`, then extra vars (`-e KEY=VALUE`).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import yaml

from ci.paths import ROOT

PRICES = ROOT / "ci" / "data" / "aws_prices.yml"
ROLE_DEFAULTS = ROOT / "ansible" / "roles" / "aws_platform" / "defaults" / "main.yml"
WEEKS_PER_MONTH = 52 / 12


class CostError(ValueError):
    """The estimate cannot be made (unknown region or size) or exceeds the budget."""


@dataclass(frozen=True)
class Item:
    """One billed resource."""

    resource: str
    detail: str
    usd: float


@dataclass(frozen=True)
class Estimate:
    """An environment's monthly estimate beside AWS MWAA's smallest environment."""

    env: str
    region: str
    items: list[Item]
    mwaa_usd: float
    budget_usd: float
    source: str

    @property
    def total(self) -> float:
        """Sum of the items."""
        return sum(i.usd for i in self.items)

    @property
    def largest(self) -> Item:
        """The item that costs most."""
        return max(self.items, key=lambda i: i.usd)


def parse_extra_vars(pairs: list[str]) -> dict:
    """`KEY=VALUE` strings as Ansible reads `-e`: each value parsed as YAML."""
    out = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep:
            raise CostError(f"extra var {pair!r} is not KEY=VALUE")
        out[key] = yaml.safe_load(value)
    return out


def environment_vars(env: str, extra: dict | None = None, inventory_root: Path = ROOT / "inventory") -> dict:
    """Role defaults < group_vars/all.yml < extra vars."""
    group_vars = inventory_root / env / "group_vars" / "all.yml"
    if not group_vars.exists():
        raise CostError(f"{group_vars} not found: is {env!r} an environment of this repository?")
    merged = dict(yaml.safe_load(ROLE_DEFAULTS.read_text()) or {})
    merged.update(yaml.safe_load(group_vars.read_text()) or {})
    merged.update(extra or {})
    return merged


def _price(table: dict, key: str, kind: str, region: str) -> float:
    if key not in table:
        raise CostError(f"no {kind} price for {key!r} in {region} ({PRICES.relative_to(ROOT)}): "
                        f"known: {', '.join(sorted(table))}")
    return float(table[key])


def _noncurrent_versions(p: dict, variables: dict) -> Item:
    """Versioned buckets bill a replaced or deleted object's old version as storage until the lifecycle rule
    expires it (S3 User Guide, "How S3 Versioning works": each version is billed as an object): the GB replaced
    a month, held for noncurrent_version_expiry_days."""
    replaced, days = float(variables["s3_monthly_replaced_gb"]), int(variables["noncurrent_version_expiry_days"])
    held = replaced * days * 12 / 365
    return Item("S3 noncurrent", f"{replaced:g} GB/month replaced, kept {days} days ({held:.1f} GB)",
                p["s3_standard_gb_month"] * held)


def estimate(env: str, variables: dict) -> Estimate:
    """The monthly estimate for `env` from its resolved variables."""
    prices = yaml.safe_load(PRICES.read_text())
    region = variables["aws_region"]
    if region not in prices["regions"]:
        raise CostError(f"no prices for region {region!r}: known: {', '.join(sorted(prices['regions']))}")
    p = prices["regions"][region]
    hours = float(prices["hours_per_month"])
    schedule = variables.get("office_hours_schedule") or {}
    running_hours = hours
    note = "always on"
    if schedule.get("enabled"):
        running_hours = min(hours, float(schedule["weekly_hours"]) * WEEKS_PER_MONTH)
        note = f"office hours only, {schedule['weekly_hours']} h/week"
    ec2_type, db_class = variables["airflow_instance_type"], variables["db_instance_class"]
    items = [
        Item(f"EC2 {ec2_type}", f"Airflow host, {note}",
             _price(p["ec2_hourly"], ec2_type, "EC2", region) * running_hours),
        Item("EBS gp3", f"{variables['airflow_root_volume_gb']} GB root volume",
             p["ebs_gp3_gb_month"] * float(variables["airflow_root_volume_gb"])),
        Item("Public IPv4", "Airflow host address", p["public_ipv4_hourly"] * hours),
        Item(f"RDS {db_class}", f"PostgreSQL single-AZ, {note}",
             _price(p["rds_hourly"], db_class, "RDS", region) * running_hours),
        Item("RDS gp3", f"{variables['db_allocated_storage_gb']} GB storage",
             p["rds_gp3_gb_month"] * float(variables["db_allocated_storage_gb"])),
        Item("S3 standard", f"{variables['s3_expected_gb']} GB expected",
             p["s3_standard_gb_month"] * float(variables["s3_expected_gb"])),
        _noncurrent_versions(p, variables),
    ]
    return Estimate(env, region, items, float(p["mwaa_smallest_monthly"]), float(variables["monthly_budget_usd"]),
                    f"{prices['source']} (retrieved {prices['retrieved']})")


def render(est: Estimate) -> str:
    """The table `make cost` prints."""
    lines = [f"monthly estimate for {est.env} ({est.region}), USD", f"  {'resource':18} {'detail':44} {'usd':>8}"]
    lines += [f"  {i.resource:18} {i.detail:44} {i.usd:8.2f}" for i in est.items]
    lines += [
        f"  {'total':18} {'':44} {est.total:8.2f}",
        f"  {'AWS MWAA smallest':18} {'mw1.small environment, always on':44} {est.mwaa_usd:8.2f}",
        f"  ratio: {est.total / est.mwaa_usd:.2f}x of MWAA ({est.mwaa_usd / est.total:.1f}x cheaper); "
        f"budget {est.budget_usd:.2f} ({'within' if est.total <= est.budget_usd else 'EXCEEDED'})",
        f"  prices: {est.source}",
    ]
    return "\n".join(lines)


def check_budget(est: Estimate) -> None:
    """Raise CostError when the estimate exceeds monthly_budget_usd, naming the costliest resource."""
    if est.total > est.budget_usd:
        top = est.largest
        raise CostError(
            f"estimated {est.total:.2f} USD/month exceeds monthly_budget_usd {est.budget_usd:.2f} for {est.env} "
            f"by {est.total - est.budget_usd:.2f}; the largest item is {top.resource} ({top.detail}) at "
            f"{top.usd:.2f}: choose a smaller size, enable office_hours_schedule, or raise the budget"
        )
