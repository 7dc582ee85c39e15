"""libpq settings of an Airflow connection that psycopg2 does not read by itself (no Airflow import here, so
the tools that run code on the hosts use the same reading as the DAGs)."""

from __future__ import annotations

# The connection extra's keys that are libpq TLS settings (libpq's own parameter names).
LIBPQ_TLS_KEYS = ("sslmode", "sslrootcert", "sslcert", "sslkey", "sslcrl")


def tls_settings(extra: dict) -> dict[str, str]:
    """The libpq TLS settings of a connection's extra (sslmode=verify-full and its CA file, as the platform
    writes them): psycopg2 takes no extra by itself, and libpq's own default (prefer) verifies nothing."""
    return {key: str(extra[key]) for key in LIBPQ_TLS_KEYS if extra.get(key)}
