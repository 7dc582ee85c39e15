"""`make verify` refuses to pass when it would check nothing: no host in the inventory, or no check run."""

from __future__ import annotations

from pathlib import Path

import pytest

from ci.runner import StepFailed
from ci.stages.verify import checks_ran, hosts_to_verify


def _inventory(tmp_path: Path, airflow_hosts: dict) -> Path:
    folder = tmp_path / "inventory"
    folder.mkdir()
    hosts = "".join(f"        {h}:\n" for h in airflow_hosts)
    (folder / "hosts.yml").write_text(
        "all:\n  hosts:\n    localhost:\n      ansible_connection: local\n  children:\n    airflow:\n"
        + (f"      hosts:\n{hosts}" if hosts else "      hosts: {}\n"))
    return folder


def test_an_inventory_without_airflow_hosts_is_refused_naming_it(tmp_path):
    inventory = _inventory(tmp_path, {})
    with pytest.raises(StepFailed, match=r"no host in the airflow group of .*/inventory \(read with ansible-inventory"):
        hosts_to_verify(inventory)


def test_the_hosts_to_verify_are_named(tmp_path):
    assert hosts_to_verify(_inventory(tmp_path, {"web-1": {}, "web-2": {}})).endswith("web-1, web-2")


@pytest.mark.parametrize(("tests", "skipped"), [(0, 0), (12, 12)])
def test_a_run_that_checked_nothing_is_refused(tmp_path, tests, skipped):
    junit = tmp_path / "verify.xml"
    junit.write_text(f'<testsuites><testsuite name="pytest" tests="{tests}" failures="0" errors="0" '
                     f'skipped="{skipped}"/></testsuites>')
    with pytest.raises(StepFailed, match="testinfra ran no check"):
        checks_ran(junit)


def test_checks_that_ran_are_counted(tmp_path):
    junit = tmp_path / "verify.xml"
    junit.write_text('<testsuites><testsuite name="pytest" tests="30" failures="0" errors="0" skipped="2"/>'
                     '</testsuites>')
    assert checks_ran(junit) == "28 checks ran, 2 skipped"


def test_a_missing_report_is_refused(tmp_path):
    with pytest.raises(StepFailed, match="testinfra wrote no report"):
        checks_ran(tmp_path / "absent.xml")
