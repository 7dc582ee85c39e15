"""ansible/plugins/modules/debian_packages_missing.py: which packages dpkg does not have installed, so the roles
skip apt's package-cache load when nothing is missing (the idempotent site.yml re-run's largest cost)."""

from __future__ import annotations

import importlib.util

from ci.paths import ROOT

_spec = importlib.util.spec_from_file_location(
    "debian_packages_missing", ROOT / "ansible" / "library" / "debian_packages_missing.py")
module = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(module)


def test_only_installed_and_held_packages_count_as_present():
    # dpkg-query's ${db:Status-Abbrev}: want (i/h/u/r/p), state (n not-installed, c config-files, H half-installed,
    # U unpacked, i installed), error flag.
    out = "nginx ii \npostgresql-15 hi \nfail2ban rc \nauditd un \nlynis iU \nsysstat iHR\nacl iiR\n"
    assert module.installed(out) == {"nginx", "postgresql-15"}


def test_every_role_asks_before_apt():
    """Each role's apt install runs only when the check found something missing."""
    for role, task_file in [("base", "packages.yml"), ("airflow", "user.yml"), ("rds_bootstrap", "connect.yml"),
                            ("local_database", "install.yml")]:
        text = (ROOT / "ansible" / "roles" / role / "tasks" / task_file).read_text()
        assert "debian_packages_missing:" in text and ".missing | length > 0" in text, role


def test_the_lists_age_is_read_as_apt_reads_it(tmp_path, monkeypatch):
    """The update stamp when apt wrote one, else the lists folder (the apt module's cache_valid_time); None when
    apt never refreshed (base then runs apt)."""
    import os

    stamp, lists = tmp_path / "update-success-stamp", tmp_path / "lists"
    monkeypatch.setattr(module, "UPDATE_STAMP", str(stamp))
    monkeypatch.setattr(module, "LISTS", str(lists))
    assert module.lists_age(1000.0) is None
    lists.mkdir()
    os.utime(lists, (100.0, 100.0))
    assert module.lists_age(1000.0) == 900.0
    stamp.touch()
    os.utime(stamp, (990.0, 990.0))
    assert module.lists_age(1000.0) == 10.0
