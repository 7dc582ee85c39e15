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


def main() -> None:
    """Print the recorded inventory (`--list`), or one host's variables (`--host NAME`)."""
    state = Path(os.environ.get("TINY_LOCALCLOUD_DIR") or HERE.parent.parent / ".work" / "localcloud")
    path = state / "inventory" / f"{HERE.name}.json"
    listing = json.loads(path.read_text()) if path.exists() else {"_meta": {"hostvars": {}}}
    if len(sys.argv) > 2 and sys.argv[1] == "--host":
        print(json.dumps(listing["_meta"]["hostvars"].get(sys.argv[2], {})))
    else:
        print(json.dumps(listing))


if __name__ == "__main__":
    main()
