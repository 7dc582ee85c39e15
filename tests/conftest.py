"""Test environment: a throwaway AIRFLOW_HOME and reports folder, no examples, full tracebacks. Set before Airflow
imports."""

import os
import tempfile

_home = tempfile.mkdtemp(prefix="tiny-airflow-home-")
# Every stage a test runs (in-process or as `python -m ci ...`) reports here, never into reports/: that folder
# holds only what the real stages wrote, because Jenkins publishes it.
os.environ["TINY_REPORTS_DIR"] = tempfile.mkdtemp(prefix="tiny-test-reports-")
os.environ.setdefault("AIRFLOW_HOME", _home)
os.environ.setdefault("AIRFLOW__CORE__LOAD_EXAMPLES", "False")
os.environ.setdefault("AIRFLOW__CORE__UNIT_TEST_MODE", "True")
# dag.test() serializes DAGs from the dags-folder bundle: the repository's DAGs.
os.environ.setdefault("AIRFLOW__CORE__DAGS_FOLDER", os.path.join(os.path.dirname(os.path.dirname(__file__)), "dags"))
# DagBag keeps only the last N traceback frames; keep enough to reach the DAG file's own frame.
os.environ.setdefault("AIRFLOW__CORE__DAGBAG_IMPORT_ERROR_TRACEBACK_DEPTH", "50")
# No test reaches real AWS: without credentials the SDK must not ask an instance metadata service either.
os.environ.setdefault("AWS_EC2_METADATA_DISABLED", "true")
