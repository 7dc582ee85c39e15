"""Every host the roles harden (groups airflow, database, workers of the inventory): the `base` role's hardening,
each part checked where it is on, and lynis, an outside auditor, with its hardening index and warnings.

verify runs tests/infra with `--hosts=airflow`; these tests reach the other groups of the same inventory
themselves. lynis runs on all hosts at once (about a minute each) when the first audit test needs it.
"""

from __future__ import annotations

import base64
import json
import os
import re
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import testinfra
import yaml

ROOT = Path(__file__).resolve().parents[2]
ROLE_DEFAULTS = yaml.safe_load((ROOT / "ansible" / "roles" / "base" / "defaults" / "main.yml").read_text())
# The groups site.yml hardens with the base role (workers: when the Celery workers exist).
HARDENED_GROUPS = ("airflow", "database", "workers")
HARDENING_INDEX_MIN = 80
LYNIS = "lynis audit system --quick --no-colors"
# What lynis reads that the roles change: packages, running services, the content of /etc (less the files
# Docker writes at every start), and lynis itself. An audit of a host with the same fingerprint is reused
# (it takes about a minute); TINY_LYNIS_FRESH=1 runs it regardless.
FINGERPRINT = ("{ dpkg-query -W -f '${Package} ${Version}\\n'; "
               "systemctl list-units --type=service --state=running --no-legend --plain | cut -d' ' -f1; "
               "find /etc -xdev -type f ! -path /etc/resolv.conf ! -path /etc/hostname ! -path /etc/hosts "
               "! -name ld.so.cache -print0 | sort -z | xargs -0 sha256sum; lynis --version; } 2>&1 "
               "| sha256sum | cut -d' ' -f1")
AUDIT_CACHE = "/var/lib/tiny-analytics/lynis-audit.json"


def hardened_hosts(config: pytest.Config) -> list[str]:
    """Names of the inventory's hosts in the hardened groups (or the --hosts given, without an inventory)."""
    inventory = config.getoption("ansible_inventory", None)
    if config.getoption("connection", None) == "ansible" and inventory:
        names: set[str] = set()
        for group in HARDENED_GROUPS:
            names |= {h.backend.host for h in testinfra.get_hosts([group], connection="ansible",
                                                                       ansible_inventory=inventory)}
        return sorted(names)
    return [h for spec in (config.getoption("hosts", None) or []) for h in spec.split(",")]


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """One test per hardened host for every test taking `node`."""
    if "node" in metafunc.fixturenames:
        names = hardened_hosts(metafunc.config)
        metafunc.parametrize("node", names, ids=names, indirect=True)


@pytest.fixture(scope="session")
def connect(pytestconfig):
    """Host objects by inventory name, reached as Ansible reaches them."""
    inventory = pytestconfig.getoption("ansible_inventory", None)

    def get(name: str) -> testinfra.host.Host:
        if inventory:
            return testinfra.get_host(f"ansible://{name}?ansible_inventory={inventory}")
        return testinfra.get_host(name, connection=pytestconfig.getoption("connection", None) or "paramiko")

    return get


@pytest.fixture
def node(request, connect):
    return connect(request.param)


def setting(node, name: str):
    """The role variable as this host gets it: the inventory's value, else the role's default."""
    value = node.ansible.get_variables().get(name, ROLE_DEFAULTS.get(name)) if _has_inventory(node) \
        else ROLE_DEFAULTS.get(name)
    if isinstance(value, str) and "{{ base_admin_group }}" in value:
        value = value.replace("{{ base_admin_group }}", str(setting(node, "base_admin_group")))
    return value


def _has_inventory(node) -> bool:
    return node.backend.get_connection_type() == "ansible"


def in_container(node) -> bool:
    return node.run("systemd-detect-virt --container").rc == 0


def requires(node, flag: str) -> None:
    if not setting(node, flag):
        pytest.skip(f"{flag} is false for this host (opted out)")


# --- security updates -------------------------------------------------------------------------------------

def test_security_repository_configured_once(node):
    suite = f"{node.system_info.codename}-security"
    policy = node.check_output("apt-cache policy")
    indexes = [line for line in policy.splitlines() if re.search(rf"\s{re.escape(suite)}/main \S+ Packages$", line)]
    assert len(indexes) == 1, f"{suite}/main should be one apt source, found {len(indexes)}:\n{policy}"
    assert re.search(rf"o=Debian,a=[\w-]+,n={re.escape(suite)},l=Debian-Security", policy), policy


def test_unattended_upgrades_sees_security_updates(node):
    with node.sudo():
        pending = node.run("apt-get -s -o Debug::NoLocking=1 upgrade")
        dry = node.run("unattended-upgrade --dry-run --debug")
    assert dry.rc == 0 and "Traceback" not in dry.stdout + dry.stderr, dry.stdout[-3000:] + dry.stderr
    suite = f"{node.system_info.codename}-security"
    allowed = next((line for line in (dry.stdout + dry.stderr).splitlines() if "Allowed origins are:" in line), "")
    assert f"codename={suite}" in allowed, f"unattended-upgrades does not allow {suite}: {allowed!r}"
    security = sorted({line.split()[1] for line in pending.stdout.splitlines()
                       if line.startswith("Inst ") and re.search(r"-security[] ]", line)})
    if security:  # pending ones (a new advisory since configure) are what the next unattended run takes
        assert all(pkg in dry.stdout + dry.stderr for pkg in security), (security, dry.stdout[-3000:])


# --- SSH, banner, login defaults --------------------------------------------------------------------------

def effective_sshd(node) -> dict[str, str]:
    with node.sudo():
        lines = node.check_output("sshd -T").splitlines()
    return {key: value for key, _, value in (line.partition(" ") for line in lines)}


@pytest.mark.parametrize("key", ["Compression", "LogLevel", "MaxSessions", "TCPKeepAlive", "PermitUserEnvironment",
                                 "PermitTunnel", "GatewayPorts", "LoginGraceTime", "Ciphers", "MACs",
                                 "KexAlgorithms", "AllowGroups", "ClientAliveInterval", "ClientAliveCountMax"])
def test_sshd_setting(node, key):
    wanted = {**setting(node, "base_sshd_settings"), **(setting(node, "base_sshd_settings_overrides") or {})}
    if key not in wanted:
        pytest.skip(f"{key} is not among this host's sshd settings")
    expected = str(wanted[key]).replace("{{ base_admin_group }}", str(setting(node, "base_admin_group")))
    assert effective_sshd(node).get(key.lower(), "").lower() == expected.lower()


def test_login_banner(node):
    requires(node, "base_login_banner_enabled")
    banner = setting(node, "base_login_banner")
    for path in ("/etc/issue", "/etc/issue.net"):
        assert node.file(path).content_string == banner, path
    assert effective_sshd(node).get("banner") == "/etc/issue.net"


def test_login_defs(node):
    requires(node, "base_login_defs_enabled")
    defs = dict(line.split(None, 1) for line in node.file("/etc/login.defs").content_string.splitlines()
                if line.strip() and not line.lstrip().startswith("#") and len(line.split(None, 1)) == 2)
    for key, value in setting(node, "base_login_defs").items():
        assert defs.get(key, "").strip() == str(value), f"login.defs {key}={defs.get(key)!r}, expected {value}"


def test_umask_of_login_shells(node):
    requires(node, "base_umask_enabled")
    umask = str(setting(node, "base_umask"))
    assert node.check_output("grep -E '^UMASK' /etc/login.defs").split()[1] == umask
    assert node.check_output("bash -lc umask").lstrip("0") == umask.lstrip("0")


def test_idle_shells_time_out(node):
    timeout = int(setting(node, "base_shell_timeout"))
    if timeout <= 0:
        pytest.skip("base_shell_timeout is off for this host")
    assert node.check_output("bash -lc 'echo $TMOUT'") == str(timeout)


def test_core_dumps_off(node):
    requires(node, "base_core_dumps_disabled")
    assert node.check_output("bash -c 'ulimit -Hc'") == "0", "an SSH session may still dump core"
    assert node.check_output("systemctl show --property DefaultLimitCORE --value") == "0", "services may dump core"
    if not in_container(node):
        assert node.check_output("cat /proc/sys/fs/suid_dumpable") == "0"


# --- kernel modules, audit, permissions, packages ---------------------------------------------------------

def test_unused_modules_cannot_load(node):
    requires(node, "base_blacklist_enabled")
    conf = node.check_output("cat /etc/modprobe.d/*.conf")
    missing = [m for m in setting(node, "base_blacklisted_modules")
               if not re.search(rf"^install {re.escape(m)} /bin/true$", conf, re.M)
               or not re.search(rf"^blacklist {re.escape(m)}$", conf, re.M)]
    assert not missing, f"loadable: {missing}"


def test_auditd_rules(node):
    requires(node, "base_auditd_enabled")
    with node.sudo():
        rules = node.file(setting(node, "base_auditd_rules_file")).content_string
        assert all(rule in rules for rule in setting(node, "base_auditd_rules"))
        state = node.run("systemctl is-failed auditd").stdout.strip()
        assert state != "failed", "auditd failed"
        if in_container(node):
            # the kernel's audit subsystem belongs to the machine: systemd skips the unit by its condition
            assert node.check_output("systemctl show --property ConditionResult --value auditd") == "no"
        else:
            assert node.service("auditd").is_running
            assert "-k identity" in node.check_output("auditctl -l") or "key=identity" in node.check_output(
                "auditctl -l")


def test_home_folders_closed(node):
    requires(node, "base_home_permissions_enabled")
    allowed = int(str(setting(node, "base_home_mode")), 8)
    homes = node.check_output("getent passwd | awk -F: '$3 >= 1000 && $6 ~ \"^/home/\" {print $6}'").split()
    assert homes, "no login user's home folder found"
    open_homes = {h: oct(node.file(h).mode) for h in homes
                  if node.file(h).exists and node.file(h).mode & ~allowed & 0o777}
    assert not open_homes, f"open to others: {open_homes}"


def test_file_permissions(node):
    requires(node, "base_file_permissions_enabled")
    too_open = {}
    with node.sudo():
        for path, mode in setting(node, "base_file_permissions").items():
            f = node.file(path)
            if f.exists and f.mode & ~int(str(mode), 8) & 0o777:
                too_open[path] = oct(f.mode)
    assert not too_open, too_open


def test_hardening_packages_installed(node):
    requires(node, "base_harden_packages")
    missing = [p for p in setting(node, "base_hardening_packages") if not node.package(p).is_installed]
    assert not missing, missing


# --- the outside auditor ----------------------------------------------------------------------------------

def parse_report(text: str) -> dict:
    """lynis-report.dat: key=value lines; `key[]=` lines are lists."""
    report: dict = {"warning": [], "suggestion": []}
    for line in text.splitlines():
        key, sep, value = line.partition("=")
        if not sep:
            continue
        if key.endswith("[]"):
            report.setdefault(key[:-2], []).append(value)
        else:
            report[key] = value
    return report


def audit(host) -> dict:
    """lynis' report of the host: a fresh audit, or the last one when nothing it reads has changed since."""
    started = time.monotonic()
    with host.sudo():
        fingerprint = host.check_output(FINGERPRINT)
        cached = host.run(f"cat {AUDIT_CACHE}")
        if cached.rc == 0 and not os.environ.get("TINY_LYNIS_FRESH"):
            saved = json.loads(cached.stdout)
            if saved.get("fingerprint") == fingerprint:
                return {**saved["report"], "reused": saved["at"], "seconds": 0.0}
        run = host.run(f"{LYNIS} >/dev/null 2>&1; echo lynis-exit=$?; cat /var/log/lynis-report.dat")
        report = parse_report(run.stdout)
        report["seconds"] = round(time.monotonic() - started, 1)
        report["stderr"] = run.stderr
        if "hardening_index" in report:
            record = json.dumps({"fingerprint": fingerprint, "report": report,
                                 "at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())})
            host.check_output(f"install -d -m 0700 {os.path.dirname(AUDIT_CACHE)} && echo "
                              f"{base64.b64encode(record.encode()).decode()} | base64 -d > {AUDIT_CACHE} "
                              f"&& chmod 0600 {AUDIT_CACHE}")
    return report


@pytest.fixture(scope="session")
def lynis_audits(pytestconfig, connect) -> dict[str, dict]:
    """lynis on every hardened host at once; the parsed report of each."""
    names = hardened_hosts(pytestconfig)
    with ThreadPoolExecutor(max_workers=max(1, len(names))) as pool:
        return dict(zip(names, pool.map(lambda name: audit(connect(name)), names), strict=True))


def test_lynis_hardening_index(node, lynis_audits, record_property):
    name = node.backend.host
    report = lynis_audits[name]
    assert "hardening_index" in report, (f"lynis did not run on {name} (is it installed? base_hardening_packages "
                                         f"holds it): {report.get('stderr', '')[-500:]}")
    index, minimum = int(report["hardening_index"]), int(setting(node, "hardening_index_min") or HARDENING_INDEX_MIN)
    summary = (f"lynis {report.get('lynis_version', '?')} on {name}: hardening index {index} (minimum {minimum}), "
               f"{report.get('lynis_tests_done', '?')} tests, {len(report['warning'])} warnings, "
               f"{len(report['suggestion'])} suggestions, "
               + (f"the audit of {report['reused']} (nothing it reads changed since)" if report.get("reused")
                  else f"{report['seconds']} s"))
    record_property("lynis_hardening_index", index)
    record_property("lynis_summary", summary)  # verify prints it
    record_property("lynis_suggestions", "\n".join(report["suggestion"]))
    assert index >= minimum, f"{summary}; suggestions: {report['suggestion']}"


def test_lynis_reports_no_warning(node, lynis_audits):
    report = lynis_audits[node.backend.host]
    assert "hardening_index" in report, "lynis did not run"
    assert not report["warning"], f"lynis warnings on {node.backend.host}: {report['warning']}"
