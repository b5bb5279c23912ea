"""The Service Authorization Reference as parliament ships it (``iam_definition.json``): one
loader for every contract rule that needs the list of IAM actions or their resource types."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path

import parliament


@cache
def services() -> dict[str, dict]:
    """IAM prefix → that service's entry (its ``privileges`` and ``resources``)."""
    definitions = Path(parliament.__file__).parent / "iam_definition.json"
    return {service["prefix"]: service for service in json.loads(definitions.read_text())}


@cache
def actions(prefix: str) -> tuple[str, ...]:
    """Every ``prefix:Action`` of one service."""
    service = services().get(prefix)
    return tuple(f"{prefix}:{p['privilege']}" for p in service["privileges"]) if service else ()


@cache
def required_arn_formats(action: str) -> tuple[str, ...]:
    """The ARN formats ``action`` is authorized against: its required resource types (marked
    ``*`` in the reference), else all it lists; empty for an action that takes no resource."""
    prefix, _, privilege = action.partition(":")
    service = services().get(prefix)
    if service is None:
        return ()
    entry = next((p for p in service["privileges"] if p["privilege"] == privilege), None)
    if entry is None:
        return ()
    types = [t["resource_type"] for t in entry["resource_types"] if t["resource_type"]]
    required = [t.rstrip("*") for t in types if t.endswith("*")] or types
    formats = {r["resource"]: r["arn"] for r in service["resources"]}
    return tuple(formats[t] for t in required if t in formats)
