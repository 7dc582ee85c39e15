"""Library shared by the DAGs: pure logic, unit tested on its own (tests/unit), no Airflow imports."""
