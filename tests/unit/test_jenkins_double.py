"""What a real Jenkins answers, played by the test double (tests/unit/jenkins_double.py), and how `ci jenkins`
handles each answer. Every test here failed against the client of 38264c2 (see the commit message)."""

from __future__ import annotations

import argparse
import threading
import time

import pytest
import requests
from jenkins_double import CRUMB, InputStep, JenkinsDouble, Outcome

from ci.jenkins.client import PROMOTE_JOB, Client, Settings
from ci.stages import jenkins as stage

SHA = "0123456789abcdef0123456789abcdef01234567"  # pragma: allowlist secret (a made-up commit SHA)


@pytest.fixture
def env(monkeypatch):
    server = JenkinsDouble().start()
    monkeypatch.setenv("JENKINS_URL", server.url)
    monkeypatch.setenv("JENKINS_USER", server.state.user)
    monkeypatch.setenv("JENKINS_API_TOKEN", server.state.token)
    monkeypatch.setenv("JENKINS_POLL_SECONDS", "0.01")
    yield server
    server.stop()


def run_cli(*argv: str, capsys) -> tuple[int, str]:
    parser = argparse.ArgumentParser()
    stage.add_arguments(parser)
    code = stage.run(parser.parse_args(list(argv)))
    return code, capsys.readouterr().out


def post(env, path: str, user: str | None = None, token: str | None = None) -> requests.Response:
    auth = (user or env.state.user, token or env.state.token)
    return requests.post(f"{env.url}/{path}", auth=auth, headers={"Jenkins-Crumb": CRUMB}, timeout=5,
                         allow_redirects=False)


def builds_posted(env) -> int:
    return sum(r == f"POST /job/{PROMOTE_JOB}/buildWithParameters" for r in env.state.requests)


# -- config.xml as Jenkins stores it -------------------------------------------------------------------------

def test_sync_is_unchanged_after_jenkins_reserialised_the_jobs_and_a_declarative_build(env, capsys):
    assert run_cli("sync", capsys=capsys)[0] == 0
    stored = env.state.jobs[PROMOTE_JOB]
    assert stored.startswith("<?xml version='1.1'") and "<sandbox>" not in stored and 'plugin="git@' in stored
    code, out = run_cli("sync", capsys=capsys)
    assert code == 0 and set(out.split()) == {"unchanged", *env.state.jobs}
    run_cli("promote", SHA, capsys=capsys)  # the first build adds the declarative properties
    assert "DeclarativeJobPropertyTrackerAction" in env.state.jobs[PROMOTE_JOB]
    code, out = run_cli("sync", capsys=capsys)
    assert code == 0 and set(out.split()) == {"unchanged", *env.state.jobs}


# -- buildWithParameters ---------------------------------------------------------------------------------------

def test_double_ignores_undeclared_parameters_and_fills_defaults(env, capsys):
    run_cli("sync", capsys=capsys)
    assert post(env, f"job/{PROMOTE_JOB}/buildWithParameters?SHA={SHA}&TYPO=x").status_code == 201
    (item,) = env.state.queue.values()
    assert item.params == {"SHA": SHA, "TARGET": "production"}


def test_promote_refuses_a_job_on_jenkins_that_does_not_declare_its_parameters(env, capsys):
    run_cli("sync", capsys=capsys)
    old = env.state.jobs[PROMOTE_JOB]
    start = old.index("<hudson.model.ChoiceParameterDefinition>")
    end = old.index("</hudson.model.ChoiceParameterDefinition>") + len("</hudson.model.ChoiceParameterDefinition>")
    env.state.jobs[PROMOTE_JOB] = old[:start] + old[end:]  # uploaded before TARGET existed
    code, out = run_cli("promote", SHA, capsys=capsys)
    assert code == 1 and out.strip() == (f"jenkins promote failed: {PROMOTE_JOB} on Jenkins does not declare TARGET: "
                                         "run `ci jenkins sync` to upload the job from jobs/, then try again")
    assert builds_posted(env) == 0


def test_identical_queued_build_is_303_and_one_line(env, capsys):
    run_cli("sync", capsys=capsys)
    first = post(env, f"job/{PROMOTE_JOB}/buildWithParameters?SHA={SHA}&TARGET=production")
    again = post(env, f"job/{PROMOTE_JOB}/buildWithParameters?SHA={SHA}&TARGET=production")
    assert (first.status_code, again.status_code) == (201, 303)
    assert again.headers["Location"] == first.headers["Location"]
    code, out = run_cli("promote", SHA, capsys=capsys)
    assert code == 1 and out.strip() == (
        f"jenkins promote failed: an identical {PROMOTE_JOB} build (SHA={SHA}, TARGET=production) is already "
        f"queued as {first.headers['Location']}: follow it in Jenkins, or cancel it there and run again")
    assert len(env.state.queue) == 1


def test_disabled_job_is_409_and_one_line(env, capsys):
    run_cli("sync", capsys=capsys)
    env.state.disable(PROMOTE_JOB)
    assert post(env, f"job/{PROMOTE_JOB}/buildWithParameters?SHA={SHA}").status_code == 409
    code, out = run_cli("promote", SHA, capsys=capsys)
    assert code == 1 and out.strip() == (
        f"jenkins promote failed: Jenkins will not build (buildWithParameters {PROMOTE_JOB}): the job is disabled; "
        "enable it in Jenkins (the job's page > Enable) or run `ci jenkins sync`, then try again")


def test_missing_permission_is_403_and_named(env, capsys, monkeypatch):
    run_cli("sync", capsys=capsys)
    env.state.add_user("viewer", "tok-v")
    monkeypatch.setenv("JENKINS_USER", "viewer")
    monkeypatch.setenv("JENKINS_API_TOKEN", "tok-v")
    denied = post(env, f"job/{PROMOTE_JOB}/buildWithParameters?SHA={SHA}", "viewer", "tok-v")
    assert denied.status_code == 403 and denied.headers["X-Required-Permission"] == "hudson.model.Item.Build"
    code, out = run_cli("promote", SHA, capsys=capsys)
    assert code == 1 and out.strip() == (
        "jenkins promote failed: Jenkins user 'viewer' lacks the permission hudson.model.Item.Build "
        f"(buildWithParameters {PROMOTE_JOB}): ask a Jenkins administrator to grant it (Manage Jenkins > Security)")
    assert not env.state.queue


def test_timed_out_post_is_not_sent_again_and_the_queued_build_is_followed(env, capsys):
    run_cli("sync", capsys=capsys)
    env.state.build_answer_delay = 1.0  # Jenkins queues the build, its answer is lost to the client's timeout
    client = Client(Settings(env.url, env.state.user, env.state.token), retries=3, delay=0.01, timeout=0.3, poll=0.01)
    number = client.start(PROMOTE_JOB, {"SHA": SHA, "TARGET": "production"})
    assert number == 1 and builds_posted(env) == 1 and len(env.state.queue) == 1


# -- the queue -----------------------------------------------------------------------------------------------

def test_cancelled_queue_item_says_so(env, capsys):
    run_cli("sync", capsys=capsys)
    env.state.cancel_waiting = True
    code, out = run_cli("promote", SHA, capsys=capsys)
    assert code == 1 and out.strip() == (f"jenkins promote failed: {PROMOTE_JOB}: the queued build was cancelled in "
                                         "Jenkins (queue item 100) before it started; run again if it should still run")
    assert not env.state.builds.get(PROMOTE_JOB)
    assert requests.get(f"{env.url}/queue/item/100/api/json", auth=(env.state.user, env.state.token),
                        timeout=5).json()["cancelled"] is True


def test_forgotten_queue_item_is_found_through_the_builds_queue_id(env, capsys):
    run_cli("sync", capsys=capsys)
    env.state.forget_left_items = True  # the build starts, and its queue item is gone when the client polls it
    code, out = run_cli("promote", SHA, capsys=capsys)
    assert code == 0 and out.strip().endswith(f"{PROMOTE_JOB} #1: SUCCESS")
    assert requests.get(f"{env.url}/queue/item/100/api/json", auth=(env.state.user, env.state.token),
                        timeout=5).status_code == 404


# -- the console ---------------------------------------------------------------------------------------------

def test_console_offsets_are_bytes_and_characters_survive_a_split(env, capsys):
    run_cli("sync", capsys=capsys)
    lines = ["Größe: 3 Dateien ✓", "naïve → café ☕", "done"]
    env.state.outcomes[PROMOTE_JOB] = Outcome(lines, chunk=5)  # 5 bytes a poll: characters split across polls
    code, out = run_cli("promote", SHA, capsys=capsys)
    assert code == 0 and "\n".join(lines) + "\n" in out and "\ufffd" not in out
    log = env.state.builds[PROMOTE_JOB][0].log
    response = requests.get(f"{env.url}/job/{PROMOTE_JOB}/1/logText/progressiveText", params={"start": 7},
                            auth=(env.state.user, env.state.token), timeout=5)
    assert response.headers["X-Text-Size"] == str(len(log)) == str(len("\n".join(lines).encode()) + 1)
    assert response.content == log[7:]


# -- the input step ------------------------------------------------------------------------------------------

def promote_paused_at_approval(env, capsys):
    run_cli("sync", capsys=capsys)
    env.state.add_user("alice", "tok-a", groups=("platform-leads",))
    env.state.add_user("bob", "tok-b")
    step = InputStep("Promote this commit to production?", ok="Promote", submitter="platform-leads",
                     submitter_parameter="APPROVER", id="Promote", after=1)
    env.state.outcomes[PROMOTE_JOB] = Outcome(["Verification record found", "approved by {APPROVER}", "Deployed"],
                                              input=step)
    result: dict = {}

    def promote() -> None:
        result["code"], result["out"] = run_cli("promote", SHA, capsys=capsys)

    thread = threading.Thread(target=promote)
    thread.start()
    deadline = time.monotonic() + 10
    # until the CLI has been shown the pending input (answering before that races its announcement)
    while not (env.state.builds.get(PROMOTE_JOB) and env.state.builds[PROMOTE_JOB][0].waiting
               and env.state.pending_shown):
        assert time.monotonic() < deadline
        time.sleep(0.01)
    return thread, result


def test_input_proceed_gives_the_approver_to_the_build(env, capsys):
    thread, result = promote_paused_at_approval(env, capsys)
    assert post(env, f"job/{PROMOTE_JOB}/1/input/Promote/proceedEmpty", "bob", "tok-b").status_code == 400
    assert post(env, f"job/{PROMOTE_JOB}/1/input/Promote/proceedEmpty", "alice", "tok-a").status_code == 200
    thread.join(10)
    assert result["code"] == 0
    assert (f"{PROMOTE_JOB} #1 waits for input 'Promote this commit to production?' from platform-leads: answer at "
            f"{env.url}/job/{PROMOTE_JOB}/1/input/") in result["out"]
    assert "Promote or Abort\n" in result["out"] and "Approved by alice\napproved by alice\nDeployed\n" in result["out"]
    assert env.state.builds[PROMOTE_JOB][0].env == {"APPROVER": "alice"}


def test_input_abort_ends_the_build_aborted(env, capsys):
    thread, result = promote_paused_at_approval(env, capsys)
    env.state.permissions["bob"].add("hudson.model.Item.Cancel")
    assert post(env, f"job/{PROMOTE_JOB}/1/input/Promote/abort", "bob", "tok-b").status_code == 200
    assert post(env, f"job/{PROMOTE_JOB}/1/input/Promote/proceedEmpty", "alice", "tok-a").status_code == 400
    thread.join(10)
    assert result["code"] == 1 and f"{PROMOTE_JOB} #1 waits for input" in result["out"]
    assert "Rejected by bob\n" in result["out"] and result["out"].strip().endswith(f"{PROMOTE_JOB} #1: ABORTED")
    assert "Deployed" not in result["out"]


def test_the_approver_given_to_the_input_is_who_the_promotion_audit_names(env, capsys, monkeypatch):
    """As far as it goes without a controller: the double's input step gives the build APPROVER=alice; the
    promote job's approval stage copies it into the build's environment (jobs/promote.Jenkinsfile), its deploy
    step passes the copy to `make promote`, whose recipe hands it to `ci promote`, whose audit record names
    actor(). Each link is the real file; only Jenkins' own stage execution is not run."""
    import os
    import re
    import subprocess

    from ci.paths import ROOT
    from ci.promotion import actor

    thread, _ = promote_paused_at_approval(env, capsys)
    assert post(env, f"job/{PROMOTE_JOB}/1/input/Promote/proceedEmpty", "alice", "tok-a").status_code == 200
    thread.join(10)
    build_env = env.state.builds[PROMOTE_JOB][0].env
    job = (ROOT / "jobs" / "promote.Jenkinsfile").read_text()
    copy = re.search(r"env\.(\w+)\s*=\s*env\.APPROVER\b", job).group(1)
    step = re.search(r"sh '(make promote [^']*)'", job).group(1)
    dry_run = subprocess.run(["bash", "-c", step.replace("make ", "make -n --no-print-directory ", 1)], cwd=ROOT,
                             env={**os.environ, "SHA": SHA, "TARGET": "production", copy: build_env["APPROVER"]},
                             capture_output=True, text=True, check=True).stdout
    recipe = next(line for line in dry_run.splitlines() if " -m ci promote " in line)
    for name in ("APPROVED_BY", "PROMOTED_BY", "BUILD_USER_ID"):
        monkeypatch.delenv(name, raising=False)
    for name, value in re.findall(r'(\w+)="([^"]*)" ', recipe.split(" -m ci ")[0]):
        monkeypatch.setenv(name, value)
    assert actor() == "alice", recipe
