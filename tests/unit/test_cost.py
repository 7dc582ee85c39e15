"""Cost estimate, the price table's coverage of the role's choices, and provision's budget gate."""

from __future__ import annotations

import os
import re
import subprocess
import sys

import pytest
import yaml

from ci.cost import CostError, check_budget, environment_vars, estimate, parse_extra_vars, render
from ci.paths import ROOT

SPEC = ROOT / "ansible" / "roles" / "aws_platform" / "meta" / "argument_specs.yml"
PRICES = ROOT / "ci" / "data" / "aws_prices.yml"


def test_local_estimate_items_and_total():
    est = estimate("local", environment_vars("local"))
    by_resource = {i.resource: round(i.usd, 2) for i in est.items}
    assert by_resource == {"EC2 t4g.medium": 24.53, "EBS gp3": 2.40, "Public IPv4": 3.65, "RDS db.t4g.micro": 11.68,
                           "RDS gp3": 2.30, "S3 standard": 0.46, "S3 noncurrent": 0.05}
    assert round(est.total, 2) == 45.06
    assert est.mwaa_usd == 358.0


def test_noncurrent_versions_are_billed_for_as_long_as_the_lifecycle_keeps_them():
    """A replaced or deleted version is stored, and billed, until noncurrent_version_expiry_days expire it."""
    def noncurrent(**extra) -> float:
        items = estimate("local", environment_vars("local", extra)).items
        (item,) = [i for i in items if i.resource == "S3 noncurrent"]
        return item.usd

    a_year = noncurrent(s3_monthly_replaced_gb=100, noncurrent_version_expiry_days=365)
    assert round(a_year, 2) == round(1200 * 0.023, 2)  # 100 GB a month held a year: 1200 GB at S3 standard
    assert noncurrent(s3_monthly_replaced_gb=100, noncurrent_version_expiry_days=30) < noncurrent(
        s3_monthly_replaced_gb=100, noncurrent_version_expiry_days=60)
    assert noncurrent(s3_monthly_replaced_gb=0) == 0


def test_office_hours_schedule_lowers_compute_only():
    always = estimate("staging", environment_vars("staging", {"office_hours_schedule": {"enabled": False}}))
    office = estimate("staging", environment_vars("staging"))
    assert office.total < always.total
    assert round(office.items[0].usd, 2) == round(0.0336 * 60 * 52 / 12, 2)  # EC2: 60 h a week
    assert office.items[4].usd == always.items[4].usd  # storage is billed while stopped


def test_render_prints_mwaa_and_ratio():
    text = render(estimate("local", environment_vars("local")))
    assert "AWS MWAA smallest" in text and "358.00" in text
    assert "ratio: 0.13x of MWAA (7.9x cheaper)" in text
    assert "retrieved 2026-11-01" in text


def test_budget_exceeded_names_amount_and_largest_item():
    est = estimate("local", environment_vars("local", {"monthly_budget_usd": 30}))
    with pytest.raises(CostError, match=r"exceeds monthly_budget_usd 30.00 for local by 15.06; "
                                        r"the largest item is EC2 t4g.medium"):
        check_budget(est)


def test_unknown_size_and_region_are_explained():
    with pytest.raises(CostError, match=re.escape("no RDS price for 'db.x9.huge' in us-east-1")):
        estimate("local", environment_vars("local", {"db_instance_class": "db.x9.huge"}))
    with pytest.raises(CostError, match="no prices for region 'mars-1'"):
        estimate("local", environment_vars("local", {"aws_region": "mars-1"}))
    with pytest.raises(CostError, match="is not KEY=VALUE"):
        parse_extra_vars(["monthly_budget_usd"])


def test_every_size_the_role_accepts_has_a_price_in_every_region():
    options = yaml.safe_load(SPEC.read_text())["argument_specs"]["main"]["options"]
    for region, table in yaml.safe_load(PRICES.read_text())["regions"].items():
        assert set(options["airflow_instance_type"]["choices"]) == set(table["ec2_hourly"]), region
        assert set(options["db_instance_class"]["choices"]) == set(table["rds_hourly"]), region


def test_provision_refuses_over_budget_before_starting_anything(tmp_path):
    env = {**os.environ, "TINY_LOCALCLOUD_DIR": str(tmp_path)}
    run = subprocess.run([sys.executable, "-m", "ci", "provision", "--env", "local", "-e", "monthly_budget_usd=10"],
                         cwd=ROOT, env=env, capture_output=True, text=True, timeout=120, check=False)
    assert run.returncode == 1
    assert "refused before any AWS call: estimated 45.06 USD/month exceeds monthly_budget_usd 10.00" in run.stdout
    assert "by 35.06; the largest item is EC2 t4g.medium" in run.stdout
    assert not (tmp_path / "moto.json").exists(), "the local cloud must not be started for a refused run"


def test_cost_stage_prints_table():
    run = subprocess.run([sys.executable, "-m", "ci", "cost", "--env", "production"], cwd=ROOT,
                         capture_output=True, text=True, timeout=60, check=True)
    assert "monthly estimate for production (us-east-1)" in run.stdout
    assert "RDS db.t4g.small" in run.stdout
