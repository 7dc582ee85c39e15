"""The local hosts' addressing, inventory, conflict messages and settings (no Docker needed)."""

from __future__ import annotations

import ast
import ipaddress
import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest

from ci.ansible import inventory_listing
from ci.localcloud import hosts, image, inventory, settings
from ci.localcloud.engine import EngineError
from ci.paths import ROOT


def test_each_environment_has_its_own_fixed_addresses():
    local, prod = hosts.hosts("local"), hosts.hosts("local-prod")
    addresses = [h.ip for h in local + prod]
    assert len(set(addresses)) == 4
    assert all(ipaddress.ip_address(a) in settings.subnet() for a in addresses)
    assert hosts.gateway() not in addresses
    assert {h.container for h in local} == {"tiny-analytics-local-airflow", "tiny-analytics-local-database"}


@pytest.mark.slow
def test_inventory_names_groups_login_and_db_endpoint_for_ansible(tmp_path, monkeypatch):
    monkeypatch.setenv("TINY_LOCALCLOUD_DIR", str(tmp_path))
    assert inventory.write_inventory("local", "https://172.30.0.1:5000") == tmp_path / "inventory" / "local.json"
    # the committed script
    listing = inventory_listing(ROOT / "inventory" / "local", {"TINY_LOCALCLOUD_DIR": str(tmp_path)})
    assert listing["airflow"]["hosts"] == ["local-airflow-1"] and listing["database"]["hosts"] == ["local-db-1"]
    airflow = listing["_meta"]["hostvars"]["local-airflow-1"]
    assert airflow["ansible_user"] == "admin" and airflow["ansible_host"] == hosts.hosts("local")[0].ip
    assert airflow["ansible_ssh_private_key_file"] == str(tmp_path / "ssh" / "id_ed25519")
    assert airflow["db_host"] == hosts.hosts("local")[1].ip
    assert airflow["deploy_env"] == "local"  # the committed group_vars still apply
    # The services reach the local AWS API through the SDK's own settings, trusting its CA from the system store.
    assert {k: airflow["airflow_extra_env"][k] for k in ("AWS_ENDPOINT_URL", "AWS_CA_BUNDLE")} == {
        "AWS_ENDPOINT_URL": "https://172.30.0.1:5000", "AWS_CA_BUNDLE": hosts.SYSTEM_BUNDLE}
    assert "local-prod-airflow-1" not in listing["_meta"]["hostvars"]


@pytest.mark.slow
def test_any_checkout_pointed_at_the_local_cloud_lists_its_hosts_and_none_when_it_is_down(tmp_path, monkeypatch):
    """A Jenkins job's fresh workspace has no .work: TINY_LOCALCLOUD_DIR is how it finds the local cloud."""
    state, elsewhere = tmp_path / "state", tmp_path / "checkout" / "inventory"
    shutil.copytree(ROOT / "inventory", elsewhere, symlinks=True)
    monkeypatch.setenv("TINY_LOCALCLOUD_DIR", str(state))
    inventory.write_inventory("local-prod", "https://172.30.0.1:5000")
    pointed = {"TINY_LOCALCLOUD_DIR": str(state)}
    listing = inventory_listing(elsewhere / "local-prod", pointed)
    assert listing["airflow"]["hosts"] == ["local-prod-airflow-1"]
    assert "airflow" not in inventory_listing(elsewhere / "local", pointed)  # local is not up
    (state / "inventory" / "local-prod.json").unlink()
    assert "airflow" not in inventory_listing(elsewhere / "local-prod", pointed)


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
    route = f"{settings.subnet()} dev br-other proto kernel scope link src 172.30.0.1"
    created = []
    monkeypatch.setattr(subprocess, "run", lambda *a, **k: subprocess.CompletedProcess(a, 0, stdout=route + "\n"))
    monkeypatch.setattr(hosts, "docker", lambda _engine, *args, **_kw: created.append(args)
                        or subprocess.CompletedProcess(args, 1, stdout=b"", stderr=b"no such network"))
    with pytest.raises(EngineError, match=r"already in use on this machine \(.*br-other"):
        hosts.ensure_network(None)
    assert not [args for args in created if args[:2] == ("network", "create")]


def test_image_tag_follows_the_recipe(monkeypatch, tmp_path):
    assert image.RECIPE == ROOT / "ci" / "localcloud" / "rootfs.sh" and image.RECIPE.is_file()
    recipe = tmp_path / "rootfs.sh"
    recipe.write_text("echo one\n")
    monkeypatch.setattr(image, "RECIPE", recipe)
    first = image.recipe_tag("http://deb.debian.org/debian")
    assert first == image.recipe_tag("http://deb.debian.org/debian")
    recipe.write_text("echo two\n")
    assert image.recipe_tag("http://deb.debian.org/debian") != first
    assert image.recipe_tag("http://mirror.example/debian") != image.recipe_tag("http://deb.debian.org/debian")


def test_settings_are_read_when_used_not_at_import(tmp_path, monkeypatch):
    """A TINY_* variable set after the modules were imported (a test, a Jenkins job's environment) is what
    every call sees: no module keeps a copy read at import."""
    from ci.localcloud.endpoint import Moto
    from ci.localcloud.engine import Engine
    from ci.localcloud.inventory import ssh_key

    monkeypatch.setenv("TINY_LOCALCLOUD_SUBNET", "10.99.0.0/24")
    monkeypatch.setenv("TINY_AIRFLOW_PORT", "18080")
    monkeypatch.setenv("TINY_LOCALCLOUD_DIR", str(tmp_path / "cloud"))
    monkeypatch.setenv("TINY_DOCKER_DIR", str(tmp_path / "engine"))
    monkeypatch.setenv("TINY_MOTO_PORT", "15000")
    assert [h.ip for h in hosts.hosts("local")] == ["10.99.0.10", "10.99.0.11"]
    assert hosts.gateway() == "10.99.0.1" and hosts.ui_url("local") == "https://127.0.0.1:18080"
    assert ssh_key() == tmp_path / "cloud" / "ssh" / "id_ed25519" and Moto().state_dir == tmp_path / "cloud"
    assert Engine().work == tmp_path / "engine" and settings.moto_port() == 15000


LOCALCLOUD = ROOT / "ci" / "localcloud"
ENV_READERS = {"environ", "environb", "getenv", "getenvb"}


@dataclass(frozen=True)
class EnvRead:
    """One place a module reads the process environment."""

    where: str  # file:line
    key: str | None  # the variable looked up; "?" when computed, None when the whole environment is copied
    at_import: bool  # outside every function body: it runs when the module is imported


def _env_reads(path: Path) -> list[EnvRead]:
    """Every `os.environ` / `os.getenv` in path, with the variable it names and whether it runs at import
    (a module or class body, a decorator, a default argument) or only when a function is called."""
    tree = ast.parse(path.read_text(), filename=str(path))
    from_os = {alias.asname or alias.name for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)
               and node.module == "os" for alias in node.names if alias.name in ENV_READERS}
    reads: list[EnvRead] = []

    def is_reader(node: ast.AST) -> bool:
        return ((isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id == "os"
                 and node.attr in ENV_READERS) or (isinstance(node, ast.Name) and node.id in from_os))

    def key(node: ast.AST, parents: list[ast.AST]) -> str | None:
        parent = parents[-1] if parents else None
        grandparent = parents[-2] if len(parents) > 1 else None
        if isinstance(parent, ast.Subscript) and parent.value is node:
            looked_up = parent.slice
        elif isinstance(parent, ast.Call) and parent.func is node and parent.args:
            looked_up = parent.args[0]
        elif (isinstance(parent, ast.Attribute) and parent.attr in ("get", "pop", "setdefault")
              and isinstance(grandparent, ast.Call) and grandparent.func is parent and grandparent.args):
            looked_up = grandparent.args[0]
        else:
            return None
        return looked_up.value if isinstance(looked_up, ast.Constant) and isinstance(looked_up.value, str) else "?"

    def visit(node: ast.AST, in_body: bool, parents: list[ast.AST]) -> None:
        if is_reader(node):
            reads.append(EnvRead(f"{path.relative_to(ROOT)}:{node.lineno}", key(node, parents), not in_body))
        body: list[ast.AST] = []
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            body = node.body
        elif isinstance(node, ast.Lambda):
            body = [node.body]
        for child in ast.iter_child_nodes(node):
            visit(child, in_body or any(child is b for b in body), [*parents, node])

    visit(tree, False, [])
    return reads


def _modules() -> list[Path]:
    modules = sorted(LOCALCLOUD.glob("*.py"))
    assert {"__init__.py", "settings.py", "endpoint.py", "engine.py", "hosts.py", "inventory.py"} <= {
        m.name for m in modules}
    return modules


def test_no_local_cloud_module_reads_the_environment_at_import():
    """A setting read at import is a copy that a variable set later (a test, a Jenkins job's environment)
    silently disagrees with: every read of os.environ / os.getenv is inside a function body."""
    reads = [read for module in _modules() for read in _env_reads(module)]
    assert any(read.key == "TINY_LOCALCLOUD_DIR" for read in reads)  # the scan sees the reads that are there
    at_import = [read.where for read in reads if read.at_import]
    assert not at_import, f"read at import (move it into a function of ci/localcloud/settings.py): {at_import}"


def test_every_tiny_setting_of_the_local_cloud_is_read_in_settings_only():
    """One place for the local cloud's TINY_* settings: every TINY_* name its modules mention (an error
    message telling the user what to set, a docstring) is read in settings.py, and no other module reads one."""
    settings_py = LOCALCLOUD / "settings.py"
    read_in_settings = {read.key for read in _env_reads(settings_py)}
    mentioned = {name: module.name for module in _modules()
                 for name in re.findall(r"\bTINY_[A-Z0-9_]+", module.read_text())}
    not_read = {name: module for name, module in mentioned.items() if name not in read_in_settings}
    assert not not_read, f"TINY_* names no function of ci/localcloud/settings.py reads: {not_read}"
    elsewhere = [f"{read.where} ({read.key})" for module in _modules() if module != settings_py
                 for read in _env_reads(module) if read.key is not None and (read.key.startswith("TINY_")
                                                                              or read.key == "?")]
    assert not elsewhere, f"a TINY_* setting (or a computed name) read outside settings.py: {elsewhere}"
