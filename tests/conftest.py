"""Test environment: a throwaway AIRFLOW_HOME, no examples, full tracebacks. Set before Airflow imports."""

import os
import tempfile

_home = tempfile.mkdtemp(prefix="tiny-airflow-home-")
os.environ.setdefault("AIRFLOW_HOME", _home)
os.environ.setdefault("AIRFLOW__CORE__LOAD_EXAMPLES", "False")
os.environ.setdefault("AIRFLOW__CORE__UNIT_TEST_MODE", "True")
# dag.test() serializes DAGs from the dags-folder bundle: the repository's DAGs.
os.environ.setdefault("AIRFLOW__CORE__DAGS_FOLDER", os.path.join(os.path.dirname(os.path.dirname(__file__)), "dags"))
# DagBag keeps only the last N traceback frames; keep enough to reach the DAG file's own frame.
os.environ.setdefault("AIRFLOW__CORE__DAGBAG_IMPORT_ERROR_TRACEBACK_DEPTH", "50")
