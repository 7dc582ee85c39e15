"""DAG integrity suite: every DAG file imports cleanly and is well-formed. One test per file and rule.

The folder checked is dags/ unless TINY_DAGS_FOLDER names another (the fixture tests use that to prove
each rule fails for the right reason). Files are parsed with network and DB access made to fail.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from ci.config import settings
from ci.dag_integrity import dag_constructor_calls, dag_files, describe_import_error, dynamic_calls, load_dag_file
from ci.paths import dags_folder

FOLDER = dags_folder()
FILES = dag_files(FOLDER)


def require(condition: object, message: str) -> None:
    """Fail with just the message: it names the file, line and fix; a traceback adds nothing."""
    if not condition:
        pytest.fail(message, pytrace=False)


def _loaded_dags(path: Path) -> dict:
    """The file's DAGs; skips when it does not import (test_imports_without_errors reports that)."""
    loaded = load_dag_file(path)
    if loaded.import_error:
        pytest.skip(f"{path.name} does not import")
    require(loaded.dags, f"{path}: defines no DAG (a DAG file must create one; move helpers into dags/tiny_etl/)")
    return loaded.dags


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "dag_file" in metafunc.fixturenames:
        metafunc.parametrize("dag_file", FILES, ids=[str(p.relative_to(FOLDER)) for p in FILES])


def test_dag_folder_has_dag_files():
    require(FILES, f"no DAG files found in {FOLDER}")


def test_imports_without_errors(dag_file: Path):
    loaded = load_dag_file(dag_file)
    require(loaded.import_error is None, describe_import_error(dag_file, loaded.import_error or ""))


def test_dag_id_matches_file_name(dag_file: Path):
    """dag_id is the file name; a factory file making several DAGs names them `<file>__<suffix>`."""
    stem = dag_file.stem
    dags = _loaded_dags(dag_file)
    for dag_id in dags:
        ok = dag_id == stem if len(dags) == 1 else dag_id.startswith(f"{stem}__")
        require(ok, f"{dag_file}: dag_id {dag_id!r} does not match the file name {stem!r}")


def test_owner_is_set(dag_file: Path):
    default = settings().default_owner
    for dag_id, dag in _loaded_dags(dag_file).items():
        for task in dag.tasks:
            require(task.owner and task.owner != default,
                    f"{dag_file}: {dag_id}.{task.task_id} has owner {task.owner!r}: set default_args['owner'] "
                    f"to the team that answers for it")


def test_tags_present(dag_file: Path):
    for dag_id, dag in _loaded_dags(dag_file).items():
        require(dag.tags, f"{dag_file}: {dag_id} has no tags")


def test_retries_at_least_one(dag_file: Path):
    for dag_id, dag in _loaded_dags(dag_file).items():
        for task in dag.tasks:
            require(task.retries >= 1,
                    f"{dag_file}: {dag_id}.{task.task_id} has retries={task.retries}, want >= 1")


def test_schedule_start_date_catchup_explicit(dag_file: Path):
    _loaded_dags(dag_file)
    calls = dag_constructor_calls(dag_file)
    require(calls, f"{dag_file}: no DAG(...) or @dag(...) call in the file; declare the DAG here")
    for call in calls:
        for keyword in ("schedule", "start_date", "catchup"):
            require(keyword in call.keywords, f"{dag_file}:{call.line}: DAG has no explicit {keyword}=")
        moving = dynamic_calls(call.keywords["start_date"])
        require(not moving, f"{dag_file}:{call.line}: start_date calls {', '.join(moving)}(): "
                            f"use a fixed date, e.g. pendulum.datetime(2026, 1, 1, tz='UTC')")


def test_parse_time_within_budget(dag_file: Path):
    budget = settings().dag_parse_budget_seconds
    loaded = load_dag_file(dag_file)
    require(loaded.seconds <= budget,
            f"{dag_file}: parsing took {loaded.seconds:.2f}s, budget {budget:.2f}s "
            f"(pyproject.toml [tool.tiny-analytics] dag_parse_budget_seconds)")
