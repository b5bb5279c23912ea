"""The labs' SSM parameters as the cloud assembly deploys them: one shared by every attendee
(``/<prefix>/workshop``) and one per attendee under the shared one's
``attendee_parameter_prefix`` (their own execution role and image repository). Read from
``cdk.out``, never re-derived from the config."""

from __future__ import annotations

import json
from typing import Any

from workshopctl.cloud_assembly import CloudAssembly, Resource

# The shared parameter names where each attendee's own one is; only it has this key.
ATTENDEE_PARAMETER_PREFIX = "attendee_parameter_prefix"


def shared_parameter(assembly: CloudAssembly) -> Resource:
    """The one parameter every attendee reads (what the lifecycle scripts write to env.json)."""
    found = [
        p
        for p in assembly.resources("AWS::SSM::Parameter")
        if ATTENDEE_PARAMETER_PREFIX in _value(p)
    ]
    if len(found) != 1:
        raise LookupError(
            f"expected one labs parameter holding {ATTENDEE_PARAMETER_PREFIX!r}, found "
            f"{[p.name for p in found] or 'none'}"
        )
    return found[0]


def shared_values(assembly: CloudAssembly) -> dict[str, Any]:
    """The shared parameter's value, as the template holds it."""
    return _value(shared_parameter(assembly))


def attendee_parameters(assembly: CloudAssembly) -> dict[str, Resource]:
    """Attendee → their own parameter, in the order the template lists them."""
    prefix = shared_values(assembly)[ATTENDEE_PARAMETER_PREFIX]
    return {
        parameter.name.removeprefix(prefix): parameter
        for parameter in assembly.resources("AWS::SSM::Parameter")
        if parameter.name.startswith(prefix)
    }


def attendee_values(assembly: CloudAssembly) -> dict[str, dict[str, Any]]:
    """Attendee → their own values (``execution_role_arn``, ``image_repository``, ...)."""
    return {attendee: _value(p) for attendee, p in attendee_parameters(assembly).items()}


def attendee_by_role(assembly: CloudAssembly, role_arn: str) -> str:
    """The attendee whose own execution role is ``role_arn``."""
    owners = [
        a for a, v in attendee_values(assembly).items() if v["execution_role_arn"] == role_arn
    ]
    if len(owners) != 1:
        raise LookupError(f"{len(owners)} attendees run as {role_arn}: {owners}")
    return owners[0]


def _value(parameter: Resource) -> dict[str, Any]:
    value = parameter.properties.get("Value")
    try:
        parsed = json.loads(value) if isinstance(value, str) else None
    except json.JSONDecodeError:
        return {}
    return parsed if isinstance(parsed, dict) else {}
