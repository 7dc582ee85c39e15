"""ansible/plugins/modules/debian_packages_missing.py: which packages dpkg does not have installed, so the roles
skip apt's package-cache load when nothing is missing (the idempotent site.yml re-run's largest cost)."""

from __future__ import annotations

import importlib.util

from ci.paths import ROOT

_spec = importlib.util.spec_from_file_location(
    "debian_packages_missing", ROOT / "ansible" / "plugins" / "modules" / "debian_packages_missing.py")
module = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(module)


def test_only_installed_and_held_packages_count_as_present():
    # dpkg-query's ${db:Status-Abbrev}: want (i/h/u/r/p), state (n not-installed, c config-files, H half-installed,
    # U unpacked, i installed), error flag.
    out = ("nginx ii \npostgresql-15 hi \nfail2ban rc \nauditd un \nlynis iU \nlibc6:amd64 ii \n"
           "sysstat iHR\n")
    assert module.installed(out) == {"nginx", "postgresql-15", "libc6", "libc6:amd64"}


def test_every_role_asks_before_apt():
    """Each role's apt install runs only when the check found something missing."""
    for role, task_file in [("base", "packages.yml"), ("airflow", "user.yml"), ("rds_bootstrap", "connect.yml"),
                            ("local_database", "install.yml")]:
        text = (ROOT / "ansible" / "roles" / role / "tasks" / task_file).read_text()
        assert "debian_packages_missing:" in text and ".missing | length > 0" in text, role
