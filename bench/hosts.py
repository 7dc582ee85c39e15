"""The local default's hosts: cold and warm `make up` (after lint + unit), the idempotent site.yml re-run,
and installing the Airflow runtime by pip against uv from the same hash-locked lock.

- cold: no base image (it is removed first), so debootstrap builds it; then localcloud up, provision,
  configure, deploy, verify, smoke.
- warm: the same chain again on fresh containers (`localcloud down` first), the image cached.
- rerun: `configure` once more on the warm hosts (changed must be 0), then once more with stock Ansible
  (`ANSIBLE_STRATEGY=linear`: a new Python per task and host) beside it: what Mitogen (ansible.cfg) saves.
- install: in the warm Airflow host, a fresh venv filled by `pip install --require-hashes` and another by
  `uv pip install --require-hashes` with an empty uv cache, from the lock site.yml copied there.

It uses the real local default, so it refuses to run while one is up (`make down` first).
"""

from __future__ import annotations

import os
import subprocess
import sys
import time

from bench.goals import SITE_RERUN, WARM_PIPELINE
from bench.report import changed_text
from ci.ansible import parse_recap
from ci.localcloud import hosts, image
from ci.localcloud.engine import Engine, docker
from ci.localcloud.inventory import inventory_file
from ci.paths import ROOT

CHAIN = (("localcloud", "up"), ("provision",), ("configure",), ("deploy",), ("verify",), ("smoke",))
LOCK = "/opt/airflow/requirements/airflow-runtime.txt"


def _stage(*argv: str, env: dict[str, str] | None = None) -> tuple[float, str]:
    started = time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "ci", *argv], cwd=ROOT, capture_output=True, text=True, check=False,
                          env={**os.environ, **(env or {})})
    if proc.returncode != 0:
        raise SystemExit(f"bench: ci {' '.join(argv)} failed:\n{proc.stdout[-3000:]}{proc.stderr[-1000:]}")
    return time.perf_counter() - started, proc.stdout


def _chain() -> dict:
    steps = {" ".join(argv): _stage(*argv)[0] for argv in CHAIN}
    return {"steps": steps, "total_seconds": sum(steps.values())}


def _install_seconds(container: str, command: str) -> float:
    engine = Engine().state()
    started = time.perf_counter()
    proc = docker(engine, "exec", container, "bash", "-c", command, check=False, timeout=1800)
    if proc.returncode != 0:
        raise SystemExit(f"bench: install in {container} failed: {proc.stderr.decode()[-2000:]}")
    return time.perf_counter() - started


def install_figure() -> dict:
    """pip vs uv into fresh venvs on the Airflow host, both with --require-hashes from the same lock."""
    container = hosts.hosts("local")[0].container
    pip = _install_seconds(container, f"rm -rf /tmp/b-pip && python3 -m venv /tmp/b-pip && "
                                      f"PIP_CERT=/etc/ssl/certs/ca-certificates.crt /tmp/b-pip/bin/pip install -q "
                                      f"--no-cache-dir --require-hashes -r {LOCK}")
    uv = _install_seconds(container, f"rm -rf /tmp/b-uv /tmp/b-uv-cache && python3 -m venv /tmp/b-uv && "
                                     f"UV_SYSTEM_CERTS=1 UV_CACHE_DIR=/tmp/b-uv-cache /opt/airflow/venv/bin/uv pip "
                                     f"install -q --python /tmp/b-uv/bin/python --require-hashes -r {LOCK}")
    _install_seconds(container, "rm -rf /tmp/b-pip /tmp/b-uv /tmp/b-uv-cache")
    return {"pip_seconds": pip, "uv_seconds": uv, "ratio": uv / pip}


def hosts_figures() -> dict:
    """Cold chain, warm chain, idempotent re-run, pip vs uv; leaves the local default down."""
    if inventory_file("local").exists():
        raise SystemExit("bench: the local default is up; run `make down` first (the benchmark rebuilds it)")
    engine = Engine().up()
    base_image = f"{image.REPOSITORY}:{image.recipe_tag(image.apt_mirror())}"
    docker(engine, "image", "rm", "--force", base_image, check=False)
    try:
        cold = _chain()
        _stage("localcloud", "down")
        warm = _chain()
        seconds, out = _stage("configure")
        rerun = {"seconds": seconds, "changed": {r.host: r.changed for r in parse_recap(out)}}
        stock_seconds, stock_out = _stage("configure", env={"ANSIBLE_STRATEGY": "linear"})
        rerun["stock_seconds"] = stock_seconds
        rerun["stock_changed"] = {r.host: r.changed for r in parse_recap(stock_out)}
        install = install_figure()
    finally:
        _stage("localcloud", "down")
    return {"cold": cold, "warm": warm, "warm_over_cold": warm["total_seconds"] / cold["total_seconds"],
            "rerun": rerun, "install": install}


def render(fig: dict) -> str:
    """The printed table."""
    lines = ["\nlocal default: cold vs warm pipeline (after lint + unit), idempotent site.yml, runtime install"]
    for name in ("cold", "warm"):
        steps = ", ".join(f"{k} {v:.0f}s" for k, v in fig[name]["steps"].items())
        lines.append(f"  {name:5} {fig[name]['total_seconds']:6.0f}s  ({steps})")
    lines.append(f"  warm/cold ratio {fig['warm_over_cold']:.2f}x "
                 f"(warm {WARM_PIPELINE.verdict(fig['warm']['total_seconds'])})")
    rerun = fig["rerun"]
    changed = changed_text(rerun["changed"])
    lines.append(f"  site.yml re-run {rerun['seconds']:.0f}s, changed: {changed} "
                 f"({SITE_RERUN.verdict(rerun['seconds'])}, changed=0 wanted); stock Ansible "
                 f"{rerun['stock_seconds']:.0f}s (Mitogen/stock {rerun['seconds'] / rerun['stock_seconds']:.2f}x)")
    inst = fig["install"]
    lines.append(f"  Airflow runtime install: pip {inst['pip_seconds']:.0f}s, uv {inst['uv_seconds']:.0f}s "
                 f"(uv/pip {inst['ratio']:.2f}x); site.yml uses uv")
    return "\n".join(lines)
