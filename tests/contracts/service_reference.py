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
