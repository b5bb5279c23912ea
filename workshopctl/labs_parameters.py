"""The labs' SSM parameters as the cloud assembly deploys them: one shared by every attendee
(``/<prefix>/workshop``) and the attendees' own entries in the parts it lists as
``attendee_parameters`` (each a map per kind: ``execution_roles``, ``image_repositories``).
Read from ``cdk.out``, never re-derived from the config."""

from __future__ import annotations

import json
from typing import Any

from workshopctl.cloud_assembly import CloudAssembly, Resource

# Only the shared parameter has this key: the names of the attendees' parts.
ATTENDEE_PARAMETERS = "attendee_parameters"


def shared_parameter(assembly: CloudAssembly) -> Resource:
    """The one parameter every attendee reads (what the lifecycle scripts write to env.json)."""
    found = [
        parameter
        for parameter in assembly.resources("AWS::SSM::Parameter")
        if ATTENDEE_PARAMETERS in _value(parameter)
    ]
    if len(found) != 1:
        raise LookupError(
            f"expected one labs parameter holding {ATTENDEE_PARAMETERS!r}, found "
            f"{[p.name for p in found] or 'none'}"
        )
    return found[0]


def shared_values(assembly: CloudAssembly) -> dict[str, Any]:
    """The shared parameter's value, as the template holds it."""
    return _value(shared_parameter(assembly))


def attendee_parameters(assembly: CloudAssembly) -> list[Resource]:
    """The parts the shared parameter lists, in its order."""
    names = shared_values(assembly)[ATTENDEE_PARAMETERS]
    by_name = {p.name: p for p in assembly.resources("AWS::SSM::Parameter")}
    missing = [name for name in names if name not in by_name]
    if missing:
        raise LookupError(f"the shared labs parameter lists {missing}, which no template makes")
    return [by_name[name] for name in names]


def attendee_values(assembly: CloudAssembly) -> dict[str, dict[str, Any]]:
    """Attendee → their own entries: ``execution_role_arn`` and, with a model image,
    ``image_repository``."""
    found: dict[str, dict[str, Any]] = {}
    for parameter in attendee_parameters(assembly):
        part = _value(parameter)
        for attendee, role in part.get("execution_roles", {}).items():
            found.setdefault(attendee, {})["execution_role_arn"] = role
        for attendee, repository in part.get("image_repositories", {}).items():
            found.setdefault(attendee, {})["image_repository"] = repository
    return found


def attendee_by_role(assembly: CloudAssembly, role_arn: str) -> str:
    """The attendee whose own execution role is ``role_arn``."""
    owners = [
        attendee
        for attendee, own in attendee_values(assembly).items()
        if own.get("execution_role_arn") == role_arn
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
