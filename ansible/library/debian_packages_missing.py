#!/usr/bin/python
"""Which of a list of Debian packages are not installed, and how old apt's package lists are: one dpkg-query
and two stat calls, no package cache.

The apt module loads the whole package cache on every call, also when every package is in place and the lists
are fresh (about half a second a task on the hosts): the roles ask this first and run apt only for a host that
lacks something (base also when the lists are older than its refresh interval, as apt's cache_valid_time).
"""

from __future__ import annotations

import os
import time

from ansible.module_utils.basic import AnsibleModule

DOCUMENTATION = r"""
module: debian_packages_missing
short_description: Which of the given Debian packages are not installed, and the age of apt's lists
description:
  - Runs C(dpkg-query) once for the given names and returns those not in the C(installed) state (absent, only
    configured-files, half-installed, unpacked, or unknown to dpkg). Changes nothing.
  - Also returns the age of apt's package lists, read as the apt module reads it for C(cache_valid_time).
options:
  names:
    description: Package names, as the apt module takes them (no version, release or architecture suffix).
    type: list
    elements: str
    required: true
author: tiny-analytics
"""

EXAMPLES = r"""
- name: Find the packages not installed yet
  debian_packages_missing:
    names: [nginx, python3-psycopg2]
  register: missing
- name: Install them
  ansible.builtin.apt:
    name: [nginx, python3-psycopg2]
  when: missing.missing | length > 0
"""

RETURN = r"""
missing:
  description: The names that are not installed, in the order given.
  type: list
  elements: str
  returned: always
lists_age_seconds:
  description: Seconds since apt last refreshed its package lists; null when it never did.
  type: float
  returned: always
"""

# Where apt (and the apt module's cache_valid_time) reads when the lists were last refreshed.
UPDATE_STAMP = "/var/lib/apt/periodic/update-success-stamp"
LISTS = "/var/lib/apt/lists"


def installed(dpkg_output: str) -> set[str]:
    """Names dpkg reports as installed ("ii"/"hi": wanted or held, and installed, no error flag) in
    `${Package} ${db:Status-Abbrev}` lines."""
    found = set()
    for line in dpkg_output.splitlines():
        parts = line.split()
        if len(parts) == 2 and parts[1] in ("ii", "hi"):
            found.add(parts[0])
    return found


def lists_age(now: float) -> float | None:
    """Seconds since the package lists were refreshed (the update stamp, else the lists folder), or None."""
    for path in (UPDATE_STAMP, LISTS):
        if os.path.exists(path):
            return max(0.0, now - os.stat(path).st_mtime)
    return None


def main() -> None:
    """Ask dpkg once; report the names it does not have installed, and the lists' age."""
    module = AnsibleModule(argument_spec={"names": {"type": "list", "elements": "str", "required": True}},
                           supports_check_mode=True)
    names = module.params["names"]
    # dpkg-query exits 1 when a name is unknown to dpkg (never installed): that name is simply missing. The
    # format's ${...} are dpkg's fields, not the environment's (no expansion).
    query = ["dpkg-query", "-W", "--showformat=${Package} ${db:Status-Abbrev}\\n", "--", *names]
    rc, out, err = module.run_command(query, expand_user_and_vars=False)
    if rc not in (0, 1):
        module.fail_json(msg=f"dpkg-query failed ({rc}): {err.strip()}")
    have = installed(out)
    module.exit_json(changed=False, missing=[n for n in names if n not in have],
                     lists_age_seconds=lists_age(time.time()))


if __name__ == "__main__":
    main()
