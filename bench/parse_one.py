"""Child process of the parse benchmark: import Airflow, parse one DAG file, print JSON timings."""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

if __name__ == "__main__":
    start = time.perf_counter()
    from ci.dag_integrity import load_dag_file

    loaded = load_dag_file(Path(sys.argv[1]).resolve())
    print(json.dumps({"parse_seconds": loaded.seconds, "process_seconds": time.perf_counter() - start,
                      "import_error": loaded.import_error}))
