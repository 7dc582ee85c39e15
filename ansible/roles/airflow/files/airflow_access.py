"""Tenants' Airflow access, converged in the FAB auth manager's tables: run by the airflow role with the runtime's
Python, as the airflow user, with the wanted state as JSON on stdin.

    {"tenants": ["acme", ...],
     "people": {"acme.ana": {"level": "operator", "email": ""}, ...},
     "passwords": {"acme.ana": "...", ...},
     "check": false,
     "state_hash": "<sha256 of tenants, people, passwords and this file>",
     "fingerprint_sql": "<files/access_fingerprint.sql>"}

- Every tenant gets two roles, `tenant_<tenant>_viewer` and `tenant_<tenant>_operator`, holding the permissions
  below and nothing on any DAG: a DAG's own `access_control` (tiny_etl.tenant.Tenant.access_control) gives them
  its DAG-level permissions when the DAG processor parses it, so the roles must exist first (a DAG naming a
  missing role fails to import). Every permission here is global but useless without a DAG-level one: the FAB
  auth manager checks the DAG's own permission beside each (its is_authorized_dag).
- Every person is a user `<tenant>.<name>` with exactly one role, active, with the password from the secret
  store (reset when the store's changes).
- A departed person (a user this script made, or holding a tenant's role, that no tenant file lists any more;
  also every person of a removed tenant) is deactivated and loses every role: the FAB auth manager refuses its
  login at once, and a token it already holds once its user cache lets go ([fab] cache_ttl, 30 s).
  A removed tenant's roles stay, without users: its DAGs, until deploy removes them, still name them (a DAG
  naming a missing role fails to import), and the tenant's file coming back finds them.

After a run that is no check it notes on ab_user `tiny-analytics access: <state_hash>:<the fingerprint query's
digest>`: site.yml skips this script (it takes seconds, loading Airflow) while the note matches both.

Prints `RESULT {"changes": [what changed, no secret]}` as its own line (Airflow's logging shares stdout); with
"check": true, what would change, changing nothing.
Errors go to stderr without any secret, exit 1.
"""

from __future__ import annotations

import json
import re
import sys

RESULT = "airflow_access-result:"
NOTE = "tiny-analytics access: "
LEVELS = ("viewer", "operator")
# A login a tenant file owns: <tenant>.<name> (tiny_etl.tenant's IDENTIFIER and PERSON).
LOGIN = re.compile(r"^([a-z][a-z0-9_]{0,40})\.([a-z][a-z0-9_-]{0,31})$")
# The FAB Viewer role's permissions (the provider's VIEWER_PERMISSIONS) but those that reach beyond the tenant:
# the global DAG read (each tenant reads its DAGs through their access_control), the assets (their names and
# events are every tenant's), the jobs and pools (the platform's hosts and slots); and but the own password's
# (the secret store holds it: configure sets it again, and the drift check would report a change).
VIEWER = {
    ("can_read", "DAG Dependencies"), ("can_read", "DAG Code"), ("can_read", "DAG Runs"),
    ("can_read", "DAG Versions"), ("can_read", "DAG Warnings"), ("can_read", "Backfills"),
    ("can_read", "Cluster Activity"), ("can_read", "ImportError"), ("can_read", "My Profile"),
    ("can_edit", "My Profile"), ("can_read", "SLA Misses"), ("can_read", "Task Instances"),
    ("can_read", "Task Logs"), ("can_read", "XComs"), ("can_read", "HITL Detail"), ("can_read", "Website"),
    ("menu_access", "Browse"), ("menu_access", "DAGs"), ("menu_access", "DAG Dependencies"),
    ("menu_access", "DAG Runs"), ("menu_access", "Cluster Activity"), ("menu_access", "Documentation"),
    ("menu_access", "Docs"), ("menu_access", "SLA Misses"), ("menu_access", "Task Instances"),
}
# An operator also runs, clears and marks: on a DAG it may edit (the DAG-level can_edit is checked beside these).
OPERATOR = VIEWER | {
    ("can_edit", "DAG Runs"), ("can_create", "Task Instances"), ("can_edit", "Task Instances"),
}
PERMISSIONS = {"viewer": VIEWER, "operator": OPERATOR}
# Resources of one DAG: the DAG processor keeps these from the DAG's access_control.
DAG_RESOURCE_PREFIXES = ("DAG:", "DAG Run:")


def role_name(tenant: str, level: str) -> str:
    """The Airflow role of a tenant's people at a level (tiny_etl.tenant.Tenant.airflow_role)."""
    return f"tenant_{tenant}_{level}"


def check_wanted(wanted: dict) -> None:
    """Refuse a malformed state before anything changes (ValueError naming the entry; never a password)."""
    tenants = set(wanted.get("tenants", []))
    for login, person in wanted.get("people", {}).items():
        match = LOGIN.match(login)
        if not match or match.group(1) not in tenants:
            raise ValueError(f"{login}: not <tenant>.<name> of a tenant among {sorted(tenants)}")
        if person.get("level") not in LEVELS:
            raise ValueError(f"{login}: level {person.get('level')!r} is not one of {', '.join(LEVELS)}")
        if not wanted.get("passwords", {}).get(login):
            raise ValueError(f"{login}: no password (provision generates it into the secret store)")
    if not re.fullmatch(r"[0-9a-f]{64}", str(wanted.get("state_hash", ""))):
        raise ValueError("state_hash: not a sha256 digest")


def converge(sm, wanted: dict) -> list[str]:  # noqa: ANN001 - FAB's security manager
    """Plan the changes (and make them unless wanted["check"]); what changed, in words."""
    from werkzeug.security import check_password_hash

    check = bool(wanted.get("check"))
    changed: list[str] = []
    tenants = set(wanted["tenants"])
    people = wanted["people"]
    passwords = wanted["passwords"]

    for tenant in sorted(tenants):
        for level in LEVELS:
            name = role_name(tenant, level)
            role = sm.find_role(name)
            if role is None:
                changed.append(f"role {name} created")
                if check:
                    continue
                role = sm.add_role(name)
            have = {(p.action.name, p.resource.name) for p in role.permissions
                    if not p.resource.name.startswith(DAG_RESOURCE_PREFIXES)}
            for action, resource in sorted(PERMISSIONS[level] - have):
                changed.append(f"role {name}: {action} on {resource} granted")
                if not check:
                    perm = sm.get_permission(action, resource) or sm.create_permission(action, resource)
                    sm.add_permission_to_role(role, perm)
            for perm in [p for p in role.permissions if (p.action.name, p.resource.name) in have - PERMISSIONS[level]]:
                changed.append(f"role {name}: {perm.action.name} on {perm.resource.name} revoked")
                if not check:
                    sm.remove_permission_from_role(role, perm)

    for login, person in sorted(people.items()):
        tenant = LOGIN.match(login).group(1)
        name = role_name(tenant, person["level"])
        email = person.get("email") or f"{login}@tiny-analytics.invalid"
        user = sm.find_user(username=login)
        role = sm.find_role(name)
        if user is None:
            changed.append(f"user {login} created ({name})")
            if not check and not sm.add_user(login, login.split(".", 1)[1], f"({tenant})", email, role,
                                             passwords[login]):
                raise RuntimeError(f"{login}: FAB refused the user (is {email} another user's e-mail?)")
            continue
        fixes = []
        if [r.name for r in user.roles] != [name]:
            fixes.append(f"roles {[r.name for r in user.roles]} -> [{name}]")
        if not user.active:
            fixes.append("activated")
        if user.email != email:
            fixes.append(f"e-mail {user.email} -> {email}")
        password_differs = not check_password_hash(user.password or "", passwords[login])
        if password_differs:
            fixes.append("password set from the secret store")
        if not fixes:
            continue
        changed.append(f"user {login}: {', '.join(fixes)}")
        if check:
            continue
        user.roles, user.active, user.email = [role], True, email
        if not sm.update_user(user) or (password_differs and not sm.reset_password(user.id, passwords[login])):
            raise RuntimeError(f"{login}: FAB refused the update (is {email} another user's e-mail?)")

    # Departed people: a user this script made (its last name is "(<tenant>)") or holding a tenant's role, no
    # longer listed. A user of your own named like a login is left alone.
    for user in sm.get_all_users():
        login = LOGIN.match(user.username)
        ours = login and (user.last_name == f"({login.group(1)})"
                          or any(r.name.startswith("tenant_") for r in user.roles))
        if ours and user.username not in people and (user.active or user.roles):
            changed.append(f"user {user.username}: deactivated, roles {[r.name for r in user.roles]} removed")
            if not check:
                user.active, user.roles = False, []
                if not sm.update_user(user):
                    raise RuntimeError(f"{user.username}: FAB refused to deactivate the user")
    return changed


def leave_note(sm, wanted: dict) -> None:  # noqa: ANN001 - FAB's security manager
    """Note on ab_user the state this run converged to and the digest of what the tables now hold."""
    from sqlalchemy import text

    fingerprint = sm.session.execute(text(wanted["fingerprint_sql"])).one().fingerprint
    # COMMENT takes no parameter; both parts are hexadecimal (checked), so the literal is safe
    sm.session.execute(text(f"COMMENT ON TABLE ab_user IS '{NOTE}{wanted['state_hash']}:{fingerprint}'"))
    sm.session.commit()


def main() -> int:
    """Read the wanted state from stdin, converge, print what changed."""
    try:
        wanted = json.load(sys.stdin)
        check_wanted(wanted)
    except ValueError as exc:
        print(f"airflow_access: {exc}", file=sys.stderr)
        return 1
    from airflow.providers.fab.auth_manager.cli_commands.utils import get_application_builder

    with get_application_builder() as appbuilder:
        try:
            changed = converge(appbuilder.sm, wanted)
            if not wanted.get("check"):
                leave_note(appbuilder.sm, wanted)
        except Exception as exc:  # reported without the state, which holds passwords, and without SQL parameters
            # a database error's own message, not SQLAlchemy's with its parameters (FAB wraps it in FabException)
            cause = getattr(exc, "orig", None) or getattr(exc.__cause__, "orig", None) or exc
            print(f"airflow_access: {type(cause).__name__}: {cause}", file=sys.stderr)
            return 1
    print(RESULT, json.dumps({"changes": changed}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
