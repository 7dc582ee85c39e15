"""bench/report.py: the Markdown report rendered from a fixed results dict (nothing is run)."""

from __future__ import annotations

import copy
import json

import pytest

from bench.goals import Goal, goals_record
from bench.report import COLUMNS, render_markdown
from ci.paths import ROOT

RUN = {
    "date_utc": "2026-11-24 09:30 UTC",
    "commit": "1111111111222222222233333333334444444444",
    "dirty": False,
    "machine": {"cpus": 2, "cpu_model": "AMD EPYC", "memory_gib": 23.5, "os": "Debian GNU/Linux 12 (bookworm)",
                "kernel": "Linux 6.1.0", "python": "3.11.7"},
    "settings": {"BENCH_REPEATS": 3, "BENCH_ETL_ROWS": 1000000, "BENCH_HOSTS": "0"},
    "bench_seconds": 390.0,
}
RESULTS = {
    "run": RUN,
    "goals": goals_record(2.0),
    "dag_parse": [
        {"dag_file": "tenant_etl.py", "process_seconds": 4.64, "dagbag_parse_seconds": 1.25,
         "baseline_import_airflow_seconds": 3.33, "ratio": 4.64 / 3.33, "repeats": 3},
        {"dag_file": "slow_dag.py", "process_seconds": 6.0, "dagbag_parse_seconds": 2.5,
         "baseline_import_airflow_seconds": 3.33, "ratio": 6.0 / 3.33, "repeats": 3},
    ],
    "push_loop": {"lint_seconds": 54.7, "unit_seconds": 55.7, "total_seconds": 110.4, "target_seconds": 60.0,
                  "ratio": 110.4 / 60},
    "etl_load": {"rows": 1000000, "etl_seconds": 5.38, "steps": {"validate": 1.5, "transform": 0.9, "load": 2.98},
                 "plain_copy_seconds": 4.85, "ratio": 5.38 / 4.85, "peak_rss_mb": 392.0, "rows_loaded": 1000000,
                 "peak_rss_by_step_mb": {}},
    "provision": {"cold_seconds": 64.9, "cold_changed": 21, "rerun_seconds": 50.2, "rerun_changed": 0,
                  "ratio": 50.2 / 64.9},
}
HOSTS = {
    "cold": {"steps": {"localcloud up": 102.0, "provision": 72.0, "configure": 227.0}, "total_seconds": 419.0},
    "warm": {"steps": {"localcloud up": 30.0, "provision": 70.0, "configure": 196.0}, "total_seconds": 296.0},
    "warm_over_cold": 296.0 / 419.0,
    "rerun": {"seconds": 68.0, "changed": {"airflow": 0, "db": 1}},
    "install": {"pip_seconds": 93.0, "uv_seconds": 11.0, "ratio": 11.0 / 93.0},
}


def table(markdown: str) -> tuple[list[str], dict[str, list[str]]]:
    """The report's one table: its header cells, and each row's cells keyed by the figure cell."""
    lines = [line for line in markdown.splitlines() if line.startswith("|")]
    cells = [[c.strip() for c in line.strip("|").split(" | ")] for line in lines]
    assert lines[1] == "|" + "---|" * len(COLUMNS)
    return cells[0], {row[0]: row[1:] for row in cells[2:]}


def row(rows: dict[str, list[str]], figure_start: str) -> dict[str, str]:
    matches = [cells for figure, cells in rows.items() if figure.startswith(figure_start)]
    assert len(matches) == 1, f"{figure_start!r} in {list(rows)}"
    return dict(zip(COLUMNS[1:], matches[0], strict=True))


def with_hosts() -> dict:
    results = copy.deepcopy(RESULTS)
    results["hosts"] = HOSTS
    results["run"]["settings"]["BENCH_HOSTS"] = "1"
    return results


def test_header_names_date_commit_machine_settings_and_duration():
    first = render_markdown(RESULTS).splitlines()[0]
    assert "2026-11-24 09:30 UTC" in first
    assert "commit 1111111111222222222233333333334444444444;" in first
    assert "uncommitted" not in first
    assert "2 CPUs (AMD EPYC), 23.5 GiB memory, Debian GNU/Linux 12 (bookworm), Linux 6.1.0, Python 3.11.7" in first
    assert "settings: BENCH_REPEATS=3, BENCH_ETL_ROWS=1000000, BENCH_HOSTS=0" in first
    assert "took 6.5 min" in first


def test_header_says_when_the_work_tree_was_dirty():
    results = copy.deepcopy(RESULTS)
    results["run"]["dirty"] = True
    assert "commit 1111111111222222222233333333334444444444 + uncommitted changes;" in render_markdown(results)


def test_one_table_with_every_figure_and_its_run_count():
    markdown = render_markdown(RESULTS)
    assert markdown.count("| figure |") == 1
    header, rows = table(markdown)
    assert header == list(COLUMNS)
    assert len(rows) == 2 + 1 + 2 + 1  # two DAG files, lint + unit, ETL path + RSS, provision
    assert row(rows, "DAG parse, `tenant_etl.py`")["runs"] == "median of 3 (baseline too)"
    assert row(rows, "DAG parse, `tenant_etl.py`")["measured"] == "4.64 s"
    assert row(rows, "DAG parse, `tenant_etl.py`")["baseline / goal"] == "`import airflow` 3.33 s"
    assert row(rows, "lint + unit")["runs"] == "1 run each"
    assert row(rows, "lint + unit")["measured"] == "54.7 + 55.7 = 110.4 s"
    assert row(rows, "ETL path, 1,000,000 rows")["runs"] == "1 run each"
    assert row(rows, "ETL path, 1,000,000 rows")["baseline / goal"] == "`psql \\copy` 4.85 s"
    assert row(rows, "ETL process peak RSS")["runs"] == "1 run"
    assert row(rows, "provision")["measured"] == "50.2 s (changed=0)"
    assert row(rows, "provision")["baseline / goal"] == "cold 64.9 s (changed=21)"
    assert row(rows, "provision")["ratio"] == "0.77x"
    assert row(rows, "provision")["runs"] == "1 run each (cold, re-run)"


def test_a_single_repeat_is_called_one_run_not_a_median():
    results = copy.deepcopy(RESULTS)
    for r in results["dag_parse"]:
        r["repeats"] = 1
    _, rows = table(render_markdown(results))
    assert row(rows, "DAG parse, `slow_dag.py`")["runs"] == "1 run (baseline too)"


def test_verdicts_come_from_comparing_the_numbers():
    _, rows = table(render_markdown(RESULTS))
    assert row(rows, "ETL path")["ratio"] == "1.11x (goal <= 2x: met)"
    assert row(rows, "ETL process peak RSS")["ratio"] == "1.31x (goal < 300 MB: missed)"
    assert row(rows, "lint + unit")["ratio"] == "3.68x (goal <= 30 s: missed)"
    assert row(rows, "DAG parse, `tenant_etl.py`")["ratio"] == "1.39x (DagBag parse budget <= 2 s: met)"
    assert row(rows, "DAG parse, `slow_dag.py`")["ratio"] == "1.80x (DagBag parse budget <= 2 s: missed)"


def test_verdicts_follow_the_recorded_goals():
    results = copy.deepcopy(RESULTS)
    results["goals"]["etl_peak_rss"]["limit"] = 400
    results["goals"]["etl_ratio"]["limit"] = 1.1
    _, rows = table(render_markdown(results))
    assert row(rows, "ETL process peak RSS")["ratio"] == "0.98x (goal < 400 MB: met)"
    assert row(rows, "ETL path")["ratio"] == "1.11x (goal <= 1.1x: missed)"


def test_the_push_loop_is_held_to_its_goal_warm_and_shown_cold_beside_it():
    results = copy.deepcopy(RESULTS)
    results["push_loop"] = {"cold": {"lint_seconds": 70.0, "unit_seconds": 80.0, "total_seconds": 150.0},
                            "warm": {"lint_seconds": 9.0, "unit_seconds": 18.0, "total_seconds": 27.0},
                            "target_seconds": 30.0, "ratio": 27.0 / 30}
    _, rows = table(render_markdown(results))
    warm, cold = row(rows, "lint + unit, warm"), row(rows, "lint + unit, cold")
    assert (warm["measured"], warm["baseline / goal"]) == ("9.0 + 18.0 = 27.0 s", "30 s push loop")
    assert warm["ratio"] == "0.90x (goal <= 30 s: met)"
    assert (cold["measured"], cold["ratio"]) == ("70.0 + 80.0 = 150.0 s", "5.00x (the goal is the warm loop's)")
    results["push_loop"]["warm"] = {"lint_seconds": 9.0, "unit_seconds": 22.0, "total_seconds": 31.0}
    _, rows = table(render_markdown(results))
    assert row(rows, "lint + unit, warm")["ratio"] == "1.03x (goal <= 30 s: missed)"


@pytest.mark.parametrize(("goal", "value", "verdict"), [
    (Goal(60, " s", inclusive=False), 60.0, "goal < 60 s: missed"),
    (Goal(60, " s"), 60.0, "goal <= 60 s: met"),
])
def test_the_limit_itself_meets_only_an_inclusive_goal(goal, value, verdict):
    assert goal.verdict(value) == verdict


def test_without_hosts_one_line_says_they_were_not_run():
    markdown = render_markdown(RESULTS)
    _, rows = table(markdown)
    assert not any(figure.startswith(("pipeline", "`site.yml`", "Airflow runtime")) for figure in rows)
    assert [line for line in markdown.splitlines() if "Hosts" in line] == [
        "Hosts rows not run (BENCH_HOSTS=0): cold vs warm pipeline, `site.yml` re-run, uv vs pip install."]


def test_with_hosts_the_hosts_rows_and_their_verdicts():
    markdown = render_markdown(with_hosts())
    _, rows = table(markdown)
    assert len(rows) == 6 + 3
    warm = row(rows, "pipeline after lint + unit, warm")
    assert warm["measured"] == "296 s"
    assert warm["baseline / goal"] == "cold (image built) 419 s; goal warm < 300 s"
    assert warm["ratio"] == "0.71x (goal < 300 s: met)"
    assert warm["runs"] == "1 run each (cold, warm)"
    rerun = row(rows, "`site.yml` re-run")
    assert rerun["measured"] == "68 s (changed: airflow=0, db=1)"
    assert rerun["ratio"] == "3.40x (goal <= 20 s: missed; changed=0 on every host: missed)"
    assert rerun["runs"] == "1 run"
    install = row(rows, "Airflow runtime install")
    assert (install["measured"], install["baseline / goal"], install["ratio"]) == ("uv 11 s", "pip 93 s", "0.12x")
    assert "not run" not in markdown
    assert "Hosts pipeline steps, cold: localcloud up 102 s, provision 72 s, configure 227 s." in markdown


def test_site_rerun_with_nothing_changed_meets_the_changed_goal():
    results = with_hosts()
    results["hosts"] = copy.deepcopy(HOSTS)
    results["hosts"]["rerun"] = {"seconds": 18.0, "changed": {"airflow": 0, "db": 0}}
    _, rows = table(render_markdown(results))
    assert row(rows, "`site.yml` re-run")["ratio"] == "0.90x (goal <= 20 s: met; changed=0 on every host: met)"


def test_the_readme_table_is_the_last_runs_markdown():
    """The README's benchmark table is make bench's own rendering of a committed run (bench/last-run.json)."""
    results = json.loads((ROOT / "bench" / "last-run.json").read_text())
    table = render_markdown(results).strip()
    assert table.startswith("`make bench` run of ") and "| figure | measured |" in table
    assert table in (ROOT / "README.md").read_text(), "README's benchmark table differs from bench/last-run.json"


def with_jsonl() -> dict:
    results = copy.deepcopy(RESULTS)
    results["etl_load_jsonl"] = {"format": "jsonl", "tenant": "globex", "rows": 1000000, "etl_seconds": 8.0,
                                 "steps": {"validate": 5.0, "transform": 0.5, "load": 2.5},
                                 "plain_copy_seconds": 2.5, "ratio": 8.0 / 2.5, "peak_rss_mb": 250.0,
                                 "rows_loaded": 1000000, "peak_rss_by_step_mb": {}}
    return results


def test_the_json_lines_day_has_its_own_rows_beside_the_csv_rows():
    _, rows = table(render_markdown(with_jsonl()))
    assert len(rows) == 6 + 2
    path = row(rows, "JSON-lines ETL (globex) path, 1,000,000 rows")
    assert path["measured"] == "8.00 s"
    assert path["baseline / goal"] == "`psql \\copy` 2.50 s"
    assert path["ratio"] == "3.20x (goal <= 2x: missed)"
    assert path["runs"] == "1 run each"
    (figure,) = [f for f in rows if f.startswith("JSON-lines ETL (globex) path")]
    assert figure.endswith("(validate 5.00 s, transform 0.50 s, load 2.50 s; 125,000 rows/s)")
    rss = row(rows, "JSON-lines ETL (globex) process peak RSS")
    assert (rss["measured"], rss["ratio"]) == ("250 MB", "0.83x (goal < 300 MB: met)")
    # The CSV rows are the same as in a run without the JSON-lines day.
    assert row(rows, "ETL path, 1,000,000 rows") == row(table(render_markdown(RESULTS))[1], "ETL path, 1,000,000 rows")
    assert row(rows, "ETL process peak RSS")["ratio"] == "1.31x (goal < 300 MB: missed)"


def test_the_re_run_on_stock_ansible_is_a_row_beside_mitogen_when_it_ran():
    results = with_hosts()
    results["hosts"] = copy.deepcopy(HOSTS)
    results["hosts"]["rerun"] = {"seconds": 19.0, "changed": {"airflow": 0, "db": 0},
                                 "stock_seconds": 50.0, "stock_changed": {"airflow": 0, "db": 0}}
    _, rows = table(render_markdown(results))
    stock = row(rows, "Mitogen (ansible.cfg) beside stock Ansible")
    assert (stock["measured"], stock["baseline / goal"], stock["ratio"], stock["runs"]) == (
        "19 s", "stock 50 s (changed: airflow=0, db=0)", "0.38x", "1 run each")
    assert len(rows) == 6 + 4
    assert not [f for f in table(render_markdown(with_hosts()))[1] if f.startswith("Mitogen")]  # older runs: none


def test_the_unit_tiers_are_a_row_against_every_unit_test_in_one_run_when_measured():
    results = copy.deepcopy(RESULTS)
    assert not [f for f in table(render_markdown(results))[1] if f.startswith("`unit` + `unit-slow`")]
    results["push_loop"] = {"cold": {"lint_seconds": 70.0, "unit_seconds": 80.0, "total_seconds": 150.0},
                            "warm": {"lint_seconds": 1.5, "unit_seconds": 18.5, "total_seconds": 20.0},
                            "target_seconds": 30.0, "ratio": 20.0 / 30,
                            "tiers": {"slow_seconds": 33.5, "all_seconds": 40.0}}
    tiers = row(table(render_markdown(results))[1], "`unit` + `unit-slow`")
    assert (tiers["measured"], tiers["baseline / goal"], tiers["ratio"]) == (
        "18.5 + 33.5 = 52.0 s", "every unit test in one run (`--tier all`) 40.0 s", "1.30x")
