"""The stage runner: step results, JUnit XML, summary and exit codes."""

from __future__ import annotations

import sys
import xml.etree.ElementTree as ET

from ci.runner import Stage, StepFailed


def _failing() -> None:
    raise StepFailed("3 problems\nfirst\nsecond")


def test_passing_stage_exits_zero_and_writes_junit(tmp_path, capsys):
    stage = Stage("demo", reports_dir=tmp_path)
    stage.command("echo", [sys.executable, "-c", "print('hello')"])
    stage.call("python step", lambda: "fine")
    assert stage.finish() == 0
    out = capsys.readouterr().out
    assert "demo passed (2 steps" in out
    suite = ET.parse(tmp_path / "demo.xml").getroot()
    assert suite.get("tests") == "2" and suite.get("failures") == "0"
    assert [c.get("name") for c in suite.iter("testcase")] == ["echo", "python step"]


def test_failing_steps_give_one_line_reason_and_junit_failures(tmp_path, capsys):
    stage = Stage("demo", reports_dir=tmp_path)
    stage.command("exit3", [sys.executable, "-c", "import sys; print('boom'); sys.exit(3)"])
    stage.call("checker", _failing)
    stage.command("ok", [sys.executable, "-c", "pass"])
    assert stage.finish() == 1
    out = capsys.readouterr().out
    assert "boom" in out  # the failing command's output is shown
    verdict = out.strip().splitlines()[-1]
    assert verdict.startswith("demo failed (2 of 3 steps")
    assert "exit3 exited with 3; 3 problems" in verdict
    failures = ET.parse(tmp_path / "demo.xml").getroot().findall(".//failure")
    assert [f.get("message") for f in failures] == ["exit3 exited with 3", "3 problems"]


def test_missing_program_is_a_clear_failure(tmp_path):
    stage = Stage("demo", reports_dir=tmp_path)
    result = stage.command("nope", ["/nonexistent/tool"])
    assert not result.ok and "is not installed" in result.reason


def test_commands_side_by_side_are_recorded_in_order_with_their_own_results(tmp_path, capsys):
    from ci.runner import Command

    stage = Stage("demo", reports_dir=tmp_path)
    started = tmp_path / "started"
    # The first waits until the second has started: it passes only if both run at the same time.
    wait = (f"import pathlib, time, sys\nfor _ in range(300):\n    if pathlib.Path({str(started)!r}).exists(): "
            "sys.exit(0)\n    time.sleep(0.05)\nsys.exit(4)")
    results = stage.commands([Command("waits", [sys.executable, "-c", wait]),
                              Command("starts", [sys.executable, "-c", f"open({str(started)!r}, 'w'); print('x')"]),
                              Command("breaks", [sys.executable, "-c", "import sys; print('boom'); sys.exit(3)"])])
    assert [(r.name, r.ok) for r in results] == [("waits", True), ("starts", True), ("breaks", False)]
    assert stage.finish() == 1
    out = capsys.readouterr().out
    assert "boom" in out and "reason: breaks exited with 3" in out
