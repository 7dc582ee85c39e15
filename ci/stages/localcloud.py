"""`python -m ci localcloud up|down|status`: the embedded local default (today: the AWS endpoint)."""

from __future__ import annotations

import argparse

from ci.localcloud import DEFAULT_HOST, DEFAULT_PORT, LocalCloudError, Moto


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The action, and where moto listens."""
    parser.add_argument("action", choices=("up", "down", "status"))
    parser.add_argument("--host", default=DEFAULT_HOST, help="address moto listens on (default: %(default)s)")
    parser.add_argument("--port", type=int, default=DEFAULT_PORT, help="moto's port (default: %(default)s)")


def run(args: argparse.Namespace) -> int:
    """Start, stop or describe the local cloud."""
    moto = Moto()
    if args.action == "up":
        try:
            state = moto.up(args.host, args.port)
        except LocalCloudError as exc:
            print(f"localcloud up failed: {exc}")
            return 1
        print(f"aws endpoint (moto)  {state.url}  pid {state.pid}  log {state.log}")
        return 0
    if args.action == "down":
        print("aws endpoint (moto)  stopped" if moto.down() else "aws endpoint (moto)  was not running")
        return 0
    state = moto.state()
    print(f"aws endpoint (moto)  {state.url}  pid {state.pid}" if state else "aws endpoint (moto)  not running")
    return 0 if state else 3
