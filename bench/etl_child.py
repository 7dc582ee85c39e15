"""Child of the load benchmark: raw CSV file -> validate -> transform -> COPY + partition swap.

Prints JSON: seconds per step and the process's peak RSS (so the parent's memory does not count).
"""

from __future__ import annotations

import datetime as dt
import json
import resource
import sys
import time
from pathlib import Path

import psycopg2

from ci.paths import DAGS
from tiny_etl.load import replace_day
from tiny_etl.tenant import load_tenant
from tiny_etl.transform import transform
from tiny_etl.validate import validate

if __name__ == "__main__":
    raw_file, dsn, day = Path(sys.argv[1]), sys.argv[2], dt.date.fromisoformat(sys.argv[3])
    tenant = load_tenant(DAGS / "tenants" / "acme.yml")
    source = tenant.sources[0]
    t0 = time.perf_counter()
    checked = validate(raw_file, source)  # streamed from the file
    t1 = time.perf_counter()
    rss = {"after_validate": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}
    rows, _ = transform(checked.valid, source, day)
    rss["after_transform"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    del checked
    t2 = time.perf_counter()
    conn = psycopg2.connect(dsn)
    loaded = replace_day(conn, tenant, source, day, rows)
    t3 = time.perf_counter()
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"validate": t1 - t0, "transform": t2 - t1, "load": t3 - t2, "total": t3 - t0,
                      "rows_loaded": loaded, "peak_rss_by_step_mb": rss, "peak_rss_mb": peak}))
