"""The local hosts' addressing, inventory and conflict messages (no Docker needed)."""

from __future__ import annotations

import ipaddress
import json
import os
import shutil
import subprocess

import pytest

from ci import base_image, local_hosts
from ci.docker_engine import EngineError
from ci.paths import ROOT


def test_each_environment_has_its_own_fixed_addresses():
    local, prod = local_hosts.hosts("local"), local_hosts.hosts("local-prod")
    addresses = [h.ip for h in local + prod]
    assert len(set(addresses)) == 4
    assert all(ipaddress.ip_address(a) in local_hosts.subnet() for a in addresses)
    assert local_hosts.gateway() not in addresses
    assert {h.container for h in local} == {"tiny-analytics-local-airflow", "tiny-analytics-local-database"}


def _ansible_inventory(inventory: str, state: str) -> dict:
    from ci.ansible import ANSIBLE_ENV
    from ci.paths import tool

    proc = subprocess.run([tool("ansible-inventory"), "-i", inventory, "--list"], capture_output=True, text=True,
                          env={**os.environ, **ANSIBLE_ENV, "TINY_LOCALCLOUD_DIR": state}, check=True)
    return json.loads(proc.stdout)


def test_inventory_names_groups_login_and_db_endpoint_for_ansible(tmp_path, monkeypatch):
    monkeypatch.setenv("TINY_LOCALCLOUD_DIR", str(tmp_path))
    assert local_hosts.write_inventory("local", "http://172.30.0.1:5000") == tmp_path / "inventory" / "local.json"
    listing = _ansible_inventory(str(ROOT / "inventory" / "local"), str(tmp_path))  # the committed script
    assert listing["airflow"]["hosts"] == ["local-airflow-1"] and listing["database"]["hosts"] == ["local-db-1"]
    airflow = listing["_meta"]["hostvars"]["local-airflow-1"]
    assert airflow["ansible_user"] == "admin" and airflow["ansible_host"] == local_hosts.hosts("local")[0].ip
    assert airflow["ansible_ssh_private_key_file"] == str(tmp_path / "ssh" / "id_ed25519")
    assert airflow["db_host"] == local_hosts.hosts("local")[1].ip
    assert airflow["deploy_env"] == "local"  # the committed group_vars still apply
    assert "local-prod-airflow-1" not in listing["_meta"]["hostvars"]


def test_any_checkout_pointed_at_the_local_cloud_lists_its_hosts_and_none_when_it_is_down(tmp_path, monkeypatch):
    """A Jenkins job's fresh workspace has no .work: TINY_LOCALCLOUD_DIR is how it finds the local cloud."""
    state, elsewhere = tmp_path / "state", tmp_path / "checkout" / "inventory"
    shutil.copytree(ROOT / "inventory", elsewhere, symlinks=True)
    monkeypatch.setenv("TINY_LOCALCLOUD_DIR", str(state))
    local_hosts.write_inventory("local-prod", "http://172.30.0.1:5000")
    listing = _ansible_inventory(str(elsewhere / "local-prod"), str(state))
    assert listing["airflow"]["hosts"] == ["local-prod-airflow-1"]
    assert "airflow" not in _ansible_inventory(str(elsewhere / "local"), str(state))  # local is not up
    (state / "inventory" / "local-prod.json").unlink()
    assert "airflow" not in _ansible_inventory(str(elsewhere / "local-prod"), str(state))


def test_reaching_the_local_cloud_starts_nothing(tmp_path, monkeypatch):
    """Loading an environment (every stage after provision) has no side effects: no moto, no key pair."""
    from ci.ansible import aws_target
    from ci.localcloud import LocalCloudError
    from ci.platform import Platform, PlatformError

    monkeypatch.setenv("TINY_LOCALCLOUD_DIR", str(tmp_path))
    with pytest.raises(LocalCloudError, match=r"the local cloud is not running .* run `make up`"):
        aws_target("local", "us-east-1")
    with pytest.raises(PlatformError, match="the local cloud is not running"):
        Platform.load("local-prod")
    assert list(tmp_path.iterdir()) == []
    assert aws_target("staging", "us-east-1") == {}


def test_an_overlapping_subnet_is_reported_with_its_holder(monkeypatch):
    route = f"{local_hosts.subnet()} dev br-other proto kernel scope link src 172.30.0.1"
    created = []
    monkeypatch.setattr(subprocess, "run", lambda *a, **k: subprocess.CompletedProcess(a, 0, stdout=route + "\n"))
    monkeypatch.setattr(local_hosts, "docker", lambda _engine, *args, **_kw: created.append(args)
                        or subprocess.CompletedProcess(args, 1, stdout=b"", stderr=b"no such network"))
    with pytest.raises(EngineError, match=r"already in use on this machine \(.*br-other"):
        local_hosts.ensure_network(None)
    assert not [args for args in created if args[:2] == ("network", "create")]


def test_image_tag_follows_the_recipe(monkeypatch, tmp_path):
    recipe = tmp_path / "rootfs.sh"
    recipe.write_text("echo one\n")
    monkeypatch.setattr(base_image, "RECIPE", recipe)
    first = base_image.recipe_tag("http://deb.debian.org/debian")
    assert first == base_image.recipe_tag("http://deb.debian.org/debian")
    recipe.write_text("echo two\n")
    assert base_image.recipe_tag("http://deb.debian.org/debian") != first
    assert base_image.recipe_tag("http://mirror.example/debian") != base_image.recipe_tag("http://deb.debian.org/debian")


def test_settings_are_read_when_used_not_at_import(tmp_path, monkeypatch):
    """A TINY_* variable set after the modules were imported (a test, a Jenkins job's environment) is what
    every call sees: no module keeps a copy read at import."""
    from ci.docker_engine import Engine
    from ci.localcloud import Moto, default_port, ssh_key

    monkeypatch.setenv("TINY_LOCALCLOUD_SUBNET", "10.99.0.0/24")
    monkeypatch.setenv("TINY_AIRFLOW_PORT", "18080")
    monkeypatch.setenv("TINY_LOCALCLOUD_DIR", str(tmp_path / "cloud"))
    monkeypatch.setenv("TINY_DOCKER_DIR", str(tmp_path / "engine"))
    monkeypatch.setenv("TINY_MOTO_PORT", "15000")
    assert [h.ip for h in local_hosts.hosts("local")] == ["10.99.0.10", "10.99.0.11"]
    assert local_hosts.gateway() == "10.99.0.1" and local_hosts.ui_url("local") == "http://127.0.0.1:18080"
    assert ssh_key() == tmp_path / "cloud" / "ssh" / "id_ed25519" and Moto().state_dir == tmp_path / "cloud"
    assert Engine().work == tmp_path / "engine" and default_port() == 15000
