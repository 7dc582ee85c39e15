"""How S3 decides a request against a bucket policy, for the local cloud (moto's own check is for trust policies).

"An explicit deny in any policy overrides any allows" (IAM User Guide, Policy evaluation logic): the decision is
"deny" when a Deny statement applies, "allow" when only Allow statements do, else "neutral". A statement applies
when its action, resource, principal and every condition match. Where this evaluator cannot tell (a principal
other than everyone, an operator it does not know, a key the request does not carry) it leans strict: a Deny
applies and an Allow does not. No moto import: the unit tests load it alone.
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


def _applies(statement: dict, action: str, resource: str, context: dict[str, str]) -> bool:
    deny = statement.get("Effect") == "Deny"
    if "NotAction" in statement:
        action_ok = not _matches(statement["NotAction"], action, case_sensitive=False)
    else:
        action_ok = _matches(statement.get("Action", []), action, case_sensitive=False)
    if "NotResource" in statement:
        resource_ok = not _matches(statement["NotResource"], resource, case_sensitive=True)
    else:
        resource_ok = _matches(statement.get("Resource", []), resource, case_sensitive=True)
    principal = statement.get("Principal")
    everyone = principal == "*" or (isinstance(principal, dict) and _listed(principal.get("AWS", [])) == ["*"])
    return (action_ok and resource_ok and (everyone or deny)
            and _condition_met(statement.get("Condition", {}), context, strict_when_unknown=deny))


def decide(policy: dict, action: str, resource: str, context: dict[str, str]) -> str:
    """"deny", "allow" or "neutral" for `action` on `resource` with the request's condition keys."""
    statements = [s for s in _listed(policy.get("Statement", [])) if _applies(s, action, resource, context)]
    if any(s.get("Effect") == "Deny" for s in statements):
        return "deny"
    return "allow" if statements else "neutral"
