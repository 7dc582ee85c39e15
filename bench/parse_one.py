"""Child process of the parse benchmark: import Airflow, parse one DAG file, print JSON timings."""

from __future__ import annotations

import json
import sys
from pathlib import Path

if __name__ == "__main__":
    from ci.dag_integrity import load_dag_file

    loaded = load_dag_file(Path(sys.argv[1]).resolve())
    if loaded.import_error:
        raise SystemExit(f"{sys.argv[1]} does not import:\n{loaded.import_error}")
    print(json.dumps({"parse_seconds": loaded.seconds}))
