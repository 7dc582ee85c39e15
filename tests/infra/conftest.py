"""testinfra against the hosts of any inventory: `python -m ci verify --env ENV` passes
`--connection=ansible --ansible-inventory=inventory/<env> --hosts=airflow` and TINY_ENV.

What the hosts should hold comes from the environment's own records, read from the environment (any
workspace can verify): the last deploy's record and provision's outputs (ci.platform).
"""

from __future__ import annotations

import os

import pytest

from ci.platform import Platform, PlatformError


@pytest.fixture(scope="session")
def env() -> str:
    """The environment under test."""
    return os.environ.get("TINY_ENV", "local")


@pytest.fixture(scope="session")
def platform(env) -> Platform:
    """The environment, as every stage loads it."""
    try:
        return Platform.load(env)
    except PlatformError as exc:
        pytest.fail(str(exc))


@pytest.fixture(scope="session")
def deployed(env, platform) -> dict:
    """The bundle the last `make deploy` put on the hosts."""
    record = platform.read_record("deployed")
    if record is None:
        pytest.fail(f"{env} has no deploy record: run `make deploy ENV={env}` before verify")
    return record


@pytest.fixture(scope="session")
def outputs(platform) -> dict:
    """provision's outputs for the environment."""
    return platform.outputs

