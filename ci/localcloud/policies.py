"""How AWS decides a request against a policy, for the local cloud: a bucket policy, a role's trust policy, or
the policies a role holds (moto ignores the conditions of the last two, see ci.localcloud.moto_server).

"An explicit deny in any policy overrides any allows" (IAM User Guide, Policy evaluation logic): the decision is
"deny" when a Deny statement applies, "allow" when only Allow statements do, else "neutral". A statement applies
when its action, resource, principal and every condition match. Where this evaluator cannot tell (a principal
it does not know the caller to be, an operator it does not know, a key the request does not carry) it leans
strict: a Deny applies and an Allow does not. No moto import: the unit tests load it alone.
"""

from __future__ import annotations

import re
from collections.abc import Callable


def _listed(value: str | list[str]) -> list[str]:
    return value if isinstance(value, list) else [value]


def _wildcard(pattern: str, value: str, *, case_sensitive: bool = True) -> bool:
    """IAM's wildcards: `*` any run of characters, `?` one; everything else literal (brackets too)."""
    regex = re.escape(pattern).replace(r"\*", ".*").replace(r"\?", ".")
    return re.fullmatch(regex, value, 0 if case_sensitive else re.IGNORECASE) is not None


def _matches(patterns: str | list[str], value: str, *, case_sensitive: bool) -> bool:
    return any(_wildcard(p, value, case_sensitive=case_sensitive) for p in _listed(patterns))


# IAM User Guide, "IAM JSON policy elements: Condition operators".
OPERATORS: dict[str, Callable[[list[str], str], bool]] = {
    "Bool": lambda expected, actual: actual.lower() in (v.lower() for v in expected),
    "StringEquals": lambda expected, actual: actual in expected,
    "StringNotEquals": lambda expected, actual: actual not in expected,
    "StringLike": lambda expected, actual: any(_wildcard(v, actual) for v in expected),
    "StringNotLike": lambda expected, actual: not any(_wildcard(v, actual) for v in expected),
}


def _condition_met(conditions: dict, context: dict[str, str], *, strict_when_unknown: bool) -> bool:
    # Condition key names are case-insensitive (IAM User Guide, IAM JSON policy elements: Condition).
    context = {k.lower(): v for k, v in context.items()}
    for operator, tests in conditions.items():
        compare = OPERATORS.get(operator)
        for key, expected in tests.items():
            actual = context.get(key.lower())
            if compare is None or actual is None:
                if not strict_when_unknown:
                    return False
                continue
            if not compare([str(v) for v in _listed(expected)], actual):
                return False
    return True


def _names_caller(principal: object, callers: frozenset[str] | None) -> bool:
    """Whether a resource policy's Principal names the caller: everyone, or one of the caller's ARNs (a role's ARN
    names its sessions too: IAM User Guide, "AWS JSON policy elements: Principal", Role sessions)."""
    if callers is None:  # an identity's own policy: it applies to the identity holding it
        return True
    if principal == "*":
        return True
    listed = _listed(principal.get("AWS", [])) if isinstance(principal, dict) else []
    return "*" in listed or bool(callers.intersection(listed))


def _applies(statement: dict, action: str, resource: str, context: dict[str, str],
             callers: frozenset[str] | None, trust_policy: bool) -> bool:
    deny = statement.get("Effect") == "Deny"
    if "NotAction" in statement:
        action_ok = not _matches(statement["NotAction"], action, case_sensitive=False)
    else:
        action_ok = _matches(statement.get("Action", []), action, case_sensitive=False)
    if "NotResource" in statement:
        resource_ok = not _matches(statement["NotResource"], resource, case_sensitive=True)
    else:
        resource_ok = _matches(statement.get("Resource", []), resource, case_sensitive=True)
    if trust_policy:  # it has no Resource: its resource is the role holding it
        resource_ok = True
    return (action_ok and resource_ok and (deny or _names_caller(statement.get("Principal"), callers))
            and _condition_met(statement.get("Condition", {}), context, strict_when_unknown=deny))


def decide(policy: dict | list[dict], action: str, resource: str, context: dict[str, str],
           callers: frozenset[str] | None = frozenset(), *, trust_policy: bool = False) -> str:
    """"deny", "allow" or "neutral" for `action` on `resource` with the request's condition keys, over one policy
    or several (an identity's). `callers`: the caller's ARNs for a resource policy (empty: the caller is not
    known, so only statements for everyone allow), None for the caller's own policies. `trust_policy`: a role's
    trust policy, whose statements name no resource."""
    statements = [s for p in _listed(policy) for s in _listed(p.get("Statement", []))
                  if _applies(s, action, resource, context, callers, trust_policy)]
    if any(s.get("Effect") == "Deny" for s in statements):
        return "deny"
    return "allow" if statements else "neutral"
