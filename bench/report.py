r"""The Markdown report of a benchmark run (reports/bench/bench.md), rendered from its results alone.

`render_markdown(results)` is pure: the results dict `python -m bench` builds (and writes to results.json)
in, the Markdown out. Every verdict (`goal <= 2x: met`) comes from comparing a figure with the goal the run
recorded, and every row says how many runs it stands for.
"""

from __future__ import annotations

from bench.goals import Goal

COLUMNS = ("figure", "measured", "baseline / goal", "ratio", "runs")


def _goal(results: dict, name: str) -> Goal:
    return Goal(**results["goals"][name])


def _runs(n: int) -> str:
    return "1 run" if n == 1 else f"median of {n}"


def header(run: dict) -> str:
    """One line: date (UTC), commit (+ uncommitted changes), machine, BENCH_* settings, the bench's duration."""
    m = run["machine"]
    memory = f"{m['memory_gib']:g} GiB memory" if m.get("memory_gib") is not None else "memory unknown"
    commit = run["commit"] + (" + uncommitted changes" if run["dirty"] else "")
    settings = ", ".join(f"{k}={v}" for k, v in run["settings"].items())
    took = f"; the bench took {run['bench_seconds'] / 60:.1f} min" if "bench_seconds" in run else ""
    return (f"`make bench` run of {run['date_utc']} at commit {commit}; machine: {m['cpus']} CPUs ({m['cpu_model']}), "
            f"{memory}, {m['os']}, {m['kernel']}, Python {m['python']}; settings: {settings}{took}.")


def parse_rows(results: dict) -> list[tuple[str, ...]]:
    """One row per DAG file: fresh-process parse vs `import airflow`, and the DagBag parse vs its budget."""
    budget = _goal(results, "dag_parse")
    return [(f"DAG parse, `{r['dag_file']}` (fresh process; DagBag parse {r['dagbag_parse_seconds']:.2f} s)",
             f"{r['process_seconds']:.2f} s",
             f"`import airflow` {r['baseline_import_airflow_seconds']:.2f} s",
             f"{r['ratio']:.2f}x (DagBag parse {budget.verdict(r['dagbag_parse_seconds'], 'budget')})",
             f"{_runs(r['repeats'])} (baseline too)")
            for r in results["dag_parse"]]


def _sum(run: dict) -> str:
    return f"{run['lint_seconds']:.1f} + {run['unit_seconds']:.1f} = {run['total_seconds']:.1f} s"


def loop_rows(results: dict) -> list[tuple[str, ...]]:
    """lint + unit against the push loop's goal: warm (the goal's case) and cold in runs that measured both, one
    row in older runs (one run, no cache)."""
    loop = results["push_loop"]
    goal = _goal(results, "push_loop")
    if "warm" not in loop:
        return [("lint + unit (`python -m ci lint`, `python -m ci unit`)", _sum(loop), f"{goal.limit:g} s push loop",
                 f"{loop['total_seconds'] / goal.limit:.2f}x ({goal.verdict(loop['total_seconds'])})", "1 run each")]
    warm, cold = loop["warm"]["total_seconds"], loop["cold"]["total_seconds"]
    return [("lint + unit, warm (`python -m ci lint` with the checks' cache of the cold run, `python -m ci unit`)",
             _sum(loop["warm"]), f"{goal.limit:g} s push loop",
             f"{warm / goal.limit:.2f}x ({goal.verdict(warm)})", "1 run each"),
            ("lint + unit, cold (`python -m ci lint --no-cache`: every checker runs)",
             _sum(loop["cold"]), f"{goal.limit:g} s push loop",
             f"{cold / goal.limit:.2f}x (the goal is the warm loop's)", "1 run each"),
            *_tier_rows(loop)]


def _tier_rows(loop: dict) -> list[tuple[str, ...]]:
    """The unit tests' two tiers against all of them in one run (runs before the split have no such row)."""
    if "tiers" not in loop:
        return []
    tiers, fast = loop["tiers"], loop["warm"]["unit_seconds"]
    both = fast + tiers["slow_seconds"]
    return [("`unit` + `unit-slow` (the tests marked slow: the stage after the push loop)",
             f"{fast:.1f} + {tiers['slow_seconds']:.1f} = {both:.1f} s",
             f"every unit test in one run (`--tier all`) {tiers['all_seconds']:.1f} s",
             f"{both / tiers['all_seconds']:.2f}x", "1 run each")]


def _etl_case_rows(results: dict, etl: dict, label: str = "ETL", rate: bool = False) -> list[tuple[str, ...]]:
    """One ETL case: its path against `psql \\copy` of the same rows (with rows/s if `rate`), and its process's
    peak RSS."""
    steps = ", ".join(f"{name} {seconds:.2f} s" for name, seconds in etl["steps"].items())
    if rate:
        steps += f"; {etl['rows'] / etl['etl_seconds']:,.0f} rows/s"
    ratio, rss = _goal(results, "etl_ratio"), _goal(results, "etl_peak_rss")
    return [(f"{label} path, {etl['rows']:,} rows ({steps})",
             f"{etl['etl_seconds']:.2f} s",
             f"`psql \\copy` {etl['plain_copy_seconds']:.2f} s",
             f"{etl['ratio']:.2f}x ({ratio.verdict(etl['ratio'])})",
             "1 run each"),
            (f"{label} process peak RSS (same run)",
             f"{etl['peak_rss_mb']:.0f} MB",
             f"goal {rss.text()}",
             f"{etl['peak_rss_mb'] / rss.limit:.2f}x ({rss.verdict(etl['peak_rss_mb'])})",
             "1 run")]


def etl_rows(results: dict) -> list[tuple[str, ...]]:
    """The ETL path against `psql \\copy` of the same rows, and the ETL process's peak RSS: the CSV day, then
    (in runs that measured it) the JSON-lines day, each against its own baseline."""
    rows = _etl_case_rows(results, results["etl_load"])
    if "etl_load_jsonl" in results:
        jsonl = results["etl_load_jsonl"]
        rows += _etl_case_rows(results, jsonl, f"JSON-lines ETL ({jsonl['tenant']})", rate=True)
    return rows


def provision_row(results: dict) -> tuple[str, ...]:
    """Provisioning the local cloud: the re-run against the cold run, with each run's changed count."""
    prov = results["provision"]
    return ("provision (local cloud), re-run",
            f"{prov['rerun_seconds']:.1f} s (changed={prov['rerun_changed']})",
            f"cold {prov['cold_seconds']:.1f} s (changed={prov['cold_changed']})",
            f"{prov['ratio']:.2f}x",
            "1 run each (cold, re-run)")


def changed_text(changed: dict[str, int]) -> str:
    """A run's changed count per host, `host=n, ...`."""
    return ", ".join(f"{host}={n}" for host, n in changed.items())


def _stock_rerun_row(rerun: dict) -> list[tuple[str, ...]]:
    """The same re-run on stock Ansible (runs before Mitogen have no such figure)."""
    if "stock_seconds" not in rerun:
        return []
    changed = changed_text(rerun["stock_changed"])
    return [("Mitogen (ansible.cfg) beside stock Ansible (`ANSIBLE_STRATEGY=linear`): the `site.yml` re-run",
             f"{rerun['seconds']:.0f} s",
             f"stock {rerun['stock_seconds']:.0f} s (changed: {changed})",
             f"{rerun['seconds'] / rerun['stock_seconds']:.2f}x",
             "1 run each")]


def hosts_rows(results: dict) -> list[tuple[str, ...]]:
    """The local default's hosts: warm vs cold pipeline, the site.yml re-run, uv vs pip."""
    hosts = results["hosts"]
    warm_goal, rerun_goal = _goal(results, "warm_pipeline"), _goal(results, "site_rerun")
    warm, cold = hosts["warm"]["total_seconds"], hosts["cold"]["total_seconds"]
    rerun = hosts["rerun"]
    changed = rerun["changed"]
    unchanged = bool(changed) and not any(changed.values())
    inst = hosts["install"]
    return [("pipeline after lint + unit, warm (image cached, fresh hosts)",
             f"{warm:.0f} s",
             f"cold (image built) {cold:.0f} s; goal warm {warm_goal.text()}",
             f"{hosts['warm_over_cold']:.2f}x ({warm_goal.verdict(warm)})",
             "1 run each (cold, warm)"),
            ("`site.yml` re-run (`configure` on the warm hosts)",
             f"{rerun['seconds']:.0f} s (changed: {changed_text(changed)})",
             f"goal {rerun_goal.text()}, changed=0",
             f"{rerun['seconds'] / rerun_goal.limit:.2f}x ({rerun_goal.verdict(rerun['seconds'])}; "
             f"changed=0 on every host: {'met' if unchanged else 'missed'})",
             "1 run"),
            *_stock_rerun_row(rerun),
            ("Airflow runtime install on a host (same lock, `--require-hashes`)",
             f"uv {inst['uv_seconds']:.0f} s",
             f"pip {inst['pip_seconds']:.0f} s",
             f"{inst['ratio']:.2f}x",
             "1 run each")]


def hosts_steps(results: dict) -> list[str]:
    """Where the pipeline's time went, step by step, cold and warm."""
    return [f"Hosts pipeline steps, {name}: "
            + ", ".join(f"{step} {seconds:.0f} s" for step, seconds in results["hosts"][name]["steps"].items()) + "."
            for name in ("cold", "warm")]


def _table(rows: list[tuple[str, ...]]) -> list[str]:
    lines = ["| " + " | ".join(COLUMNS) + " |", "|" + "---|" * len(COLUMNS)]
    lines += ["| " + " | ".join(cell.replace("|", "\\|") for cell in row) + " |" for row in rows]
    return lines


def render_markdown(results: dict) -> str:
    """The whole report: header line, one table, and either the hosts' step times or why hosts were not run."""
    rows = [*parse_rows(results), *loop_rows(results), *etl_rows(results), provision_row(results)]
    if "hosts" in results:
        rows += hosts_rows(results)
        tail = hosts_steps(results)
    else:
        hosts_setting = results["run"]["settings"].get("BENCH_HOSTS", "0")
        tail = [f"Hosts rows not run (BENCH_HOSTS={hosts_setting}): cold vs warm pipeline, `site.yml` re-run, "
                "uv vs pip install."]
    return "\n".join([header(results["run"]), "", *_table(rows), "", *tail]) + "\n"
