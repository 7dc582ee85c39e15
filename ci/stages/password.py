"""`python -m ci password --env ENV [--login TENANT.NAME]`: an Airflow password, read from the secret store: the
admin's, or a tenant's person's (its login as in the tenant file's `people`: `<tenant>.<name>`).

It is printed to the terminal that asked for it and nowhere else (no report, no log file).
"""

from __future__ import annotations

import argparse

from ci.platform import Platform, PlatformError


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Whose password."""
    parser.add_argument("--login", default="admin", help="admin (the default) or a person's <tenant>.<name>")


def secret_name(login: str) -> str:
    """The outputs' name of a login's password: the admin's, or airflow_user_<tenant>.<name>_password."""
    return "airflow_admin_password" if login == "admin" else f"airflow_user_{login}_password"


def run(args: argparse.Namespace) -> int:
    """Print the password, or why it cannot be read."""
    try:
        platform = Platform.load(args.env)
        name = secret_name(args.login)
        if name not in platform.outputs.get("parameters", {}):
            print(f"password failed: {args.env} has no login {args.login!r}: a person is <tenant>.<name> of a "
                  f"tenant file's people, made by `make provision ENV={args.env}`")
            return 1
        print(platform.secret(name))
    except PlatformError as exc:
        print(f"password failed: {exc}")
        return 1
    return 0
