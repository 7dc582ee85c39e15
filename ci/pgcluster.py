"""A throwaway PostgreSQL cluster from Debian's packages (initdb/pg_ctl) on loopback, for tests and
benchmarks: the warehouse stand-in where no RDS exists. Stopped with pg_ctl (the postmaster's PID file).
"""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

from ci.localcloud.endpoint import free_port


class PostgresUnavailable(RuntimeError):
    """Debian's PostgreSQL server packages are missing."""


def pg_bin(name: str) -> str:
    """A server binary of the newest installed PostgreSQL (initdb, pg_ctl are not on PATH on Debian)."""
    found = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"), key=lambda p: int(p.split("/")[4]))
    if not found:
        raise PostgresUnavailable(f"{name} not found under /usr/lib/postgresql: run `make tools` (postgresql)")
    return found[-1]


@dataclass
class Cluster:
    """A running throwaway cluster."""

    data_dir: Path
    port: int
    user: str = "postgres"

    @property
    def dsn(self) -> str:
        """libpq connection string of the `warehouse` database."""
        return self.dsn_as(self.user)

    def dsn_as(self, user: str) -> str:
        """libpq connection string of the `warehouse` database as another role (trust auth: no password)."""
        return f"postgresql://{user}@127.0.0.1:{self.port}/warehouse"

    def stop(self) -> None:
        """Stop the cluster (fast shutdown) and remove its files."""
        _as_owner([pg_bin("pg_ctl"), "-D", str(self.data_dir), "-m", "fast", "-w", "stop"], self.data_dir)
        shutil.rmtree(self.data_dir.parent, ignore_errors=True)


def _as_owner(argv: list[str], data_dir: Path) -> None:
    # PostgreSQL refuses to run as root: run as the data folder's owner (the packages' `postgres` user).
    prefix = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
    proc = subprocess.run(prefix + argv, capture_output=True, text=True, cwd="/", check=False)
    if proc.returncode != 0:
        raise PostgresUnavailable(f"{Path(argv[0]).name} failed: {(proc.stderr or proc.stdout).strip()[-600:]}")


def start(base: Path) -> Cluster:
    """initdb + start on a free loopback port; creates the `warehouse` database; trust auth on loopback."""
    base.mkdir(parents=True, exist_ok=True)
    data_dir = base / "data"
    socket_dir = base / "socket"
    socket_dir.mkdir(exist_ok=True)
    if os.geteuid() == 0:
        # The postgres user must be able to reach the folder: let it traverse the temporary parents.
        for parent in base.parents:
            if not str(parent).startswith(tempfile.gettempdir() + "/"):
                break
            os.chmod(parent, parent.stat().st_mode | 0o011)  # noqa: S103 - traverse only, no read
        shutil.chown(base, "postgres")
        shutil.chown(socket_dir, "postgres")
        os.chmod(base, 0o755)  # noqa: S103 - the cluster's own folder  # nosec B103
    port = free_port()
    _as_owner([pg_bin("initdb"), "-D", str(data_dir), "-U", "postgres", "-A", "trust", "--no-sync", "-E", "UTF8"],
              data_dir)
    options = (f"-c listen_addresses=127.0.0.1 -p {port} -k {socket_dir} -c fsync=off -c synchronous_commit=off "
               f"-c full_page_writes=off -c max_wal_size=2GB")
    _as_owner([pg_bin("pg_ctl"), "-D", str(data_dir), "-o", options, "-l", str(base / "postgres.log"), "-w",
               "start"], data_dir)
    _as_owner([pg_bin("createdb"), "-h", "127.0.0.1", "-p", str(port), "-U", "postgres", "warehouse"], data_dir)
    return Cluster(data_dir, port)
