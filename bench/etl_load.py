"""Load-path benchmark: N generated rows through validate -> transform -> load, against `psql \\copy` of
the same final rows into the same kind of table (a day partition with the same key), same cluster, same run.

Two cases, each with its own baseline: CSV (acme's orders) and JSON lines (globex's shipments).
"""

from __future__ import annotations

import datetime as dt
import io
import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import psycopg2
import pyarrow.csv as pacsv

from ci import pgcluster
from ci.paths import DAGS, ROOT
from ci.sample_data import acme_orders_csv, globex_shipments_jsonl
from tiny_etl.load import table_ddl
from tiny_etl.tenant import load_tenant
from tiny_etl.transform import transform
from tiny_etl.validate import validate

DAY = dt.date(2026, 11, 24)


@dataclass(frozen=True)
class Case:
    """One file format through the ETL: whose tenant file, and the clean raw file of N rows it delivers."""

    tenant: str
    raw_name: str
    raw: Callable[[int], bytes]


CASES = {
    "csv": Case("acme", "orders.csv", lambda rows: acme_orders_csv(DAY, rows, bad=0, duplicates=0)),
    "jsonl": Case("globex", "shipments.jsonl", lambda rows: globex_shipments_jsonl(DAY, rows, bad=0)),
}


def load_figure(rows: int, fmt: str = "csv") -> dict:
    """Time the ETL path (child process, with its peak RSS) and the plain COPY baseline for one format."""
    case = CASES[fmt]
    tenant = load_tenant(DAGS / "tenants" / f"{case.tenant}.yml")
    source = tenant.sources[0]
    with tempfile.TemporaryDirectory(prefix="bench-etl-") as tmp:
        raw = Path(tmp) / case.raw_name
        raw.write_bytes(case.raw(rows))
        final = Path(tmp) / "final.csv"
        out = io.BytesIO()
        pacsv.write_csv(transform(validate(raw, source, tenant.timezone).valid, source, DAY)[0], out,
                        write_options=pacsv.WriteOptions(include_header=True))
        final.write_bytes(out.getvalue())
        del out
        cluster = pgcluster.start(Path(tmp) / "pg")
        try:
            with psycopg2.connect(cluster.dsn) as conn, conn.cursor() as cur:
                cur.execute(f"CREATE SCHEMA {tenant.schema}")  # an environment's is made by rds_bootstrap
            env = {**os.environ, "PYTHONPATH": f"{ROOT}{os.pathsep}{DAGS}"}
            proc = subprocess.run([sys.executable, "-m", "bench.etl_child", str(raw), cluster.dsn, DAY.isoformat(),
                                   case.tenant], cwd=ROOT, env=env, capture_output=True, text=True, check=False)
            if proc.returncode != 0:
                raise SystemExit(f"bench: the {fmt} ETL child failed:\n{proc.stderr[-3000:]}")
            etl = json.loads(proc.stdout.strip().splitlines()[-1])
            header = final.read_text().split("\n", 1)[0].replace('"', "")
            with psycopg2.connect(cluster.dsn) as conn, conn.cursor() as cur:
                cur.execute(table_ddl(tenant, source).replace(f".{source.table} (", ".plain_copy (", 1)
                            .replace("PARTITION BY LIST (ds)", ""))
            start = time.perf_counter()
            copy = f"\\copy {tenant.schema}.plain_copy ({header}) FROM '{final}' WITH (FORMAT csv, HEADER true)"
            subprocess.run([pgcluster.pg_bin("psql"), cluster.dsn, "-v", "ON_ERROR_STOP=1", "-q", "-c", copy],
                           check=True, capture_output=True)
            baseline = time.perf_counter() - start
        finally:
            cluster.stop()
    return {"format": fmt, "tenant": case.tenant, "rows": rows, "etl_seconds": etl["total"],
            "steps": {k: etl[k] for k in ("validate", "transform", "load")},
            "plain_copy_seconds": baseline, "ratio": etl["total"] / baseline, "peak_rss_mb": etl["peak_rss_mb"],
            "rows_loaded": etl["rows_loaded"], "peak_rss_by_step_mb": etl["peak_rss_by_step_mb"]}


if __name__ == "__main__":
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000
    formats = sys.argv[2:] or list(CASES)
    print(json.dumps({fmt: load_figure(count, fmt) for fmt in formats}, indent=2))
