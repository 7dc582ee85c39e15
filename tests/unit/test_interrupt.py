"""Ctrl-C (or SIGTERM) on a stage ends the command it runs, all of it, before the stage returns.

The command runs in a session of its own, as ansible-playbook does under `python -m ci configure`; a
helper it forked that ignores SIGINT (as Mitogen's mux process does) must not outlive the stage: it would go
on changing a host after the run was stopped, and hold the output pipe of whoever reads the stage.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time

import pytest

from ci.paths import ROOT
from ci.processes import alive

pytestmark = pytest.mark.slow  # starts processes or services: `make unit-slow`, not the push loop

# The command: forks a helper that ignores SIGINT and holds stdout, then waits; on SIGINT it cleans up for
# a moment and exits, unless told to ignore SIGINT and SIGTERM too (then only SIGKILL ends it).
COMMAND = textwrap.dedent("""
    import os, signal, subprocess, sys, time
    helper = subprocess.Popen([sys.executable, "-c",
        "import signal, time; signal.signal(signal.SIGINT, signal.SIG_IGN); time.sleep(600)"])
    def cleanup(*_):
        time.sleep(0.3)
        open(sys.argv[1], "w").write("cleaned up")
        sys.exit(130)
    if sys.argv[2] == "stubborn":
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
    else:
        signal.signal(signal.SIGINT, cleanup)
    print("helper-pid", helper.pid, flush=True)
    time.sleep(600)
""")

# The stage: what `python -m ci <stage>` does around one long command, with short grace periods.
STAGE = textwrap.dedent("""
    import sys
    import ci.runner
    from ci.cli import handle_stop_signals
    ci.runner.TERM_GRACE = 0.5
    handle_stop_signals()
    try:
        ci.runner.Stage("demo", reports_dir=sys.argv[1]).command(
            "long", [sys.executable, "-c", sys.argv[2], sys.argv[3], sys.argv[4]], stream=True,
            interrupt_grace=1.0)
    except KeyboardInterrupt:
        print("demo: interrupted", flush=True)
        sys.exit(130)
""")


def _ignore_sigint() -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)


@pytest.mark.parametrize(("how", "command", "inherited"), [
    ("ctrl-c", "cleans-up", "default"), ("sigterm", "cleans-up", "default"), ("ctrl-c", "stubborn", "default"),
    # started as nohup, a shell's background job or a Jenkins `sh` step starts it: SIGINT ignored
    ("ctrl-c", "cleans-up", "SIGINT ignored"),
])
def test_an_interrupted_stage_returns_only_after_its_command_is_gone(tmp_path, how, command, inherited):
    marker = tmp_path / "marker"
    stage = subprocess.Popen([sys.executable, "-c", STAGE, str(tmp_path), COMMAND, str(marker), command],
                             cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                             start_new_session=True, preexec_fn=_ignore_sigint if inherited != "default" else None)
    assert stage.stdout is not None
    seen = []
    for line in stage.stdout:  # until the command and its helper run
        seen.append(line)
        if line.startswith("helper-pid "):
            break
    helper = int(seen[-1].split()[1])
    started = time.monotonic()
    if how == "ctrl-c":  # a terminal sends SIGINT to its foreground process group: the stage's
        os.killpg(stage.pid, signal.SIGINT)
    else:
        stage.terminate()
    try:  # returns once the stage exited and nothing holds its output any more
        output = "".join(seen) + stage.communicate(timeout=20)[0]
    except subprocess.TimeoutExpired:
        os.killpg(stage.pid, signal.SIGKILL)
        raise
    took = time.monotonic() - started
    assert stage.returncode == 130, output
    assert "demo: interrupted" in output
    assert not alive(helper), "the command's helper outlived the stage"
    if command == "stubborn":  # SIGINT, then SIGTERM after the grace, then SIGKILL
        assert "long: still running 1 s after the interrupt: sent SIGTERM, SIGKILL" in output
        assert took >= 1.5, f"escalated after {took:.1f} s, before the grace periods ended"
    else:  # the command had its clean-up before the stage returned
        assert marker.read_text() == "cleaned up"
        assert "sent SIGTERM" not in output
