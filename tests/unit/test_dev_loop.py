"""The DAG author's inner loop without services: the deploy warning, dev bundles, the refusals (staging and
production take no dev release; a dev release gets no verification record), the parse wait and `make run`'s
output. The same loop against the running local default is tests/integration/test_6_dev_loop.py."""

from __future__ import annotations

import datetime as dt
import functools
import io
import json
import os
import re
import subprocess
import sys
import tarfile
from types import SimpleNamespace

import boto3
import pytest
from moto import mock_aws

from ci import bundle, promotion
from ci.airflow_api import AirflowApiError
from ci.ansible import ANSIBLE_ENV, tool_path_env
from ci.cli import main
from ci.paths import ROOT
from ci.platform import Platform
from ci.runner import Stage, StepFailed
from ci.stages import dev, run

REGION = "us-east-1"
DAG_FILE = ('"""A DAG file (airflow looks for the words dag and airflow)."""\nfrom airflow.sdk import dag\n\n'
            '@dag(dag_id="one")\ndef one():\n    pass\n\none()\n')


def git(repo, *args: str) -> str:
    """Run git in repo (a throwaway repository), its output."""
    return subprocess.run(["git", "-C", str(repo), *args], capture_output=True, text=True, check=True).stdout


@pytest.fixture
def repo(tmp_path, monkeypatch):
    """A throwaway repository with one commit of dags/, standing in for the project's root."""
    root = tmp_path / "repo"
    (root / "dags" / "tenants").mkdir(parents=True)
    (root / "dags" / "one.py").write_text(DAG_FILE)
    (root / "dags" / "gone.py").write_text("# deleted in the work tree\n")
    (root / "dags" / "tenants" / "acme.yml").write_text("tenant: acme\n")
    (root / ".gitignore").write_text("__pycache__/\n*.pyc\n")
    git(root.parent, "init", "-q", str(root))
    git(root, "add", ".")
    git(root, "-c", "user.name=t", "-c", "user.email=t@example.com", "commit", "-q", "-m", "dags")
    monkeypatch.setattr(bundle, "ROOT", root)
    monkeypatch.setattr(bundle, "BUNDLE_DIR", tmp_path / "bundles")
    return root


def tar_members(path) -> dict[str, bytes]:
    """name -> bytes of every file in a .tar.gz."""
    with tarfile.open(path) as tar:
        return {m.name: tar.extractfile(m).read() for m in tar.getmembers() if m.isfile()}


# --- `make deploy` names what it leaves out -------------------------------------------------------------------

def stop_before_the_environment(stage: Stage, env: str) -> None:
    """load_for_stage's failure: the stage stops after its first step."""
    stage.fail("platform", "stopped by the test")


def test_deploy_warning_names_the_uncommitted_file(repo, monkeypatch, tmp_path, capsys):
    (repo / "dags" / "tenants" / "initech.yml").write_text("tenant: initech\n")
    monkeypatch.setattr("ci.stages.deploy.Stage", functools.partial(Stage, reports_dir=tmp_path))
    monkeypatch.setattr("ci.stages.deploy.load_for_stage", stop_before_the_environment)
    assert main(["deploy", "--env", "staging"]) == 1
    out = capsys.readouterr().out
    head = git(repo, "rev-parse", "HEAD").strip()
    assert f"it deploys commit {head[:12]}, not the working tree" in out
    assert re.search(r"untracked\s+dags/tenants/initech\.yml", out), out


def test_deploy_of_a_clean_tree_warns_of_nothing(repo, monkeypatch, tmp_path, capsys):
    monkeypatch.setattr("ci.stages.deploy.Stage", functools.partial(Stage, reports_dir=tmp_path))
    monkeypatch.setattr("ci.stages.deploy.load_for_stage", stop_before_the_environment)
    main(["deploy", "--env", "staging"])
    out = capsys.readouterr().out
    assert "ok commit" in out and "not the working tree" not in out


def test_uncommitted_changes_are_named_by_kind(repo):
    (repo / "dags" / "one.py").write_text(DAG_FILE + "# edited\n")
    (repo / "dags" / "gone.py").unlink()
    git(repo, "mv", "dags/tenants/acme.yml", "dags/tenants/acme2.yml")
    (repo / "dags" / "new dir").mkdir()
    (repo / "dags" / "new dir" / "two.py").write_text("x = 1\n")
    (repo / "dags" / "__pycache__").mkdir()
    (repo / "dags" / "__pycache__" / "one.cpython-311.pyc").write_bytes(b"\0")
    changes = {(c.kind, c.path) for c in bundle.uncommitted_changes()}
    assert changes == {("modified", "dags/one.py"), ("deleted", "dags/gone.py"), ("renamed", "dags/tenants/acme2.yml"),
                       ("untracked", "dags/new dir/two.py")}


# --- dev bundles ----------------------------------------------------------------------------------------------

def test_dev_bundle_holds_the_work_tree_as_git_sees_it(repo):
    (repo / "dags" / "one.py").write_text(DAG_FILE + "# edited, not committed\n")
    (repo / "dags" / "gone.py").unlink()
    (repo / "dags" / "tenants" / "initech.yml").write_text("tenant: initech\n")
    (repo / "dags" / "__pycache__").mkdir()
    (repo / "dags" / "__pycache__" / "one.cpython-311.pyc").write_bytes(b"\0")
    head = git(repo, "rev-parse", "HEAD").strip()
    built = bundle.build_dev(head)
    files = tar_members(built.path)
    assert sorted(files) == [bundle.DEV_MARKER, "dags/one.py", "dags/tenants/acme.yml", "dags/tenants/initech.yml"]
    assert files["dags/one.py"].endswith(b"# edited, not committed\n")
    marker = json.loads(files[bundle.DEV_MARKER])
    assert (marker["base_sha"], marker["dirty"]) == (head, True)
    assert ["untracked", "dags/tenants/initech.yml"] in marker["changes"]
    assert built.deployed_fields() == {"dev": True, "base_sha": head, "dirty": True}


def test_dev_bundle_is_reproducible_and_follows_the_content(repo):
    head = git(repo, "rev-parse", "HEAD").strip()
    clean = bundle.build_dev(head)
    assert bundle.build_dev(head).digest == clean.digest
    assert clean.dirty is False
    (repo / "dags" / "one.py").write_text(DAG_FILE + "# edited\n")
    assert bundle.build_dev(head).digest != clean.digest


def test_dev_names_never_look_like_a_commits(repo):
    head = git(repo, "rev-parse", "HEAD").strip()
    built = bundle.build_dev(head)
    assert re.fullmatch(r"dev-[0-9a-f]{12}-[0-9a-f]{12}", built.release)
    assert built.key == f"dev/{head}-{built.digest[:12]}/dags.tar.gz"
    assert promotion.is_dev_release({"sha": built.release, **built.deployed_fields()})
    assert not promotion.is_dev_release({"sha": head, "sha256": built.digest})


@pytest.fixture
def platform(monkeypatch, tmp_path):
    """An artifacts bucket in an in-process moto, as a Platform."""
    with mock_aws():
        boto3.client("s3", region_name=REGION).create_bucket(Bucket="artifacts-local")
        yield Platform("local", {"aws_region": REGION, "buckets": {"artifacts": "artifacts-local"}}, {})


def test_dev_bundle_is_stored_under_dev_once_and_fetched_by_digest(repo, platform):
    s3 = platform.client("s3")
    built = bundle.build_dev(git(repo, "rev-parse", "HEAD").strip())
    assert bundle.upload_dev(s3, "artifacts-local", built) is True
    assert bundle.upload_dev(s3, "artifacts-local", built) is False
    keys = [o["Key"] for o in s3.list_objects_v2(Bucket="artifacts-local")["Contents"]]
    assert sorted(keys) == [built.key, built.key.replace("dags.tar.gz", "manifest.json")]
    assert bundle.fetch_dev(s3, "artifacts-local", built).digest == built.digest
    impostor = bundle.DevBundle(built.sha, "0" * 64, built.path, True)
    with pytest.raises(bundle.BundleError, match="never replaced"):
        bundle.upload_dev(s3, "artifacts-local", bundle.DevBundle(built.sha, built.digest[:12] + "0" * 52,
                                                                  built.path, True))
    with pytest.raises(bundle.BundleError, match="never deployed there"):
        bundle.fetch_dev(s3, "artifacts-local", impostor)


@pytest.mark.slow
def test_release_dag_files_are_what_airflow_would_parse(repo):
    (repo / "dags" / ".airflowignore").write_text("lib/\n")
    (repo / "dags" / "lib").mkdir()
    (repo / "dags" / "lib" / "helper.py").write_text(DAG_FILE)  # ignored by .airflowignore
    (repo / "dags" / "plain.py").write_text("x = 1\n")  # safe mode: no `dag`/`airflow` in it
    built = bundle.build_dev(git(repo, "rev-parse", "HEAD").strip())
    assert dev.release_dag_files(built.path) == ["one.py"]


# --- refusals: staging/production take no dev release; a dev release gets no verification record --------------

@pytest.mark.parametrize("env", ["staging", "production", "local-prod"])
def test_dev_is_refused_outside_the_local_default(env, monkeypatch, tmp_path, capsys):
    monkeypatch.setattr("ci.stages.dev.Stage", functools.partial(Stage, reports_dir=tmp_path))
    monkeypatch.setattr("ci.stages.dev.load_for_stage", lambda *a: pytest.fail("the environment was loaded"))
    monkeypatch.setattr(bundle, "build_dev", lambda *a: pytest.fail("a bundle was built"))
    assert main(["dev", "--env", env]) == 1
    out = capsys.readouterr().out
    assert f"reason: make dev is for the local default (ENV=local), not {env}" in out
    assert (tmp_path / "dev.xml").exists()


def test_make_dev_and_make_run_pass_env_dag_and_day_on():
    dry = subprocess.run(["make", "-n", "dev", "ENV=staging"], cwd=ROOT, capture_output=True, text=True, check=True)
    assert re.search(r"-m ci dev --env staging$", dry.stdout, re.MULTILINE), dry.stdout
    dry = subprocess.run(["make", "-n", "run", "DAG=tenant_etl__acme", "DAY=2026-11-01"], cwd=ROOT,
                         capture_output=True, text=True, check=True)
    assert '-m ci run --env local --dag "tenant_etl__acme" --day "2026-11-01"' in dry.stdout, dry.stdout


def test_verification_record_is_refused_for_a_dev_release(platform):
    s3 = platform.client("s3")
    dev_release = {"sha": "dev-0123456789ab-cdef01234567", "sha256": "d" * 64, "dev": True, "base_sha": "a" * 40}
    with pytest.raises(promotion.PromotionError, match=r"dev release .* it gets no verification record, so it can "
                                                       r"never be promoted"):
        promotion.write_verification(platform, dev_release, {"tests": 20}, {"result": "success"})
    rolled_back_to = {"sha": "dev-0123456789ab-cdef01234567", "sha256": "d" * 64, "rolled_back": True}
    with pytest.raises(promotion.PromotionError, match="not a commit's release"):
        promotion.write_verification(platform, rolled_back_to, {"tests": 20}, {"result": "success"})
    assert "Contents" not in s3.list_objects_v2(Bucket="artifacts-local", Prefix="verifications/")
    with pytest.raises(promotion.PromotionError, match="no verification record"):
        promotion.read_verification(platform, "dev-0123456789ab-cdef01234567")
    promotion.write_verification(platform, {"sha": "c" * 40, "sha256": "d" * 64}, {"tests": 20}, {})
    assert promotion.read_verification(platform, "c" * 40)["sha256"] == "d" * 64


class SmokeApi:
    """The Airflow API as smoke sees it when its run succeeds."""

    @classmethod
    def login(cls, *args: object, **kwargs: object) -> SmokeApi:
        return cls()

    def wait_for_dag(self, dag_id: str) -> dict:
        return {}

    def trigger_day(self, *args: object) -> dict:
        return {}

    def wait_for_run(self, dag_id: str, run_id: str) -> str:
        return "success"

    def task_states(self, dag_id: str, run_id: str) -> dict:
        return {"load": "success"}


@pytest.mark.parametrize(("release", "recorded"), [
    ({"sha": "dev-0123456789ab-cdef01234567", "dev": True, "base_sha": "a" * 40, "dirty": True}, False),
    ({"sha": "c" * 40}, True),
])
def test_smoke_writes_a_verification_record_for_a_commit_only(release, recorded, platform, monkeypatch, tmp_path,
                                                             capsys):
    deployed = {**release, "sha256": "d" * 64}
    platform.write_record("deployed", deployed)
    platform.write_record("verified", {**deployed, "passed": True, "tests": {"tests": 20}})
    rows = [{"source": "orders", "rows_in": 10, "rows_loaded": 9, "rows_quarantined": 1, "status": "success",
             "rows_in_table": 9}]
    for name, value in {"Stage": functools.partial(Stage, reports_dir=tmp_path),
                        "load_for_stage": lambda stage, env: platform, "AirflowApi": SmokeApi,
                        "upload_sample_day": lambda *a: ["s3://raw/orders.csv"],
                        "check_ui": lambda *a, **k: SimpleNamespace(seconds=1.0, screenshot="ui.png"),
                        "airflow_host": lambda env: None,
                        "airflow_python": lambda host, code: json.dumps(rows)}.items():
        monkeypatch.setattr(f"ci.stages.smoke.{name}", value)
    monkeypatch.setattr(Platform, "secret", lambda self, name: "not-a-secret")
    monkeypatch.setattr(Platform, "ca_file", lambda self: tmp_path / "platform-ca.pem")
    assert main(["smoke", "--env", "local"]) == (0 if recorded else 1)
    listed = platform.client("s3").list_objects_v2(Bucket="artifacts-local", Prefix="verifications/")
    assert [o["Key"] for o in listed.get("Contents", [])] == ([f"verifications/{'c' * 40}.json"] if recorded else [])
    if not recorded:
        assert ("reason: dev-0123456789ab-cdef01234567 on local is a dev release (the work tree on aaaaaaaaaaaa): it "
                "gets no verification record, so it can never be promoted") in capsys.readouterr().out


@pytest.mark.slow
def test_role_refuses_a_release_name_a_commit_could_have(tmp_path):
    play = tmp_path / "play.yml"
    play.write_text("- hosts: localhost\n  gather_facts: false\n  roles: [dag_bundle]\n")
    env = {**os.environ, **ANSIBLE_ENV, **tool_path_env(), "ANSIBLE_ROLES_PATH": str(ROOT / "ansible" / "roles")}

    def converge(name: str) -> str:
        proc = subprocess.run(["ansible-playbook", "-i", "localhost,", "-c", "local", str(play),
                               "-e", f"dag_bundle_sha={'a' * 40}", "-e", f"dag_bundle_digest={'b' * 64}",
                               "-e", f"dag_bundle_file={tmp_path / 'x.tar.gz'}",
                               "-e", f"dag_bundle_release_name={name}",
                               "-e", f"dag_bundle_airflow_home={tmp_path / 'no-airflow'}",
                               "-e", f"ansible_python_interpreter={sys.executable}"],
                              env=env, capture_output=True, text=True, timeout=120, check=False)
        assert proc.returncode != 0
        return proc.stdout + proc.stderr

    refused = converge("c" * 40)
    assert f"dag_bundle_release_name {'c' * 40} is not dev-<12 hex>-<12 hex>" in refused
    assert "Look for the releases folder" not in refused
    allowed = converge("dev-0123456789ab-cdef01234567")  # passes the check, stops at the unconfigured host
    assert "releases is missing on localhost: run `make configure` first" in allowed


# --- waiting for the DAG processor ----------------------------------------------------------------------------

SINCE = dt.datetime(2026, 11, 26, 10, 0, tzinfo=dt.UTC)
SYNTAX_ERROR = ('Traceback (most recent call last):\n  File "<frozen importlib._bootstrap>", line 241, in '
                '_call_with_frames_removed\n  File "/opt/airflow/current/dags/dev_loop_broken.py", line 4\n'
                '    def broken(:\n               ^\nSyntaxError: invalid syntax\n')
LIBRARY_ERROR = ('Traceback (most recent call last):\n  File "/opt/airflow/current/dags/tenant_etl.py", line 12, in '
                 '<module>\n    from tiny_etl.validate import x\n  File "/opt/airflow/releases/dev-0123456789ab-'
                 'cdef01234567/dags/tiny_etl/validate.py", line 40, in <module>\n    pa.nope()\n  File "/opt/airflow/'
                 'venv/lib/python3.11/site-packages/pyarrow/__init__.py", line 9, in __getattr__\n'
                 "AttributeError: module 'pyarrow' has no attribute 'nope'\n")


def test_import_errors_are_file_line_message():
    assert (dev.import_error_line({"filename": "dev_loop_broken.py", "stack_trace": SYNTAX_ERROR})
            == "dags/dev_loop_broken.py:4: SyntaxError: invalid syntax")
    assert (dev.import_error_line({"filename": "tenant_etl.py", "stack_trace": LIBRARY_ERROR})
            == "dags/tiny_etl/validate.py:40: AttributeError: module 'pyarrow' has no attribute 'nope'")
    assert (dev.import_error_line({"filename": "x.py", "stack_trace": "ValueError: bad tenant file"})
            == "dags/x.py: ValueError: bad tenant file")


def stamp(seconds: int) -> str:
    """An API timestamp `seconds` after SINCE."""
    return (SINCE + dt.timedelta(seconds=seconds)).isoformat().replace("+00:00", "Z")


def test_only_parses_after_the_switch_count():
    dags = [{"dag_id": "a", "relative_fileloc": "a.py", "last_parsed_time": stamp(3)},
            {"dag_id": "b", "relative_fileloc": "b.py", "last_parsed_time": stamp(-1)}]
    errors = [{"filename": "c.py", "timestamp": stamp(2), "stack_trace": SYNTAX_ERROR},
              {"filename": "d.py", "timestamp": stamp(-5), "stack_trace": SYNTAX_ERROR}]
    state = dev.parse_state(dags, errors, SINCE)
    assert state.missing(["a.py", "b.py", "c.py", "d.py"]) == ["b.py", "d.py"]
    assert list(state.dags) == ["a"] and [e["filename"] for e in state.errors] == ["c.py"]


class ParsingApi:
    """The DAGs and import errors endpoints of a DAG processor that parses one more file on each poll."""

    def __init__(self, files: list[str]) -> None:
        self.files, self.polls = files, 0

    def dags(self) -> list[dict]:
        self.polls += 1
        return [{"dag_id": f, "relative_fileloc": f, "last_parsed_time": stamp(1)} for f in self.files[:self.polls - 1]]

    def import_errors(self) -> list[dict]:
        return []


def test_the_wait_ends_when_every_file_is_parsed_and_names_the_rest_when_it_times_out():
    api = ParsingApi(["a.py", "b.py", "c.py"])
    assert sorted(dev.wait_for_parse(api, ["a.py", "b.py", "c.py"], SINCE, wait=10, poll=0).dags) == [
        "a.py", "b.py", "c.py"]
    assert api.polls == 4
    with pytest.raises(AirflowApiError, match=r"has not parsed c\.py within 0 s of the switch"):
        done = ParsingApi(["a.py", "b.py"])
        done.polls = 10  # a.py and b.py parsed long ago, c.py never
        dev.wait_for_parse(done, ["a.py", "c.py"], SINCE, wait=0, poll=0)


# --- make run ------------------------------------------------------------------------------------------------

def test_day_defaults_to_yesterday_and_bad_days_are_named():
    assert run.parse_day("", today=dt.date(2026, 3, 1)) == dt.date(2026, 2, 28)
    assert run.parse_day("2026-11-01") == dt.date(2026, 11, 1)
    with pytest.raises(StepFailed, match=r"DAY must be a date as YYYY-MM-DD .*not '2026-02-30'"):
        run.parse_day("2026-02-30")


def test_one_change_one_line():
    seen: dict = {}
    assert run.state_changes(seen, [{"task_id": "a", "state": None}, {"task_id": "b", "state": "queued"}]) == [
        ("b", "queued")]
    assert run.state_changes(seen, [{"task_id": "a", "state": None}, {"task_id": "b", "state": "queued"}]) == []
    assert run.state_changes(seen, [{"task_id": "a", "state": "running"}, {"task_id": "b", "state": "up_for_retry"},
                                    {"task_id": "m", "map_index": 2, "state": "success", "try_number": 1}]) == [
        ("a", "running"), ("b", "up_for_retry"), ("m[2]", "success")]
    assert run.state_changes(seen, [{"task_id": "b", "state": "running", "try_number": 2}]) == [
        ("b", "running (try 2)")]


class RunApi:
    """A DAG run that goes queued -> running -> failed over polls, with a long log for its failed task."""

    def __init__(self, paused: bool = True, final: str = "failed") -> None:
        self.paused, self.final = paused, final
        self.polls, self.unpaused, self.started, self.log_asked = 0, False, [], []
        self.base_url = "http://airflow.test"

    def dags(self) -> list[dict]:
        return [{"dag_id": "tenant_etl__acme", "is_paused": self.paused}]

    def unpause(self, dag_id: str) -> None:
        self.unpaused = True

    def start_run(self, dag_id: str, run_id: str, day: dt.date) -> None:
        self.started.append((dag_id, day))

    def dag_run(self, dag_id: str, run_id: str) -> dict:
        self.polls += 1
        return {"state": ["queued", "running", "running", self.final][min(self.polls, 4) - 1]}

    def task_instances(self, dag_id: str, run_id: str) -> list[dict]:
        states = [[], [("load", "queued")], [("load", "running")], [("load", self.final)]][min(self.polls, 4) - 1]
        return [{"task_id": t, "state": s, "try_number": 1, "map_index": -1} for t, s in states]

    def task_log(self, dag_id: str, run_id: str, task_id: str, try_number: int, map_index: int = -1) -> list:
        self.log_asked.append((task_id, try_number))
        return ([{"event": "::group::Log message source details"}, {"event": "s3://logs/attempt=1.log"},
                 {"event": "::endgroup::"}]
                + [{"timestamp": "2026-11-26T10:00:00Z", "level": "info", "event": f"line {i}"} for i in range(100)]
                + [{"timestamp": "2026-11-26T10:00:01Z", "level": "error", "event": "Task failed with exception",
                    "error_detail": [{"exc_type": "ValueError", "exc_value": "boom",
                                      "frames": [{"filename": "/opt/airflow/current/dags/x.py", "lineno": 7,
                                                  "name": "load"}]}]}])


def run_stage(monkeypatch, tmp_path, api: RunApi, *argv: str) -> int:
    """`python -m ci run` in-process against `api`, no polling delay, reports in tmp_path."""
    monkeypatch.setattr("ci.stages.run.Stage", functools.partial(Stage, reports_dir=tmp_path))
    monkeypatch.setattr("ci.stages.run.load_for_stage", lambda stage, env: object())
    monkeypatch.setattr("ci.stages.run.admin_login", lambda platform: api)
    monkeypatch.setattr(run, "watch_run", functools.partial(run.watch_run, poll=0))
    return main(["run", *argv])


def test_a_failed_run_exits_non_zero_with_the_failed_tasks_log_tail(monkeypatch, tmp_path, capsys):
    api = RunApi()
    assert run_stage(monkeypatch, tmp_path, api, "--dag", "tenant_etl__acme") == 1
    out = capsys.readouterr().out
    assert api.log_asked == [("load", 1)]
    assert "log of load (try 1), last 40 lines:" in out
    assert re.search(r"INFO line 64$", out, re.MULTILINE) and re.search(r"INFO line 99$", out, re.MULTILINE)
    assert not re.search(r"INFO line 63$", out, re.MULTILINE)  # the last 40 lines, not the whole log
    assert 'File "/opt/airflow/current/dags/x.py", line 7, in load' in out and "ValueError: boom" in out
    assert "::endgroup::" not in out
    assert "reason: tenant_etl__acme run run__" in out and "failed in load" in out


def test_a_paused_dag_is_unpaused_on_the_local_default_and_said_so(monkeypatch, tmp_path, capsys):
    api = RunApi(final="success")
    assert run_stage(monkeypatch, tmp_path, api, "--dag", "tenant_etl__acme", "--day", "2026-11-01") == 0
    assert api.unpaused and api.started == [("tenant_etl__acme", dt.date(2026, 11, 1))]
    assert "unpaused tenant_etl__acme" in capsys.readouterr().out


def test_a_paused_dag_is_refused_elsewhere(monkeypatch, tmp_path, capsys):
    api = RunApi()
    assert run_stage(monkeypatch, tmp_path, api, "--env", "staging", "--dag", "tenant_etl__acme") == 1
    assert not api.unpaused and not api.started
    out = capsys.readouterr().out
    assert "reason: tenant_etl__acme is paused on staging, and a paused DAG's run never starts" in out


def test_task_states_are_shown_on_a_terminal_only(monkeypatch, tmp_path, capsys):
    monkeypatch.setenv("NO_COLOR", "1")
    run_stage(monkeypatch, tmp_path, RunApi(paused=False, final="success"), "--dag", "tenant_etl__acme")
    assert not re.search(r"^\d\d:\d\d:\d\d  ", capsys.readouterr().out, re.MULTILINE)
    terminal = io.StringIO()
    terminal.isatty = lambda: True
    monkeypatch.setattr("sys.stdout", terminal)
    run_stage(monkeypatch, tmp_path, RunApi(paused=False, final="success"), "--dag", "tenant_etl__acme")
    lines = re.findall(r"^\d\d:\d\d:\d\d  (\S+)\s+(\S+)$", terminal.getvalue(), re.MULTILINE)
    assert lines == [("(run)", "queued"), ("(run)", "running"), ("load", "queued"), ("load", "running"),
                     ("(run)", "success"), ("load", "success")]


@pytest.mark.parametrize(("argv", "reason"), [
    (["--dag", ""], "no DAG given: `make run DAG=<dag_id>`"),
    (["--dag", "tenant_etl_acme"], "no DAG tenant_etl_acme on local (did you mean tenant_etl__acme?)"),
    (["--dag", "tenant_etl__acme", "--day", "yesterday"], "DAY must be a date as YYYY-MM-DD"),
])
def test_bad_run_arguments_are_named(monkeypatch, tmp_path, capsys, argv, reason):
    api = RunApi()
    assert run_stage(monkeypatch, tmp_path, api, *argv) == 1
    assert f"reason: {reason}" in capsys.readouterr().out
    assert not api.started
