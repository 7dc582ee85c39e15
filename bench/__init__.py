"""Benchmarks (`make bench`): each figure is printed beside a baseline measured in the same run."""

import sys

from ci.paths import DAGS

# The ETL library lives beside the DAGs (Airflow puts the DAG folder on sys.path; so do we).
if str(DAGS) not in sys.path:
    sys.path.insert(0, str(DAGS))
