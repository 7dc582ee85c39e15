"""testinfra against the hosts of any inventory: `python -m ci verify --env ENV` passes
`--connection=ansible --ansible-inventory=inventory/<env> --hosts=airflow` and TINY_ENV.

What the hosts should hold comes from the environment's own records: the last deploy
(.work/<env>/deployed.json) and provision's outputs.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="session")
def env() -> str:
    """The environment under test."""
    return os.environ.get("TINY_ENV", "local")


@pytest.fixture(scope="session")
def deployed(env) -> dict:
    """The bundle the last `make deploy` put on the hosts."""
    path = ROOT / ".work" / env / "deployed.json"
    if not path.exists():
        pytest.fail(f"{path} not found: run `make deploy ENV={env}` before verify")
    return json.loads(path.read_text())


@pytest.fixture(scope="session")
def outputs(env) -> dict:
    """provision's outputs for the environment."""
    return yaml.safe_load((ROOT / ".work" / env / "provision-outputs.yml").read_text())
