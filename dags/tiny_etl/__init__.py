"""Library shared by the DAGs, unit tested on its own (tests/unit). Only `airflow_io` (hooks) and `assets`
import Airflow; the rest is plain Python and pyarrow, imported by tasks at run time, not at parse time."""
