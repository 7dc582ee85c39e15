"""`make test`'s suite runner: each suite one make call in order, a stop at the first failure, and the time of
each suite beside the 30-minute budget at the end (a fake `make` on PATH records the calls)."""

from __future__ import annotations

import os
import stat

from ci.cli import main


def fake_make(tmp_path, failing: str = "") -> None:
    script = tmp_path / "bin" / "make"
    script.parent.mkdir()
    script.write_text(f'#!/bin/sh\necho "$@" >> {tmp_path}/calls\n'
                      f'case "$*" in *"{failing or "never"}"*) echo "{failing} broke"; exit 2;; esac\n')
    script.chmod(script.stat().st_mode | stat.S_IEXEC)


def test_suites_run_in_order_and_print_each_time_beside_the_budget(tmp_path, monkeypatch, capsys):
    fake_make(tmp_path)
    monkeypatch.setenv("PATH", f"{tmp_path / 'bin'}{os.pathsep}{os.environ['PATH']}")
    assert main(["suites", "lint", "localcloud provision", "etl-tests"]) == 0
    assert (tmp_path / "calls").read_text().splitlines() == [
        "--no-print-directory lint", "--no-print-directory localcloud provision", "--no-print-directory etl-tests"]
    out = capsys.readouterr().out
    assert "suites summary" in out and "  localcloud provision  ok" in out
    assert "x the 30-minute budget" in out.splitlines()[-1]


def test_side_by_side_suites_run_at_once_and_the_second_ones_output_follows_the_first(tmp_path, monkeypatch, capsys):
    script = tmp_path / "bin" / "make"
    script.parent.mkdir()
    # each "suite" waits for the other to have started: run one after the other, they would time out
    script.write_text(f'#!/bin/sh\ntouch {tmp_path}/started-$2\necho "$2 says hello"\n'
                      f'for i in $(seq 50); do [ $(ls {tmp_path} | grep -c started-) = 2 ] && exit 0; sleep 0.1; done\n'
                      f'echo "$2 ran alone"; exit 3\n')
    script.chmod(script.stat().st_mode | stat.S_IEXEC)
    monkeypatch.setenv("PATH", f"{tmp_path / 'bin'}{os.pathsep}{os.environ['PATH']}")
    assert main(["suites", "unit & aws-policy"]) == 0
    out = capsys.readouterr().out
    assert out.index("unit says hello") < out.index("----- aws-policy (ran beside unit) -----\naws-policy says hello")
    assert "  unit        ok" in out and "  aws-policy  ok" in out


def test_a_failing_suite_beside_another_fails_the_run_and_stops_it(tmp_path, monkeypatch, capsys):
    fake_make(tmp_path, failing="aws-policy")
    monkeypatch.setenv("PATH", f"{tmp_path / 'bin'}{os.pathsep}{os.environ['PATH']}")
    assert main(["suites", "unit & aws-policy", "pipeline-tests"]) == 1
    assert sorted((tmp_path / "calls").read_text().splitlines()) == [
        "--no-print-directory aws-policy", "--no-print-directory unit"]
    out = capsys.readouterr().out
    assert "aws-policy broke" in out and "suites failed (1 of 2 steps" in out


def test_the_first_failing_suite_stops_the_run(tmp_path, monkeypatch, capsys):
    fake_make(tmp_path, failing="unit")
    monkeypatch.setenv("PATH", f"{tmp_path / 'bin'}{os.pathsep}{os.environ['PATH']}")
    assert main(["suites", "lint", "unit", "etl-tests"]) == 1
    assert (tmp_path / "calls").read_text().splitlines() == ["--no-print-directory lint", "--no-print-directory unit"]
    assert "suites failed (1 of 2 steps" in capsys.readouterr().out


def test_the_pipeline_suite_starts_with_make_ups_stages_in_make_ups_order():
    """`make test` has no separate `make up`: the pipeline suite's first tests are its stages (one bring-up)."""
    import ast
    import re

    from ci.paths import ROOT

    up_stages = re.search(r"^UP_STAGES := (.*)$", (ROOT / "Makefile").read_text(), re.M).group(1).split()
    suites = re.search(r"^suites:.*\n\t(.*)$", (ROOT / "Makefile").read_text(), re.M).group(1)
    suites = suites.replace("$(UP_STAGES)", " ".join(up_stages)).replace('"', "").replace("&", " ").split()
    # Only the hosts' bring-up may run before the pipeline suite (beside tests/aws, where a core is idle), after
    # lint and unit as in `make up`; the pipeline suite's session fixture then finds the hosts up.
    assert "pipeline-tests" in suites and set(up_stages) & set(suites) <= {"localcloud"}, \
        f"make up's stages run twice: {suites}"
    before = [s for s in suites[:suites.index("pipeline-tests")] if s in ("lint", "unit", "localcloud")]
    assert before == [s for s in ("lint", "unit", "localcloud") if s in before], f"not in make up's order: {suites}"
    module = ast.parse((ROOT / "tests" / "integration" / "test_1_pipeline.py").read_text())
    first_stage_of_each_test = [
        next(c.args[0].value for c in ast.walk(f) if isinstance(c, ast.Call) and getattr(c.func, "id", "") == "ci")
        for f in module.body if isinstance(f, ast.FunctionDef) and f.name.startswith("test_")]
    fixture = (ROOT / "tests" / "integration" / "conftest.py").read_text()
    assert up_stages[0] == "localcloud" and 'ci("localcloud", "up")' in fixture  # the session fixture
    stages = [s for i, s in enumerate(first_stage_of_each_test) if i == 0 or s != first_stage_of_each_test[i - 1]]
    assert stages[:len(up_stages) - 1] == up_stages[1:], f"{first_stage_of_each_test} (consecutive re-runs once)"
