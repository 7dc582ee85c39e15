"""Processes the project starts (moto, dockerd, a stage's commands): alive or not, stopped by their PID.

Never by name: a PID (or the process group of a command started in its own session) recorded when the
process was started is the only handle used to stop it.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import time
from pathlib import Path


def alive(pid: int) -> bool:
    """True while pid runs (a zombie child of this very process counts as gone)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        return Path(f"/proc/{pid}/stat").read_text().split()[2] != "Z"
    except OSError:
        return False


def stop_pid(pid: int, timeout: float) -> None:
    """SIGTERM, then SIGKILL after timeout seconds; reap it when this process is its parent."""
    os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout
    while alive(pid) and time.monotonic() < deadline:
        time.sleep(0.1)
    if alive(pid):
        os.kill(pid, signal.SIGKILL)
    with contextlib.suppress(ChildProcessError):
        os.waitpid(pid, os.WNOHANG)


def end_group(proc: subprocess.Popen, grace: float, term_grace: float) -> list[str]:
    """End a command started in a session of its own, after Ctrl-C reached this process.

    SIGINT to its process group (what a terminal's Ctrl-C sends), SIGTERM if it still runs after `grace`
    seconds, SIGKILL after `term_grace` more. Once its leader is gone, whatever of the group outlived it is
    killed too: a helper that ignores SIGINT (Mitogen's mux process does, by design) must neither go on
    changing a host after the run was stopped nor hold the output pipe the caller reads. Returns the
    signals needed beyond SIGINT.
    """
    needed: list[str] = []
    for sig, wait in ((signal.SIGINT, grace), (signal.SIGTERM, term_grace), (signal.SIGKILL, None)):
        if proc.poll() is not None:
            break
        if sig != signal.SIGINT:
            needed.append(sig.name)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, sig)
        with contextlib.suppress(subprocess.TimeoutExpired, KeyboardInterrupt):  # another Ctrl-C: the next signal
            proc.wait(wait)
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, signal.SIGKILL)  # the leader has exited: only stragglers are left in its group
    return needed
