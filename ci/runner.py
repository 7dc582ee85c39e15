"""Stage runner: runs a stage's steps, prints each with its duration, writes JUnit XML, sums up.

Every stage (`python -m ci lint`, `unit`, ...) is a list of steps run through one `Stage`, so Jenkins,
CI and a laptop see the same progress lines, the same `reports/<stage>.xml` and the same exit codes.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
import xml.etree.ElementTree as ET
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from ci.paths import ROOT, reports_dir
from ci.processes import end_group

OUTPUT_TAIL_LINES = 60
INTERRUPT_GRACE = 30.0  # s a command gets after Ctrl-C to stop cleanly (pytest runs its fixtures' teardown)
TERM_GRACE = 10.0  # s more after SIGTERM, before SIGKILL


class StepFailed(Exception):
    """Raised by a step function: its message is the one-line reason shown to the user."""


@dataclass
class StepResult:
    """What one step did."""

    name: str
    ok: bool
    seconds: float
    reason: str = ""
    output: str = ""


@dataclass(frozen=True)
class Command:
    """One external command of a stage, for steps run side by side."""

    name: str
    argv: Sequence[str]
    env: dict[str, str] | None = None


def execute(argv: Sequence[str], env: dict[str, str] | None = None, cwd: Path = ROOT) -> tuple[int, str, float]:
    """(exit code, output, seconds) of one command, its output captured."""
    start = time.monotonic()
    proc = subprocess.run(list(argv), cwd=cwd, env={**os.environ, **(env or {})}, text=True, check=False,
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    return proc.returncode, proc.stdout, time.monotonic() - start


def _paint(text: str, colour: str) -> str:
    codes = {"green": "32", "red": "31", "dim": "2", "bold": "1"}
    if not sys.stdout.isatty() or os.environ.get("NO_COLOR"):
        return text
    return f"\033[{codes[colour]}m{text}\033[0m"


@dataclass
class Stage:
    """One pipeline stage: a named sequence of steps and their results."""

    name: str
    reports_dir: Path = field(default_factory=reports_dir)
    results: list[StepResult] = field(default_factory=list)

    def record(self, result: StepResult, *, show_output: bool) -> StepResult:
        """Add a step that ran elsewhere (e.g. beside another); a failure's output tail is shown if asked."""
        self.results.append(result)
        mark = _paint("ok", "green") if result.ok else _paint("FAILED", "red")
        print(f"  {mark} {result.name} ({result.seconds:.1f}s)", flush=True)
        if not result.ok:
            if show_output and result.output.strip():
                tail = result.output.rstrip().splitlines()[-OUTPUT_TAIL_LINES:]
                print("\n".join(f"    {line}" for line in tail), flush=True)
            print(f"    reason: {result.reason}", flush=True)
        return result

    def command(
        self,
        name: str,
        argv: Sequence[str],
        *,
        env: dict[str, str] | None = None,
        stream: bool = False,
        cwd: Path = ROOT,
        interrupt_grace: float = INTERRUPT_GRACE,
    ) -> StepResult:
        """Run one external command as a step; `stream` shows its output live (long steps). On Ctrl-C the
        command gets `interrupt_grace` seconds to stop cleanly before it is stopped harder."""
        print(_paint(f"> {name}: {' '.join(argv)}", "dim"), flush=True)
        start = time.monotonic()
        full_env = {**os.environ, **(env or {})}
        try:  # in a session of its own, so that Ctrl-C here ends all of it, and only then this stage
            proc = subprocess.Popen(
                list(argv), cwd=cwd, env=full_env, text=True, start_new_session=True,
                stdout=subprocess.PIPE, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
            )
        except FileNotFoundError:
            reason = f"{argv[0]} is not installed (run `make venv` / `make tools`)"
            return self.record(StepResult(name, False, 0.0, reason), show_output=False)
        lines = []
        assert proc.stdout is not None
        try:
            for line in proc.stdout:
                lines.append(line)
                if stream:
                    print(line, end="", flush=True)
            code = proc.wait()
        except KeyboardInterrupt:
            needed = end_group(proc, interrupt_grace, TERM_GRACE)
            if needed:
                print(f"{name}: still running {interrupt_grace:.0f} s after the interrupt: sent {', '.join(needed)}",
                      file=sys.stderr, flush=True)
            raise
        output = "".join(lines)
        reason = "" if code == 0 else f"{name} exited with {code}"
        result = StepResult(name, code == 0, time.monotonic() - start, reason, output)
        return self.record(result, show_output=not stream)

    def commands(self, commands: Sequence[Command], workers: int = 2, cwd: Path = ROOT) -> list[StepResult]:
        """Independent commands side by side (at most `workers` at once), each a step with its own duration;
        results are recorded, and a failure's output shown, in the order given."""
        for command in commands:
            print(_paint(f"> {command.name}: {' '.join(command.argv)}", "dim"), flush=True)

        def one(command: Command) -> tuple[int, str, float]:
            try:
                return execute(command.argv, command.env, cwd)
            except FileNotFoundError:
                return -1, f"{command.argv[0]} is not installed (run `make venv` / `make tools`)", 0.0

        with ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
            outcomes = list(pool.map(one, commands))
        results = []
        for command, (code, output, seconds) in zip(commands, outcomes, strict=True):
            reason = "" if code == 0 else (output if code == -1 else f"{command.name} exited with {code}")
            results.append(self.record(StepResult(command.name, code == 0, seconds, reason, output),
                                        show_output=code not in (0, -1)))
        return results

    def cached(self, name: str, why: str) -> StepResult:
        """Record a step that did not need to run (e.g. its inputs are those of its last pass)."""
        print(_paint(f"> {name}: {why}", "dim"), flush=True)
        return self.record(StepResult(name, True, 0.0, output=why), show_output=False)

    def call(self, name: str, fn: Callable[[], str | None]) -> StepResult:
        """Run a Python step; it fails by raising StepFailed, and may return text to record."""
        print(_paint(f"> {name}", "dim"), flush=True)
        start = time.monotonic()
        try:
            output = fn() or ""
            result = StepResult(name, True, time.monotonic() - start, output=output)
        except StepFailed as exc:
            message = str(exc)
            result = StepResult(name, False, time.monotonic() - start, message.splitlines()[0], message)
        return self.record(result, show_output=True)

    def fail(self, name: str, reason: str) -> StepResult:
        """Record a step that could not run at all (a missing prerequisite), with its reason."""
        return self.record(StepResult(name, False, 0.0, reason), show_output=False)

    def refuse(self, name: str, reason: str) -> int:
        """Stop before any work (a missing prerequisite, bad input) the one way every stage fails: a failed
        step with its reason, the summary line, the JUnit report, exit 1."""
        self.fail(name, reason)
        return self.finish()

    def write_junit(self) -> Path:
        """Write reports/<stage>.xml, one testcase per step (read by Jenkins' `junit` step)."""
        self.reports_dir.mkdir(parents=True, exist_ok=True)
        suite = ET.Element(
            "testsuite",
            name=f"ci.{self.name}",
            tests=str(len(self.results)),
            failures=str(sum(not r.ok for r in self.results)),
            time=f"{sum(r.seconds for r in self.results):.3f}",
        )
        for r in self.results:
            case = ET.SubElement(suite, "testcase", classname=f"ci.{self.name}", name=r.name, time=f"{r.seconds:.3f}")
            if not r.ok:
                ET.SubElement(case, "failure", message=r.reason).text = r.output
            elif r.output:
                ET.SubElement(case, "system-out").text = r.output
        path = self.reports_dir / f"{self.name}.xml"
        ET.ElementTree(suite).write(path, encoding="utf-8", xml_declaration=True)
        return path

    def finish(self) -> int:
        """Print the summary table and the one-line verdict; return the process exit code."""
        self.write_junit()
        width = max([len(r.name) for r in self.results] + [4])
        print(f"\n{self.name} summary")
        print(f"  {'step'.ljust(width)}  result  seconds")
        for r in self.results:
            print(f"  {r.name.ljust(width)}  {'ok' if r.ok else 'FAILED':6}  {r.seconds:7.1f}")
        total = sum(r.seconds for r in self.results)
        failed = [r for r in self.results if not r.ok]
        if failed:
            reasons = "; ".join(r.reason.splitlines()[0] for r in failed)
            summary = f"{self.name} failed ({len(failed)} of {len(self.results)} steps, {total:.1f}s): {reasons}"
            print(_paint(summary, "red"))
            return 1
        print(_paint(f"{self.name} passed ({len(self.results)} steps, {total:.1f}s)", "green"))
        return 0
