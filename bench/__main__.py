r"""`python -m bench`: the CI-loop figures, each with its baseline from the same run.

- DAG parse (medians of BENCH_REPEATS runs, default 3, after one warm-up): for each DAG file, a fresh
  process that imports Airflow and parses the file, against a fresh `python -c "import airflow"` (the floor
  any DAG check pays). Ratio = file / baseline; the DagBag's own parse duration against the budget in
  pyproject.toml.
- Lint + unit wall time, cold then warm (one run each): `python -m ci lint --no-cache` (every checker runs) and
  `python -m ci unit`, then `python -m ci lint` (each checker's cache from the cold run hits: the inputs did not
  change) and `python -m ci unit` again, against the 30 s push loop a data engineer expects (ratio = warm / 30 s);
  then the slow tier (`unit --tier slow`, the next stage) and every unit test in one run (`--tier all`).
- ETL load path (one run each, for a CSV day of acme's and a JSON-lines day of globex's): 1,000,000 generated
  rows through validate -> transform -> COPY + partition swap, against `psql \copy` of the same final rows into
  the same kind of table (ratio; goal <= 2x), and the ETL process's peak RSS (goal < 300 MB).
  BENCH_ETL_ROWS changes the row count of both.
- Provision (one cold run, one re-run): `python -m ci provision --env local` on a private local cloud
  (ratio = re-run / cold).
- Hosts (bench/hosts.py, one run each; BENCH_HOSTS=0 skips it, about 20 minutes): cold and warm pipeline
  on the local default, the idempotent site.yml re-run, and the Airflow runtime installed by pip vs uv.
Results go to reports/bench/results.json, and the report (bench/report.py: the run's date, commit, machine
and settings, then one table) to reports/bench/bench.md.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.etl_load import load_figure
from bench.goals import ETL_PEAK_RSS, ETL_RATIO, PUSH_LOOP, goals_record
from bench.hosts import hosts_figures
from bench.hosts import render as render_hosts
from bench.report import render_markdown
from bench.run_info import run_info
from ci.ansible import parse_recap
from ci.config import settings
from ci.dag_integrity import dag_files
from ci.localcloud.endpoint import free_port, private_moto
from ci.paths import DAGS, ROOT, reports_dir

ENV = {**os.environ, "AIRFLOW__CORE__LOAD_EXAMPLES": "False", "PYTHONPATH": f"{ROOT}{os.pathsep}{DAGS}"}


def _count_setting(name: str, default: int, minimum: int) -> int:
    """A BENCH_* count from the environment, read when used."""
    raw = os.environ.get(name, str(default))
    try:
        value = int(raw)
    except ValueError:
        value = minimum - 1
    if value < minimum:
        raise SystemExit(f"bench: {name} must be a whole number >= {minimum}, got {raw!r}; unset it for {default}")
    return value


def repeats() -> int:
    """BENCH_REPEATS: how many timed runs each DAG parse median is taken over (default 3)."""
    return _count_setting("BENCH_REPEATS", 3, 1)


def _timed(argv: list[str]) -> tuple[float, str]:
    start = time.perf_counter()
    proc = subprocess.run(argv, cwd=ROOT, env=ENV, capture_output=True, text=True, check=False)
    elapsed = time.perf_counter() - start
    if proc.returncode != 0:
        raise SystemExit(f"bench: {' '.join(argv)} failed:\n{proc.stdout[-2000:]}{proc.stderr[-2000:]}")
    return elapsed, proc.stdout


def median_wall(argv: list[str]) -> float:
    """Median wall time of BENCH_REPEATS runs (a first, untimed run warms the page cache and bytecode)."""
    _timed(argv)
    return statistics.median(_timed(argv)[0] for _ in range(repeats()))


def parse_figures() -> list[dict]:
    """Each DAG file's fresh-process parse time against `import airflow` alone, interleaved per repeat."""
    baseline_argv = [sys.executable, "-c", "import airflow"]
    baseline = median_wall(baseline_argv)
    rows = []
    for path in dag_files(DAGS):
        argv = [sys.executable, "-m", "bench.parse_one", str(path)]
        _timed(argv)
        walls, parses = [], []
        for _ in range(repeats()):
            wall, out = _timed(argv)
            walls.append(wall)
            parses.append(json.loads(out.strip().splitlines()[-1])["parse_seconds"])
        wall = statistics.median(walls)
        rows.append({"dag_file": path.name, "process_seconds": wall, "dagbag_parse_seconds": statistics.median(parses),
                     "baseline_import_airflow_seconds": baseline, "ratio": wall / baseline, "repeats": repeats()})
    return rows


def _lint_and_unit(*lint_args: str) -> dict:
    lint = _timed([sys.executable, "-m", "ci", "lint", *lint_args])[0]
    unit = _timed([sys.executable, "-m", "ci", "unit"])[0]
    return {"lint_seconds": lint, "unit_seconds": unit, "total_seconds": lint + unit}


def loop_figure() -> dict:
    """Wall time of lint + unit cold (every checker runs) then warm (the checks' cache of the cold run), one run
    each: the push loop's goal is the warm one."""
    cold = _lint_and_unit("--no-cache")
    warm = _lint_and_unit()
    # What the push loop leaves to the next stage, and every unit test in one run (the loop before the split).
    slow = _timed([sys.executable, "-m", "ci", "unit", "--tier", "slow"])[0]
    every = _timed([sys.executable, "-m", "ci", "unit", "--tier", "all"])[0]
    return {"cold": cold, "warm": warm, "target_seconds": PUSH_LOOP.limit,
            "ratio": warm["total_seconds"] / PUSH_LOOP.limit,
            "tiers": {"slow_seconds": slow, "all_seconds": every}}  # the fast tier is the warm loop's unit


def print_etl(etl: dict) -> None:
    """One ETL case's figures: seconds by step, the plain COPY baseline and ratio, the peak RSS, each verdict."""
    print(f"  etl {etl['etl_seconds']:.2f}s (validate {etl['steps']['validate']:.2f}, transform "
          f"{etl['steps']['transform']:.2f}, load {etl['steps']['load']:.2f}; {etl['rows'] / etl['etl_seconds']:,.0f} "
          f"rows/s); plain copy {etl['plain_copy_seconds']:.2f}s; ratio {etl['ratio']:.2f}x "
          f"({ETL_RATIO.verdict(etl['ratio'])}); peak RSS {etl['peak_rss_mb']:.0f} MB "
          f"({ETL_PEAK_RSS.verdict(etl['peak_rss_mb'])})", flush=True)


def provision_figure() -> dict:
    """Cold provision and the idempotent re-run on a private local cloud (its own moto, port, outputs)."""
    with tempfile.TemporaryDirectory(prefix="bench-localcloud-") as tmp:
        port = free_port()
        env = {**ENV, "TINY_LOCALCLOUD_DIR": tmp, "TINY_MOTO_HOST": "127.0.0.1", "TINY_MOTO_PORT": str(port)}
        argv = [sys.executable, "-m", "ci", "provision", "--env", "local", "-e", f"outputs_dir={tmp}"]
        with private_moto(Path(tmp), port):
            runs = []
            for _ in range(2):
                start = time.perf_counter()
                proc = subprocess.run(argv, cwd=ROOT, env=env, capture_output=True, text=True, check=False)
                if proc.returncode != 0:
                    raise SystemExit(f"bench: provision failed:\n{proc.stdout[-3000:]}")
                runs.append((time.perf_counter() - start, parse_recap(proc.stdout)[0].changed))
    (cold, cold_changed), (rerun, rerun_changed) = runs
    return {"cold_seconds": cold, "cold_changed": cold_changed, "rerun_seconds": rerun,
            "rerun_changed": rerun_changed, "ratio": rerun / cold}


def main() -> int:
    """Run the benchmarks, print each figure as it is measured, write results.json and bench.md."""
    started = time.perf_counter()
    hosts = os.environ.get("BENCH_HOSTS", "1")
    run = run_info({"BENCH_REPEATS": repeats(), "BENCH_ETL_ROWS": _count_setting("BENCH_ETL_ROWS", 1_000_000, 1),
                    "BENCH_HOSTS": hosts})
    print(f"bench: DAG parse figures are medians of {repeats()} runs (BENCH_REPEATS); the others one run each",
          flush=True)
    parse = parse_figures()
    print("\nDAG parse (fresh process) vs `python -c 'import airflow'`")
    print(f"  {'dag file':32} {'process s':>10} {'dagbag s':>9} {'baseline s':>11} {'ratio':>7}")
    for r in parse:
        print(f"  {r['dag_file']:32} {r['process_seconds']:10.3f} {r['dagbag_parse_seconds']:9.3f} "
              f"{r['baseline_import_airflow_seconds']:11.3f} {r['ratio']:6.2f}x")
    with tempfile.TemporaryDirectory(prefix="bench-reports-") as inner:
        ENV["TINY_REPORTS_DIR"] = inner  # the timed lint and unit runs report there, not into the run's reports/
        loop = loop_figure()
        del ENV["TINY_REPORTS_DIR"]
    print(f"\nlint + unit wall time vs the {PUSH_LOOP.limit:g} s push loop")
    for name in ("cold", "warm"):
        run_ = loop[name]
        print(f"  {name}: lint {run_['lint_seconds']:.1f}s + unit {run_['unit_seconds']:.1f}s = "
              f"{run_['total_seconds']:.1f}s; ratio {run_['total_seconds'] / loop['target_seconds']:.2f}x")
    print(f"  warm: {PUSH_LOOP.verdict(loop['warm']['total_seconds'])}")
    tiers = loop["tiers"]
    print(f"  unit {loop['warm']['unit_seconds']:.1f}s + unit-slow {tiers['slow_seconds']:.1f}s vs every unit test "
          f"in one run {tiers['all_seconds']:.1f}s")
    etl = load_figure(run["settings"]["BENCH_ETL_ROWS"], "csv")
    print(f"\nETL load path, {etl['rows']:,} rows: validate -> transform -> COPY + swap vs psql \\copy")
    print_etl(etl)
    etl_jsonl = load_figure(run["settings"]["BENCH_ETL_ROWS"], "jsonl")
    print(f"\nETL load path, JSON lines ({etl_jsonl['tenant']}), {etl_jsonl['rows']:,} rows: validate -> transform "
          "-> COPY + swap vs psql \\copy")
    print_etl(etl_jsonl)
    prov = provision_figure()
    print("\nprovision (local cloud): cold vs re-run")
    print(f"  cold {prov['cold_seconds']:.1f}s (changed={prov['cold_changed']}); re-run {prov['rerun_seconds']:.1f}s "
          f"(changed={prov['rerun_changed']}); ratio {prov['ratio']:.2f}x")
    results = {"run": run, "goals": goals_record(settings().dag_parse_budget_seconds), "dag_parse": parse,
               "push_loop": loop, "etl_load": etl, "etl_load_jsonl": etl_jsonl, "provision": prov}
    if hosts != "0":
        results["hosts"] = hosts_figures()
        print(render_hosts(results["hosts"]))
    run["bench_seconds"] = time.perf_counter() - started
    out = reports_dir() / "bench"
    out.mkdir(parents=True, exist_ok=True)
    (out / "results.json").write_text(json.dumps(results, indent=2))
    (out / "bench.md").write_text(render_markdown(results))
    print(f"\nwritten {out / 'results.json'} and {out / 'bench.md'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
