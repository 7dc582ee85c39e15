"""The goals the benchmark figures are held to, and the verdict a figure earns against one."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Goal:
    """An upper bound a figure must stay under (`inclusive`: equal to the limit still meets it)."""

    limit: float
    unit: str  # printed right after the number: "x", " s", " MB"
    inclusive: bool = True

    def text(self) -> str:
        """The goal as written in the report, e.g. `<= 2x` or `< 300 MB`."""
        return f"{'<=' if self.inclusive else '<'} {self.limit:g}{self.unit}"

    def met(self, value: float) -> bool:
        """Whether value meets the goal."""
        return value <= self.limit if self.inclusive else value < self.limit

    def verdict(self, value: float, name: str = "goal") -> str:
        """`goal <= 2x: met` or `goal <= 2x: missed`, from comparing value with the limit."""
        return f"{name} {self.text()}: {'met' if self.met(value) else 'missed'}"


# What a data engineer expects of a push: lint + unit within 30 s, warm (the checks' cache of the last run).
PUSH_LOOP = Goal(30, " s")
# The ETL load path against a plain `psql \copy` of the same rows, and the ETL process's peak memory.
ETL_RATIO = Goal(2, "x")
ETL_PEAK_RSS = Goal(300, " MB", inclusive=False)
# The local default's hosts: the warm pipeline after lint + unit, and the idempotent site.yml re-run.
WARM_PIPELINE = Goal(300, " s", inclusive=False)
SITE_RERUN = Goal(20, " s")


def goals_record(dag_parse_budget_seconds: float) -> dict[str, dict]:
    """Every goal of a run, as stored in results.json (so a report renders with the goals it was run with)."""
    goals = {"dag_parse": Goal(dag_parse_budget_seconds, " s"), "push_loop": PUSH_LOOP, "etl_ratio": ETL_RATIO,
             "etl_peak_rss": ETL_PEAK_RSS, "warm_pipeline": WARM_PIPELINE, "site_rerun": SITE_RERUN}
    return {name: {"limit": g.limit, "unit": g.unit, "inclusive": g.inclusive} for name, g in goals.items()}
