"""One code path for AWS and the local cloud: no play, role or lookup names an AWS endpoint. The local cloud is
chosen by the AWS SDK's own configuration (AWS_ENDPOINT_URL, which botocore >= 1.31 reads), set by `ci` for
local environments only (https://docs.aws.amazon.com/sdkref/latest/guide/feature-ss-endpoints.html)."""

from __future__ import annotations

import re
import subprocess

from ci.paths import ROOT

ENDPOINT = re.compile(r"endpoint_url|aws_endpoint")  # AWS_ENDPOINT_URL (the SDK's own) may be named


def test_no_endpoint_under_ansible():
    found = [f"{path.relative_to(ROOT)}:{n}: {line.strip()}"
             for path in sorted((ROOT / "ansible").rglob("*")) if path.is_file()
             for n, line in enumerate(path.read_text(errors="replace").splitlines(), 1) if ENDPOINT.search(line)]
    assert not found, "an endpoint in the playbooks (use the SDK's AWS_ENDPOINT_URL instead):\n" + "\n".join(found)


def test_inventories_name_no_endpoint_variable_for_the_plays():
    tracked = subprocess.run(["git", "ls-files", "inventory", "ci/localcloud/inventory.py"], cwd=ROOT,
                             capture_output=True, text=True, check=True).stdout.split()
    found = [p for p in tracked if re.search(r"^\s*aws_endpoint_url\s*:", (ROOT / p).read_text(), re.MULTILINE)]
    assert tracked and not found, found
