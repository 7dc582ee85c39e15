"""`python -m ci localcloud up|down|status`: the embedded local default.

up: the Docker engine (started if none runs), the base image (built if its recipe changed), the project
network, the AWS endpoint (moto, on the network's gateway so the hosts reach it), the Airflow host and the
database host, and the inventory that names them. down: all of that in reverse, by container name and
PID; the image cache stays.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from ci.localcloud import LOCAL_ENVS, LocalCloudError, hosts, image, settings
from ci.localcloud.endpoint import Moto
from ci.localcloud.engine import Engine, EngineError
from ci.localcloud.inventory import ensure_ssh_key, remove_inventory, ssh_key, write_inventory


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The action; `--aws-only` keeps the old moto-only local cloud (no Docker)."""
    parser.add_argument("action", choices=("up", "down", "status", "info"))
    parser.add_argument("--port", type=int, help="moto's port (default: TINY_MOTO_PORT or 5000)")
    parser.add_argument("--aws-only", action="store_true", help="only the AWS endpoint, on 127.0.0.1 (no hosts)")


def up(env: str, port: int) -> int:
    """Start everything the local default needs; print where each part is."""
    engine_started = time.monotonic()
    engine = Engine().up()
    print(f"docker engine        {engine.host}" + (f"  pid {engine.pid}" if engine.pid else "  (already running)")
          + f"  {time.monotonic() - engine_started:.1f} s")
    base_image = image.ensure(engine)
    print(f"base image           {base_image}")
    hosts.ensure_network(engine)
    print(f"network              {settings.network()}  {settings.subnet()}")
    moto = Moto()
    running = moto.state()
    if running and running.host != hosts.gateway():
        raise LocalCloudError(f"moto already runs on {running.host}:{running.port}, which the hosts cannot reach: "
                              "run `make down` first")
    state = moto.up(hosts.gateway(), port)
    print(f"aws endpoint (moto)  {state.url}  pid {state.pid}")
    public_key = ensure_ssh_key()
    endpoint_ca = Path(state.ca_file).read_bytes()
    for host in hosts.hosts(env):
        started = time.monotonic()
        hosts.start_host(engine, base_image, host, public_key)
        hosts.trust_endpoint_ca(engine, host, endpoint_ca)
        print(f"{host.role + ' host':<20} {host.hostname}  {host.ip}  container {host.container}  "
              f"booted in {time.monotonic() - started:.1f} s")
    inventory = write_inventory(env, state.url)
    print(f"inventory            {inventory}  (inventory/{env}/localcloud.py lists it)")
    return 0


def down(env: str) -> int:
    """Remove the hosts, the network, moto and the engine this project started."""
    engine = Engine()
    running = engine.state()
    if running:
        for name in hosts.remove_hosts(running, env):
            print(f"removed container    {name}")
        remove_inventory(env)
        if not hosts.running_hosts(running) and hosts.remove_network(running):
            print(f"removed network      {settings.network()}")
    if not (running and hosts.running_hosts(running)):
        print("aws endpoint (moto)  stopped" if Moto().down() else "aws endpoint (moto)  was not running")
        others = hosts.other_containers(running) if running else []
        if others:
            print(f"docker engine        left running: other containers use it ({', '.join(others)})")
        elif engine.down():
            print("docker engine        stopped (the image cache stays in .work/docker)")
    return 0


def status(env: str) -> int:
    """What runs now; exit 3 when nothing does."""
    state = Moto().state()
    print(f"aws endpoint (moto)  {state.url}  pid {state.pid}" if state else "aws endpoint (moto)  not running")
    engine = Engine().state()
    names = hosts.running_hosts(engine) if engine else []
    print(f"docker engine        {engine.host if engine else 'not running'}")
    for name in names:
        print(f"host container       {name}")
    return 0 if state or names else 3


def info(env: str) -> int:
    """Where the user opens Airflow and how they log in (the end of `make up`)."""
    print(f"\nAirflow UI   {hosts.ui_url(env)}  (user admin)")
    print(f"password     make password ENV={env}   (read from the secret store, never written to a file)")
    print(f"certificate  make ca ENV={env}         (the UI certificate's CA: import it in your browser)")
    airflow, database = hosts.hosts(env)
    print(f"ssh          ssh -i {ssh_key()} admin@{airflow.ip}")
    print(f"database     {database.ip}:5432 (the RDS stand-in)")
    print("stop it      make down")
    return 0


def run(args: argparse.Namespace) -> int:
    """Start, stop or describe the local cloud."""
    if args.env not in LOCAL_ENVS:
        print(f"localcloud {args.action} failed: the local cloud holds {' and '.join(LOCAL_ENVS)}, not {args.env}")
        return 2
    try:
        if args.action == "up" and args.aws_only:
            state = Moto().up(port=args.port)
            print(f"aws endpoint (moto)  {state.url}  pid {state.pid}  log {state.log}")
            return 0
        if args.action == "up":
            return up(args.env, args.port)
        if args.action == "down":
            return down(args.env)
        if args.action == "info":
            return info(args.env)
        return status(args.env)
    except (EngineError, LocalCloudError) as exc:
        print(f"localcloud {args.action} failed: {exc}")
        return 1
