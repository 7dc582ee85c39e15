#!/usr/bin/python
"""Which of a list of Debian packages are not installed: one dpkg-query, no package cache.

The apt module loads the whole package cache on every call, also when every package is in place (about half
a second a task on the hosts): the roles ask this first and run apt only for a host that lacks something.
"""

from __future__ import annotations

from ansible.module_utils.basic import AnsibleModule

DOCUMENTATION = r"""
module: debian_packages_missing
short_description: Which of the given Debian packages are not installed
description:
  - Runs C(dpkg-query) once for the given names and returns those not in the C(installed) state (absent, only
    configured-files, half-installed, or unknown to dpkg). Changes nothing.
options:
  names:
    description: Package names, as the apt module takes them (no version or release suffix).
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
"""


def installed(dpkg_output: str) -> set[str]:
    """Names dpkg reports as installed ("ii"/"hi": wanted or held, and installed) in `${Package} ${db:Status-Abbrev}`
    lines; arch-qualified names (multi-arch) count under their plain name too."""
    found = set()
    for line in dpkg_output.splitlines():
        parts = line.split()
        if len(parts) >= 2 and parts[1][:2] in ("ii", "hi"):
            found.update({parts[0], parts[0].split(":", 1)[0]})
    return found


def main() -> None:
    """Ask dpkg once; report the names it does not have installed."""
    module = AnsibleModule(argument_spec={"names": {"type": "list", "elements": "str", "required": True}},
                           supports_check_mode=True)
    names = module.params["names"]
    # dpkg-query exits 1 when a name is unknown to dpkg (never installed): that name is simply missing.
    query = ["dpkg-query", "-W", "--showformat=${Package} ${db:Status-Abbrev}\\n", "--", *names]
    rc, out, err = module.run_command(query)
    if rc not in (0, 1):
        module.fail_json(msg=f"dpkg-query failed ({rc}): {err.strip()}")
    have = installed(out)
    module.exit_json(changed=False, missing=[n for n in names if n not in have])


if __name__ == "__main__":
    main()
