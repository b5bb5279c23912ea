"""IAM policy evaluation for one account: would AWS allow this request?

No maintained Python evaluator fits (principalmapper's simulator, last released 2022, matches
resource ARNs case-insensitively, treats a missing key under ``StringNotLike`` as a mismatch and
does not expand policy variables in condition values), so this module implements the documented
logic, and its tests are taken from AWS's pages:

- Policy evaluation logic, "Determining whether a request is allowed or denied within an
  account": https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic.html
  (an explicit Deny in any policy wins; otherwise an Allow in an identity-based policy or in a
  resource-based policy that names the principal; otherwise implicitly denied).
- Elements: Action/NotAction, Resource/NotResource, Principal, Condition
  (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements.html).
- Condition operators, ``...IfExists``, the Null check and negated operators on absent keys:
  https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_condition_operators.html
- Multivalued keys, ``ForAnyValue:`` / ``ForAllValues:``:
  https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-single-vs-multi-valued-context-keys.html
- Policy variables (``${aws:PrincipalTag/attendee}``, ``${*}``, ``${?}``, ``${$}``, defaults):
  https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_variables.html
- KMS key policies: a key policy must allow the request, itself or by delegating to IAM through
  the account principal: https://docs.aws.amazon.com/kms/latest/developerguide/key-policy-default.html

Out of scope (no policy of the project uses them): SCPs, permission boundaries, session
policies, cross-account requests, ``Date*`` and ``IpAddress`` operators (they raise).
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

Policy = Mapping[str, Any]
ContextValue = str | Sequence[str]


@dataclass(frozen=True)
class Principal:
    """Who makes the request: an IAM role (with its tags) or an AWS service."""

    arn: str  # arn:aws:iam::<account>:role/<name> or :user/<name>, or a service's name
    account: str
    tags: Mapping[str, str] = field(default_factory=dict)
    kind: str = "AssumedRole"  # aws:PrincipalType: AssumedRole (a role's session) or User

    @property
    def is_service(self) -> bool:
        return self.arn.endswith(".amazonaws.com")


@dataclass(frozen=True)
class Request:
    principal: Principal
    action: str
    resource: str
    context: Mapping[str, ContextValue] = field(default_factory=dict)

    def context_keys(self) -> dict[str, ContextValue]:
        """The request context, with the keys IAM adds from the principal (lower-cased keys)."""
        keys: dict[str, ContextValue] = {"aws:securetransport": "true"}
        if not self.principal.is_service:
            keys["aws:principalarn"] = self.principal.arn
            keys["aws:principalaccount"] = self.principal.account
            keys["aws:principaltype"] = self.principal.kind
            name = self.principal.arn.rsplit("/", 1)[-1]
            if self.principal.kind == "User":
                # Only an IAM user's request carries aws:username (IAM User Guide, "AWS global
                # condition context keys": aws:username).
                keys["aws:username"] = name
                keys["aws:userid"] = f"AIDAEXAMPLE{name.upper()}"
            else:
                keys["aws:userid"] = f"AROAEXAMPLE:{name}"
            for tag, value in self.principal.tags.items():
                keys[f"aws:principaltag/{tag.lower()}"] = value
        else:
            # A service acting for a resource of this account (an alarm, a budget, a rule)
            # carries the account as aws:SourceAccount; callers add aws:SourceArn.
            keys["aws:principalservicename"] = self.principal.arn
            keys["aws:sourceaccount"] = self.principal.account
        keys.update({key.lower(): value for key, value in self.context.items()})
        return keys


@dataclass(frozen=True)
class Decision:
    allowed: bool
    reason: str  # "explicit deny in X", "allowed by X", "no statement allows it"
    statements: tuple[str, ...] = ()

    def __bool__(self) -> bool:
        return self.allowed


class UnsupportedCondition(ValueError):
    """A condition operator this evaluator does not implement: fail loudly, never guess."""


# -- matching ------------------------------------------------------------------------------------
_VARIABLE = re.compile(r"\$\{([^}]+)\}")
_MISSING = object()


def _substitute(text: str, context: Mapping[str, ContextValue]) -> str | None:
    """``text`` with policy variables replaced; None when a variable has no value (then the
    element cannot match, as AWS documents)."""
    missing = False

    def replace(match: re.Match) -> str:
        nonlocal missing
        name, _, default = match.group(1).partition(",")
        name = name.strip()
        if name in ("*", "?", "$"):
            return "\0" + name  # a literal, kept apart from the wildcards
        value = context.get(name.lower(), _MISSING)
        if value is _MISSING or not isinstance(value, str):
            if default.strip():
                return default.strip().strip("'")
            missing = True
            return ""
        return value

    result = _VARIABLE.sub(replace, text)
    return None if missing else result


@functools.lru_cache(maxsize=4096)
def _pattern(pattern: str, ignore_case: bool) -> re.Pattern[str]:
    parts = []
    index = 0
    while index < len(pattern):
        char = pattern[index]
        if char == "\0":  # ${*} ${?} ${$}: the literal character
            parts.append(re.escape(pattern[index + 1]))
            index += 2
            continue
        parts.append(".*" if char == "*" else "." if char == "?" else re.escape(char))
        index += 1
    return re.compile("".join(parts) + r"\Z", re.IGNORECASE if ignore_case else 0)


def wildcard_match(
    pattern: str,
    value: str,
    *,
    ignore_case: bool = False,
    context: Mapping[str, ContextValue] | None = None,
) -> bool:
    """IAM's ``*``/``?`` matching, after policy variables are substituted from ``context``."""
    if context is not None:
        pattern = _substitute(pattern, context)
        if pattern is None:
            return False
    return _pattern(pattern, ignore_case).match(value) is not None


def _as_list(value: Any) -> list:
    return list(value) if isinstance(value, list | tuple) else [value]


def _action_matches(statement: Mapping[str, Any], action: str) -> bool:
    if "Action" in statement:
        return any(
            wildcard_match(p, action, ignore_case=True) for p in _as_list(statement["Action"])
        )
    return not any(
        wildcard_match(p, action, ignore_case=True) for p in _as_list(statement["NotAction"])
    )


def _resource_matches(
    statement: Mapping[str, Any], resource: str, context: Mapping[str, ContextValue]
) -> bool:
    if "Resource" in statement:
        return any(
            wildcard_match(p, resource, context=context) for p in _as_list(statement["Resource"])
        )
    if "NotResource" in statement:
        return not any(
            wildcard_match(p, resource, context=context) for p in _as_list(statement["NotResource"])
        )
    return True  # resource-based policies may omit it: the resource is the policy's own


def principal_matches(principal_element: Any, principal: Principal) -> bool:
    """Does a resource policy's ``Principal`` name this principal? (An account root names
    every principal of the account whose own policies allow it: see :func:`evaluate`.)"""
    if principal_element == "*":
        return True
    for kind, values in principal_element.items():
        for value in _as_list(values):
            if value == "*" and kind == "AWS":
                return True
            if kind == "Service" and principal.is_service and value == principal.arn:
                return True
            if kind == "AWS" and not principal.is_service and value == principal.arn:
                return True
    return False


def _names_account_root(principal_element: Any, account: str) -> bool:
    if not isinstance(principal_element, Mapping):
        return False
    return any(
        value in (account, f"arn:aws:iam::{account}:root")
        for value in _as_list(principal_element.get("AWS", []))
    )


# -- conditions ----------------------------------------------------------------------------------
_NEGATED = ("StringNotEquals", "StringNotEqualsIgnoreCase", "StringNotLike", "ArnNotEquals",
            "ArnNotLike", "NumericNotEquals")  # fmt: skip


def _compare(base: str, expected: str, actual: str, context: Mapping[str, ContextValue]) -> bool:
    if base.startswith(("String", "Arn")):
        expected = _substitute(expected, context)
        if expected is None:
            return False
    if base in ("StringEquals", "StringNotEquals"):
        return expected == actual
    if base in ("StringEqualsIgnoreCase", "StringNotEqualsIgnoreCase"):
        return expected.lower() == actual.lower()
    if base in (
        "StringLike",
        "StringNotLike",
        "ArnLike",
        "ArnNotLike",
        "ArnEquals",
        "ArnNotEquals",
    ):
        return wildcard_match(expected, actual)
    if base == "Bool":
        return str(expected).lower() == str(actual).lower()
    if base.startswith("Numeric"):
        left, right = float(actual), float(expected)
        return {
            "NumericEquals": left == right,
            "NumericNotEquals": left == right,
            "NumericLessThan": left < right,
            "NumericLessThanEquals": left <= right,
            "NumericGreaterThan": left > right,
            "NumericGreaterThanEquals": left >= right,
        }[base]
    raise UnsupportedCondition(base)


def _condition_holds(
    operator: str, key: str, expected: Any, context: Mapping[str, ContextValue]
) -> bool:
    qualifier, _, base = operator.rpartition(":")
    if_exists = base.endswith("IfExists")
    base = base.removesuffix("IfExists")
    actual = context.get(key.lower(), _MISSING)
    expected_values = [str(v) if isinstance(v, bool) else v for v in _as_list(expected)]
    if base == "Null":
        wants_absent = str(expected_values[0]).lower() == "true"
        return (actual is _MISSING) == wants_absent
    if actual is _MISSING:
        if qualifier == "ForAllValues":
            return True
        return if_exists or base in _NEGATED
    actual_values = [str(v) for v in _as_list(actual)]
    negated = base in _NEGATED

    def matches_any(value: str) -> bool:
        return any(_compare(base, str(e), value, context) for e in expected_values)

    if qualifier == "ForAllValues":
        results = [matches_any(value) for value in actual_values]
        return all(not r for r in results) if negated else all(results)
    if qualifier == "ForAnyValue":
        results = [matches_any(value) for value in actual_values]
        return any(not r for r in results) if negated else any(results)
    hit = any(matches_any(value) for value in actual_values)
    return not hit if negated else hit


def _conditions_hold(statement: Mapping[str, Any], context: Mapping[str, ContextValue]) -> bool:
    return all(
        _condition_holds(operator, key, expected, context)
        for operator, block in statement.get("Condition", {}).items()
        for key, expected in block.items()
    )


def _statement_names(statement: Mapping[str, Any], principal: Principal) -> bool:
    """Does a resource-policy statement apply to ``principal`` (Principal / NotPrincipal)?"""
    if "Principal" in statement and not principal_matches(statement["Principal"], principal):
        return False
    return not (
        "NotPrincipal" in statement and principal_matches(statement["NotPrincipal"], principal)
    )


def _statements(policy: Policy) -> list[Mapping[str, Any]]:
    return _as_list(policy.get("Statement", []))


def matching_statements(
    policies: Iterable[tuple[str, Policy]],
    request: Request,
    effect: str,
    *,
    resource_policy: bool = False,
) -> list[str]:
    """Names (``policy#sid``) of the statements of ``effect`` that apply to ``request``."""
    context = request.context_keys()
    found = []
    for name, policy in policies:
        for index, statement in enumerate(_statements(policy)):
            if statement.get("Effect") != effect:
                continue
            if resource_policy and not _statement_names(statement, request.principal):
                continue
            if (
                _action_matches(statement, request.action)
                and _resource_matches(statement, request.resource, context)
                and _conditions_hold(statement, context)
            ):
                found.append(f"{name}#{statement.get('Sid', index)}")
    return found


def evaluate(
    request: Request,
    identity_policies: Iterable[tuple[str, Policy]],
    resource_policy: tuple[str, Policy] | None = None,
    *,
    key_policy: bool = False,
) -> Decision:
    """AWS's decision for ``request`` within one account.

    ``identity_policies`` are the principal's (name, document) pairs (none for a service);
    ``resource_policy`` the resource's own policy, if it has one. With ``key_policy`` the
    resource policy is a KMS key policy: it must allow the request itself, or name the account
    root (delegating to IAM) so that the identity policies decide.
    """
    identity = list(identity_policies)
    resource = [resource_policy] if resource_policy else []
    denied = matching_statements(identity, request, "Deny") + matching_statements(
        resource, request, "Deny", resource_policy=True
    )
    if denied:
        return Decision(False, f"explicit deny in {', '.join(denied)}", tuple(denied))
    by_resource = matching_statements(resource, request, "Allow", resource_policy=True)
    by_identity = (
        [] if request.principal.is_service else matching_statements(identity, request, "Allow")
    )
    if key_policy:
        if by_resource:
            return Decision(True, f"allowed by the key policy {by_resource}", tuple(by_resource))
        delegates = resource_policy is not None and any(
            s.get("Effect") == "Allow"
            and _names_account_root(s.get("Principal"), request.principal.account)
            and _action_matches(s, request.action)
            for s in _statements(resource_policy[1])
        )
        if delegates and by_identity:
            return Decision(True, f"allowed by {by_identity} (key policy delegates to IAM)")
        return Decision(False, "the key policy neither allows it nor delegates to IAM")
    allowed = by_identity + by_resource
    if allowed:
        return Decision(True, f"allowed by {', '.join(allowed)}", tuple(allowed))
    return Decision(False, "no statement allows it (implicit deny)")
