"""What the infra tests share with the smoke stage: ci.host_exec (one place for how code runs on a host)."""

from ci.host_exec import AIRFLOW_HOME, SERVICES, WAREHOUSE_CONNECT, airflow_python, live_tenants

__all__ = ["AIRFLOW_HOME", "SERVICES", "WAREHOUSE_CONNECT", "airflow_python", "live_tenants"]
