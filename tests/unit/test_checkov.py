"""checkov's Ansible checks in `make lint`: a finding fails the step unless the task says why it is skipped, and
every skip and every block without `rescue` is justified where it is."""

from __future__ import annotations

import re
import subprocess
import textwrap

import pytest

from ci.paths import ROOT
from ci.stages.lint import CHECKOV, checkov_argv

pytestmark = pytest.mark.slow  # starts processes or services: `make unit-slow`, not the push loop

ANSIBLE = ROOT / "ansible"
YAML_FILES = sorted(p for p in ANSIBLE.rglob("*") if p.suffix in (".yml", ".yaml"))
SKIP = re.compile(r"checkov:skip=([A-Z0-9_]+)(?::\s*(.*))?")


def test_every_checkov_skip_under_ansible_says_why():
    skips = [(path, number, m) for path in YAML_FILES
             for number, line in enumerate(path.read_text().splitlines(), 1) if (m := SKIP.search(line))]
    assert skips, "no skip found: the pattern no longer matches the comments"
    unjustified = [f"{path.relative_to(ROOT)}:{number}: {m.group(1)}" for path, number, m in skips
                   if len((m.group(2) or "").split()) < 4]
    assert not unjustified, f"skips without a reason: {unjustified}"


def _blocks_without_rescue_or_reason(text: str) -> list[int]:
    """Line numbers of `block:` keys whose task has no `rescue:` and no `# No rescue:` comment."""
    lines = text.splitlines()
    missing = []
    for index, line in enumerate(lines):
        if not (m := re.match(r"^(\s*)block:\s*$", line)):
            continue
        key_indent = m.group(1)
        start = index
        while start > 0 and not re.match(rf"^{key_indent[:-2]}- ", lines[start]):
            start -= 1
        end = index + 1
        while end < len(lines) and not re.match(rf"^{key_indent[:-2]}- |^{key_indent[:-2]}\S", lines[end]):
            end += 1
        task = lines[start:end]
        if not any(re.match(rf"^{key_indent}rescue:", t) for t in task) and not any(
                "# No rescue:" in t for t in lines[start:index]):
            missing.append(index + 1)
    return missing


def test_every_block_has_a_rescue_or_says_why_not():
    """CKV2_ANSIBLE_3, checked here because checkov cannot take a block's inline skip (ci/stages/lint.py)."""
    missing = [f"{path.relative_to(ROOT)}:{n}" for path in YAML_FILES
               for n in _blocks_without_rescue_or_reason(path.read_text())]
    assert not missing, f"blocks without rescue and without a '# No rescue:' reason: {missing}"


def test_the_block_rule_tells_a_reasoned_block_from_a_bare_one():
    tasks = textwrap.dedent("""\
        - name: Bare
          when: true
          block:
            - name: Inner
              ansible.builtin.debug:
        - name: Reasoned
          # No rescue: nothing to undo.
          block:
            - name: Inner
              ansible.builtin.debug:
        - name: Rescued
          block:
            - name: Inner
              ansible.builtin.debug:
          rescue:
            - name: Undo
              ansible.builtin.debug:
        """)
    assert _blocks_without_rescue_or_reason(tasks) == [3]


@pytest.mark.skipif(not CHECKOV.exists(), reason="checkov is installed by `make tools` (make unit runs it first)")
def test_checkov_fails_on_a_finding_and_honours_a_reasoned_skip(tmp_path):
    role = tmp_path / "roles" / "demo" / "tasks"
    role.mkdir(parents=True)
    host = """\
        - name: {name}
          {skip}
          amazon.aws.ec2_instance:
            name: demo
            image_id: ami-0123456789abcdef0
            instance_type: t4g.small
            network_interfaces:
              - assign_public_ip: true
            state: running
    """
    (role / "main.yml").write_text(
        textwrap.dedent(host.format(name="Public and unexplained", skip=""))
        + textwrap.dedent(host.format(name="Public on purpose", skip="# checkov:skip=CKV_AWS_88: a cost decision")))
    proc = subprocess.run(checkov_argv(tmp_path), capture_output=True, text=True, check=False, timeout=120)
    out = proc.stdout + proc.stderr
    assert proc.returncode == 1, out
    failed = re.findall(r"CKV_AWS_88.*\n\s*FAILED for resource: (.*)", out)
    assert failed == ["tasks.amazon.aws.ec2_instance.Public and unexplained"], out
    assert "Skipped checks: 1" in out, out
