"""The DAGs' warehouse connection carries the connection's TLS settings to libpq: psycopg2 takes no
connection extra by itself, and libpq's default sslmode (prefer) accepts any server certificate."""

from __future__ import annotations

import json

import psycopg2
import pytest

from tiny_etl import airflow_io


@pytest.fixture
def connected(monkeypatch) -> dict:
    """The keyword arguments psycopg2.connect receives."""
    seen: dict = {}
    monkeypatch.setattr(psycopg2, "connect", lambda **kwargs: seen.update(kwargs) or object())
    return seen


def test_verify_full_and_its_ca_reach_libpq(monkeypatch, connected):
    monkeypatch.setenv("AIRFLOW_CONN_WAREHOUSE_ACME", json.dumps({
        "conn_type": "postgres", "host": "db.example", "port": 5432, "schema": "warehouse", "login": "etl_acme",
        "password": "x", "extra": {"sslmode": "verify-full", "sslrootcert": "/etc/ssl/tiny-analytics/db-ca.pem"}}))
    airflow_io.warehouse_connection("warehouse_acme")
    assert connected["sslmode"] == "verify-full"
    assert connected["sslrootcert"] == "/etc/ssl/tiny-analytics/db-ca.pem"
    assert connected["host"] == "db.example" and connected["user"] == "etl_acme"


def test_extras_that_are_not_tls_settings_stay_out(monkeypatch, connected):
    monkeypatch.setenv("AIRFLOW_CONN_WAREHOUSE", json.dumps({
        "conn_type": "postgres", "host": "db.example", "login": "etl", "password": "x",
        "extra": {"cursor": "dictcursor", "sslmode": "require"}}))
    airflow_io.warehouse_connection("warehouse")
    assert connected["sslmode"] == "require" and "cursor" not in connected and "sslrootcert" not in connected


def test_code_run_on_the_hosts_reads_tls_settings_without_the_live_release(monkeypatch, connected):
    """Smoke and verify open the warehouse on the host with the same reading of the TLS settings, sent with the
    code: a live release built before tiny_etl/libpq.py existed (after a rollback) has no such module."""
    from ci.host_exec import WAREHOUSE_CONNECT

    assert "current/dags" not in WAREHOUSE_CONNECT and "import tiny_etl" not in WAREHOUSE_CONNECT
    monkeypatch.setenv("AIRFLOW_CONN_WAREHOUSE", json.dumps({
        "conn_type": "postgres", "host": "db.example", "login": "etl", "schema": "warehouse",
        "extra": {"sslmode": "verify-full", "sslrootcert": "/etc/ssl/tiny-analytics/db-ca.pem", "x": "y"}}))
    exec(compile("DB = 'airflow'\ntry:\n" + "".join(f"    {line}\n" for line in WAREHOUSE_CONNECT.splitlines())
                 + "finally:\n    pass\n", "host-code", "exec"), {})
    assert (connected["sslmode"], connected["sslrootcert"], connected["dbname"]) == (
        "verify-full", "/etc/ssl/tiny-analytics/db-ca.pem", "airflow")
    assert "x" not in connected
