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


def test_the_first_failing_suite_stops_the_run(tmp_path, monkeypatch, capsys):
    fake_make(tmp_path, failing="unit")
    monkeypatch.setenv("PATH", f"{tmp_path / 'bin'}{os.pathsep}{os.environ['PATH']}")
    assert main(["suites", "lint", "unit", "etl-tests"]) == 1
    assert (tmp_path / "calls").read_text().splitlines() == ["--no-print-directory lint", "--no-print-directory unit"]
    assert "suites failed (1 of 2 steps" in capsys.readouterr().out
