"""`python -m ci suites TARGET...`: the suites of `make test`, in order, each one `make` call, stopping at the
first that fails; ends with the time of each suite and the wall-clock total beside the suite's budget, so the
figure the README quotes is printed by every run.

An argument "A & B" runs `make A` and `make B` side by side: A's output is streamed, B's is kept and printed
when both have ended (one readable log), and the group fails when either does. Only suites that share nothing
go side by side (tests/aws runs its own private local cloud), and best a single-core one beside another: this
machine has two cores.
"""

from __future__ import annotations

import argparse
import shlex
import threading
import time

from ci.runner import Stage, StepResult, execute

BUDGET_MINUTES = 30  # the whole `make test` on the reference machine (2 cores), installs included


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The make targets, in order; one argument may name several targets, run as one make call."""
    parser.add_argument("targets", nargs="+",
                        help='make targets, e.g. lint "unit etl-tests & aws-policy" pipeline-tests ...')


def _make(target: str) -> list[str]:
    return ["make", "--no-print-directory", *shlex.split(target)]


def _side_by_side(stage: Stage, group: list[str]) -> bool:
    """The first target streamed, the others at the same time with their output shown after it."""
    side: list[tuple[str, int, str, float]] = []

    def run(target: str) -> None:
        side.append((target, *execute(_make(target))))

    threads = [threading.Thread(target=run, args=(t,), name=t) for t in group[1:]]
    for thread in threads:
        print(f"> {thread.name}: {' '.join(_make(thread.name))} (beside {group[0]}; its output follows it)",
              flush=True)
        thread.start()
    first = stage.command(group[0], _make(group[0]), stream=True)
    for thread in threads:
        thread.join()
    ok = first.ok
    for target, code, output, seconds in sorted(side, key=lambda s: group.index(s[0])):
        print(f"\n----- {target} (ran beside {group[0]}) -----\n{output}", end="", flush=True)
        reason = "" if code == 0 else f"{target} exited with {code}"
        stage.record(StepResult(target, code == 0, seconds, reason, output), show_output=False)
        ok = ok and code == 0
    return ok


def run(args: argparse.Namespace) -> int:
    """Each target (or side-by-side group) as a streamed step; the stage's summary is the per-suite table."""
    stage = Stage("suites")
    started = time.monotonic()
    for target in args.targets:
        group = [t.strip() for t in target.split("&") if t.strip()]
        ok = _side_by_side(stage, group) if len(group) > 1 else stage.command(target, _make(target), stream=True).ok
        if not ok:
            break
    code = stage.finish()
    minutes = (time.monotonic() - started) / 60
    print(f"suites took {minutes:.1f} min: {minutes / BUDGET_MINUTES:.2f}x the {BUDGET_MINUTES}-minute budget")
    return code
