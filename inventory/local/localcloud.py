#!/usr/bin/env python3
"""Ansible inventory script: this environment's local hosts, as `python -m ci localcloud up` recorded them in
the local cloud's state folder ($TINY_LOCALCLOUD_DIR, or .work/localcloud of this checkout). Any checkout (a
Jenkins job's fresh workspace) reaches the same hosts; none are listed while the local cloud is down.
Standard library only: Ansible runs it with the system's python3 (`--list`, `--host NAME`)."""

import json
import os
import sys
from pathlib import Path

HERE = Path(__file__).absolute().parent  # not resolved: inventory/local-prod/localcloud.py is a link to this file


def add_credentials(listing: dict, state: Path) -> None:
    """A host's AWS keys are added as printed, never kept in the inventory file: those moto holds for the
    host's role (`local_aws_identity`) in identities.json, the owner-only file it wrote at start."""
    try:
        keys = json.loads((state / "identities.json").read_text())
    except (OSError, ValueError):
        keys = {}
    for variables in listing["_meta"]["hostvars"].values():
        found = keys.get(variables.pop("local_aws_identity", None) or "")
        if found:
            variables["airflow_aws_access_key_id"] = found["AWS_ACCESS_KEY_ID"]
            variables["airflow_aws_secret_access_key"] = found["AWS_SECRET_ACCESS_KEY"]
            variables["airflow_extra_env"] = {**variables.get("airflow_extra_env", {}),
                                              "AWS_SESSION_TOKEN": found["AWS_SESSION_TOKEN"]}


def main() -> None:
    """Print the recorded inventory (`--list`), or one host's variables (`--host NAME`)."""
    state = Path(os.environ.get("TINY_LOCALCLOUD_DIR") or HERE.parent.parent / ".work" / "localcloud")
    path = state / "inventory" / f"{HERE.name}.json"
    listing = json.loads(path.read_text()) if path.exists() else {"_meta": {"hostvars": {}}}
    add_credentials(listing, state)
    if len(sys.argv) > 2 and sys.argv[1] == "--host":
        print(json.dumps(listing["_meta"]["hostvars"].get(sys.argv[2], {})))
    else:
        print(json.dumps(listing))


if __name__ == "__main__":
    main()
