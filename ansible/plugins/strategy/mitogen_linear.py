"""Ansible's `linear` strategy run by Mitogen (ansible.cfg: `strategy = mitogen_linear`).

Mitogen keeps one Python interpreter per host for the whole run, reached over the same SSH connection, and
sends each module to it, where stock Ansible starts a new Python per task and host: an idempotent site.yml
re-run spends most of its time in those starts. Same playbooks, same SSH and become; `ANSIBLE_STRATEGY=linear`
runs stock Ansible. The plugin itself is the mitogen package's (requirements/tooling.in); this file puts it on
the strategy plugin path without naming the virtualenv's site-packages folder.
"""

from ansible_mitogen.plugins.strategy.mitogen_linear import StrategyModule

__all__ = ["StrategyModule"]
