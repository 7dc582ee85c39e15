"""Child of the load benchmark: raw file -> validate -> transform -> COPY + partition swap, for one tenant's
first source (acme: CSV, globex: JSON lines).

`python -m bench.etl_child RAW_FILE DSN DAY TENANT` prints JSON: seconds per step and the process's peak RSS
(so the parent's memory does not count).
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


def peak_rss_mb() -> float:
    """This process's peak resident set so far, in MB: VmHWM of its own address space. Not ru_maxrss: Linux
    keeps that across execve, so a child started by a parent that held 900 MB reported 900 MB itself."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


if __name__ == "__main__":
    raw_file, dsn, day, name = Path(sys.argv[1]), sys.argv[2], dt.date.fromisoformat(sys.argv[3]), sys.argv[4]
    tenant = load_tenant(DAGS / "tenants" / f"{name}.yml")
    source = tenant.sources[0]
    t0 = time.perf_counter()
    checked = validate(raw_file, source, tenant.timezone)  # streamed from the file
    t1 = time.perf_counter()
    rss = {"after_validate": peak_rss_mb()}
    rows, _ = transform(checked.valid, source, day)
    rss["after_transform"] = peak_rss_mb()
    del checked
    t2 = time.perf_counter()
    conn = psycopg2.connect(dsn)
    loaded = replace_day(conn, tenant, source, day, rows)
    t3 = time.perf_counter()
    print(json.dumps({"validate": t1 - t0, "transform": t2 - t1, "load": t3 - t2, "total": t3 - t0,
                      "rows_loaded": loaded, "peak_rss_by_step_mb": rss, "peak_rss_mb": peak_rss_mb()}))
