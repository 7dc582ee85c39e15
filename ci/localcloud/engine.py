"""The Docker engine the local hosts run on.

An engine that already answers (DOCKER_HOST, or the system socket) is used as it is and never stopped.
Otherwise the project starts its own `dockerd` with its data and socket under `.work/docker/` (this
machine has no systemd to do it), records its PID, and `down` stops it by that PID. The data root, and so
the base image cache, survives a stop.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import time
from dataclasses import asdict, dataclass
from pathlib import Path

from ci.localcloud import settings
from ci.processes import alive, stop_pid

SYSTEM_SOCKET = Path("/var/run/docker.sock")


class EngineError(RuntimeError):
    """The Docker engine could not be started or reached."""


@dataclass
class EngineState:
    """How to reach the engine, and whether this project started it (then `pid` is dockerd's)."""

    host: str
    pid: int | None = None

    @property
    def env(self) -> dict[str, str]:
        """Environment for the docker CLI (and community.docker) to reach this engine."""
        return {**os.environ, "DOCKER_HOST": self.host}


def _answers(host: str) -> bool:
    """True when `docker version` reaches a daemon at host within a few seconds."""
    probe = subprocess.run(["docker", "-H", host, "version", "--format", "{{.Server.Version}}"],
                           capture_output=True, text=True, timeout=20, check=False)
    return probe.returncode == 0


class Engine:
    """The engine of one work folder: found running, or started and later stopped by PID."""

    def __init__(self, work: Path | None = None) -> None:
        work = work or settings.engine_dir()
        self.work = work
        self.state_file = work / "engine.json"
        self.socket = work / "docker.sock"
        self.log = work / "dockerd.log"

    def state(self) -> EngineState | None:
        """The engine in use, if one answers (ours first, then DOCKER_HOST, then the system socket)."""
        if self.state_file.exists():
            state = EngineState(**json.loads(self.state_file.read_text()))
            if state.pid is None or alive(state.pid):
                return state
            self.state_file.unlink()
        for host in (os.environ.get("DOCKER_HOST"), f"unix://{SYSTEM_SOCKET}" if SYSTEM_SOCKET.exists() else None):
            if host and _answers(host):
                return EngineState(host=host)
        return None

    def up(self, timeout: float = 60.0) -> EngineState:
        """Reuse a running engine or start the project's own dockerd; wait until it answers."""
        running = self.state()
        if running:
            return running
        if not shutil.which("dockerd"):
            raise EngineError("dockerd is not installed: run `make tools` (installs Debian's docker.io)")
        self.work.mkdir(parents=True, exist_ok=True)
        host = f"unix://{self.socket}"
        argv = ["dockerd", "--data-root", str(self.work / "data"), "--exec-root", str(self.work / "exec"),
                "--pidfile", str(self.work / "dockerd.pid"), "-H", host]
        with self.log.open("ab") as out:
            proc = subprocess.Popen(argv, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                    start_new_session=True)
        state = EngineState(host=host, pid=proc.pid)
        self.state_file.write_text(json.dumps(asdict(state)))
        deadline = time.monotonic() + timeout
        while not (self.socket.exists() and _answers(host)):
            if proc.poll() is not None or time.monotonic() > deadline:
                self.down()
                tail = self.log.read_text(errors="replace").strip().splitlines()[-1:] if self.log.exists() else []
                raise EngineError(f"dockerd did not start (see {self.log}): {' '.join(tail)}")
            time.sleep(0.3)
        return state

    def down(self, timeout: float = 30.0) -> bool:
        """Stop the dockerd this project started (by PID); an engine it found running is left alone."""
        if not self.state_file.exists():
            return False
        state = EngineState(**json.loads(self.state_file.read_text()))
        self.state_file.unlink()
        if state.pid is None or not alive(state.pid):
            return False
        stop_pid(state.pid, timeout)
        return True


def docker(state: EngineState, *args: str, check: bool = True, timeout: float = 300,
           stdin: bytes | None = None) -> subprocess.CompletedProcess:
    """Run the docker CLI against the engine; on failure raise EngineError with docker's own message."""
    proc = subprocess.run(["docker", *args], env=state.env, input=stdin, capture_output=True, timeout=timeout,
                          check=False)
    if check and proc.returncode != 0:
        message = proc.stderr.decode(errors="replace").strip() or proc.stdout.decode(errors="replace").strip()
        raise EngineError(f"docker {args[0]} failed: {message}")
    return proc
