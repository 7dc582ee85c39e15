"""Deploy pauses or unpauses each DAG as its file declares (is_paused_upon_creation), once the DAG processor has
parsed the release; verify names each DAG that differs; a DAG that declares nothing is left alone. Against a
small double of the Airflow API's DAG endpoints. The same on the running local default is
tests/integration/test_7_deployed_dags_run.py."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from ci import bundle, dag_states
from ci.platform import Platform
from ci.runner import Stage, StepFailed, StepResult
from ci.stages import deploy, dev

SWITCH = dt.datetime(2026, 11, 26, 12, 0, tzinfo=dt.UTC)


def stamp(seconds: int) -> str:
    """An API timestamp `seconds` after the switch."""
    return (SWITCH + dt.timedelta(seconds=seconds)).isoformat().replace("+00:00", "Z")


class DagsApi:
    """The DAG list, details and PATCH endpoints of an Airflow whose DAG processor parsed each DAG at a time.

    dags: dag_id -> (file, paused, declared is_paused_upon_creation or None, seconds after the switch parsed).
    """

    def __init__(self, dags: dict[str, tuple[str, bool, bool | None, int]]) -> None:
        self.state = {dag_id: list(row) for dag_id, row in dags.items()}
        self.patched: list[tuple[str, bool]] = []

    def dags(self) -> list[dict]:
        return [{"dag_id": dag_id, "relative_fileloc": file, "is_paused": paused, "last_parsed_time": stamp(parsed)}
                for dag_id, (file, paused, _, parsed) in self.state.items()]

    def import_errors(self) -> list[dict]:
        return []

    def dag_details(self, dag_id: str) -> dict:
        _, paused, declared, _ = self.state[dag_id]
        return {"dag_id": dag_id, "is_paused": paused, "is_paused_upon_creation": declared}

    def set_paused(self, dag_id: str, paused: bool) -> dict:
        self.patched.append((dag_id, paused))
        self.state[dag_id][1] = paused
        return self.dag_details(dag_id)


def release_api() -> DagsApi:
    """A release's DAGs right after the switch: Airflow paused the new ones; a dev loop's fixture DAG (declares
    nothing) is paused too; an inactive tenant's DAG was unpaused by hand."""
    return DagsApi({
        "tenant_etl__acme": ("tenant_etl.py", True, False, 5),
        "tenant_analytics__acme": ("tenant_analytics.py", True, False, 5),
        "tenant_etl__dormant": ("tenant_etl.py", False, True, 5),
        "raw_bucket_inventory": ("raw_bucket_inventory.py", False, False, 5),
        "fixture_dag": ("fixture.py", True, None, 5),
    })


def test_apply_sets_each_declaring_dag_and_leaves_the_rest():
    api = release_api()
    out = dag_states.apply_declared(api, [dag["dag_id"] for dag in api.dags()])
    assert sorted(api.patched) == [("tenant_analytics__acme", False), ("tenant_etl__acme", False),
                                   ("tenant_etl__dormant", True)]
    assert "fixture_dag" not in dict(api.patched) and api.state["fixture_dag"][1] is True
    assert out.count("<- set by this deploy") == 3
    again = dag_states.apply_declared(api, [dag["dag_id"] for dag in api.dags()])
    assert len(api.patched) == 3 and "<- set" not in again  # a second deploy changes nothing


def test_check_names_each_dag_not_in_its_declared_state():
    with pytest.raises(StepFailed) as failed:
        dag_states.check_declared(release_api())
    first, *lines = str(failed.value).splitlines()
    assert first.startswith("3 DAG(s) not paused as their file declares: tenant_analytics__acme, tenant_etl__acme, "
                            "tenant_etl__dormant;") and "`make deploy` sets them" in first
    assert [line.split()[0] for line in lines] == ["tenant_analytics__acme", "tenant_etl__acme",
                                                   "tenant_etl__dormant"]


def test_check_passes_when_every_declaring_dag_is_in_its_state():
    api = release_api()
    api.state["tenant_etl__acme"][1] = api.state["tenant_analytics__acme"][1] = False
    api.state["tenant_etl__dormant"][1] = True
    out = dag_states.check_declared(api)
    assert out.splitlines()[0] == "4 of 5 DAG(s) declare a paused state; all are in it"
    assert api.patched == []


def stage_after_playbook(output: str) -> Stage:
    """A deploy stage whose playbook step printed output."""
    stage = Stage("deploy", reports_dir=Path("/nonexistent"))
    stage.results.append(StepResult("ansible-playbook deploy.yml", True, 1.0, output=output))
    return stage


def test_deploy_waits_for_the_release_to_be_parsed_before_setting_states(monkeypatch):
    api = release_api()
    api.state["tenant_etl__acme"][3] = api.state["tenant_etl__dormant"][3] = -30  # the old release's parse
    monkeypatch.setattr(dag_states, "admin_login", lambda platform: api)
    monkeypatch.setattr(dev, "release_dag_files", lambda path: ["tenant_etl.py", "tenant_analytics.py"])
    parses = []

    def parse_later(*args: object) -> None:  # the DAG processor parses tenant_etl.py while deploy waits
        parses.append(1)
        api.state["tenant_etl__acme"][3] = api.state["tenant_etl__dormant"][3] = 10

    monkeypatch.setattr(dev.time, "sleep", parse_later)
    stage = stage_after_playbook(f"...\n{dev.PARSER_RESTART}\n...")
    assert dag_states.apply_after_switch(stage, Platform("local", {}, {}), Path("b.tar.gz"), SWITCH)
    assert parses == [1]
    # only the release's DAG files: the fixture DAG (another file) and raw_bucket_inventory are not touched
    assert sorted(api.patched) == [("tenant_analytics__acme", False), ("tenant_etl__acme", False),
                                   ("tenant_etl__dormant", True)]


def test_a_release_never_parsed_fails_the_deploy_saying_what_to_do(monkeypatch):
    api = release_api()
    monkeypatch.setattr(dag_states, "admin_login", lambda platform: api)
    monkeypatch.setattr(dev, "release_dag_files", lambda path: ["tenant_etl.py", "missing.py"])
    monkeypatch.setattr(dag_states, "PARSE_WAIT_SECONDS", 0.0)
    monkeypatch.setattr(dev.time, "sleep", lambda seconds: None)
    stage = stage_after_playbook(dev.PARSER_RESTART)
    assert not dag_states.apply_after_switch(stage, Platform("local", {}, {}), Path("b.tar.gz"), SWITCH)
    assert "has not parsed missing.py" in stage.results[-1].reason
    assert "run `make deploy` again" in stage.results[-1].output
    assert api.patched == []


@pytest.mark.parametrize("dev_release", [False, True])
def test_deploy_bundle_sets_states_for_a_commit_release_only(dev_release, monkeypatch, tmp_path):
    applied = []
    monkeypatch.setattr(deploy, "run_playbook_stage", lambda *args, **kwargs: 0)
    monkeypatch.setattr(Platform, "write_record", lambda self, name, record: None)
    monkeypatch.setattr(dag_states, "apply_after_switch", lambda *args: applied.append(args[2]) or True)
    artifact = (bundle.DevBundle("a" * 40, "b" * 64, tmp_path / "dev.tar.gz", True) if dev_release
                else bundle.Bundle("a" * 40, "b" * 64, tmp_path / "commit.tar.gz"))
    assert deploy.deploy_bundle(Stage("deploy", reports_dir=tmp_path), Platform("local", {}, {}), artifact) == 0
    assert applied == ([] if dev_release else [tmp_path / "commit.tar.gz"])


def test_deploy_bundle_fails_when_the_states_could_not_be_set(monkeypatch, tmp_path):
    monkeypatch.setattr(deploy, "run_playbook_stage", lambda *args, **kwargs: 0)
    records = {}
    monkeypatch.setattr(Platform, "write_record", lambda self, name, record: records.update({name: record}))
    monkeypatch.setattr(dag_states, "apply_after_switch", lambda *args: False)
    artifact = bundle.Bundle("a" * 40, "b" * 64, tmp_path / "commit.tar.gz")
    assert deploy.deploy_bundle(Stage("deploy", reports_dir=tmp_path), Platform("local", {}, {}), artifact) == 1
    assert records["deployed"]["sha256"] == "b" * 64  # the release is live: verify still compares it


def test_verify_step_fails_naming_the_dags(monkeypatch, tmp_path):
    monkeypatch.setattr(dag_states, "admin_login", lambda platform: release_api())
    stage = Stage("verify", reports_dir=tmp_path)
    assert not dag_states.verify_step(stage, Platform("local", {}, {}))
    assert "tenant_etl__acme" in stage.results[-1].reason and "fixture_dag" not in stage.results[-1].output
