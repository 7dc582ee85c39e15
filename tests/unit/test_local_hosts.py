"""The local hosts' addressing, inventory and conflict messages (no Docker needed)."""

from __future__ import annotations

import ipaddress
import subprocess

import pytest
import yaml

from ci import base_image, local_hosts
from ci.docker_engine import EngineError


def test_each_environment_has_its_own_fixed_addresses():
    local, prod = local_hosts.hosts("local"), local_hosts.hosts("local-prod")
    addresses = [h.ip for h in local + prod]
    assert len(set(addresses)) == 4
    assert all(ipaddress.ip_address(a) in local_hosts.SUBNET for a in addresses)
    assert local_hosts.gateway() not in addresses
    assert {h.container for h in local} == {"tiny-analytics-local-airflow", "tiny-analytics-local-database"}


def test_inventory_names_groups_login_and_db_endpoint(tmp_path, monkeypatch):
    monkeypatch.setattr(local_hosts, "inventory_file", lambda env: tmp_path / f"{env}.yml")
    path = local_hosts.write_inventory("local", "http://172.30.0.1:5000")
    inventory = yaml.safe_load(path.read_text())["all"]
    groups = inventory["children"]["local_servers"]
    assert set(groups["children"]["airflow"]["hosts"]) == {"local-airflow-1"}
    assert set(groups["children"]["database"]["hosts"]) == {"local-db-1"}
    assert groups["vars"]["ansible_user"] == "admin"
    assert inventory["vars"]["db_host"] == local_hosts.hosts("local")[1].ip


def test_an_overlapping_subnet_is_reported_with_its_holder(monkeypatch):
    route = f"{local_hosts.SUBNET} dev br-other proto kernel scope link src 172.30.0.1"
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
