"""A written Workshop Studio bundle (``make workshop-studio``) read back as what an event deploys.

Workshop Studio deploys the templates of ``contentspec.yaml`` in their listed order, filling
each template's parameters with its variables; ``{{.AssetsBucketName}}`` and
``{{.AssetsBucketPrefix}}`` name the event's copy of the workshop's assets (the bundle's
``assets/`` uploaded under the workshop's asset prefix). The participant signs in as a role whose
policy is ``static/iam_policy.json``. This module gives the rehearsal those three things from
the bundle's own files, never from ``cdk.out``: the templates as a
:class:`~workshopctl.cloud_assembly.AssemblyLayout`, the asset parameters of an emulated event
bucket, and the participant role as IAM will see it.

What Workshop Studio does is known from public workshop repositories (issue 19), not from its
private authoring guide; README "Workshop Studio" lists what only a real event proves.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import yaml

from workshopctl.cloud_assembly import AssemblyLayout, FileAsset, Resource, Role
from workshopctl.workshop_studio_templates import (
    ASSETS_BUCKET_PARAMETER,
    ASSETS_PREFIX_PARAMETER,
    WORKSHOP_STUDIO_VARIABLES,
)

CONTENT_SPEC = "contentspec.yaml"
PARTICIPANT_POLICY = "static/iam_policy.json"
# The role participants sign in as in public Workshop Studio workshops' policies and outputs
# ("WSParticipantRole"); its trust is Workshop Studio's own, so the rehearsal gives it none.
PARTICIPANT_ROLE_NAME = "WSParticipantRole"
# A prefix like Workshop Studio's: the workshop's id and asset folder, ending in '/'.
EVENT_ASSETS_PREFIX = "rehearsal-workshop/assets/"


class BundleReadError(ValueError):
    """The folder is not a readable Workshop Studio bundle; the message says what is missing."""


def content_spec(bundle: Path) -> dict[str, Any]:
    path = Path(bundle) / CONTENT_SPEC
    if not path.is_file():
        raise BundleReadError(f"{bundle} has no {CONTENT_SPEC}: run `make workshop-studio` first")
    return yaml.safe_load(path.read_text())


def event_region(bundle: Path) -> str:
    """The region the bundle's contentspec requires (where Workshop Studio deploys)."""
    regions = content_spec(bundle)["awsAccountConfig"]["regionConfiguration"]["deployableRegions"]
    return regions["required"][0]


def event_parameters(account: str, region: str) -> dict[str, str]:
    """Asset parameters naming an emulated event bucket for ``account`` (Workshop Studio names
    its own; the prefix ends in '/' as ``{{.AssetsBucketPrefix}}`` does)."""
    return {
        ASSETS_BUCKET_PARAMETER: f"ws-event-assets-{account}-{region}",
        ASSETS_PREFIX_PARAMETER: EVENT_ASSETS_PREFIX,
    }


def bundle_layout(bundle: Path) -> AssemblyLayout:
    """The bundle's templates in contentspec order (each deployed after the one before it) and
    its assets, each read through the asset parameters at ``<prefix><key>``."""
    bundle = Path(bundle)
    entries = content_spec(bundle)["infrastructure"]["cloudformationTemplates"]
    templates: dict[str, Path] = {}
    dependencies: dict[str, list[str]] = {}
    for entry in entries:
        name = entry["label"]
        path = bundle / entry["templateLocation"]
        if not path.is_file():
            raise BundleReadError(f"{CONTENT_SPEC} lists {entry['templateLocation']}: not found")
        variables = {p["templateParameter"]: p["defaultValue"] for p in entry["parameters"]}
        unknown = {k: v for k, v in variables.items() if WORKSHOP_STUDIO_VARIABLES.get(k) != v}
        if unknown:
            raise BundleReadError(
                f"{name}: parameters the rehearsal cannot fill as Workshop Studio would: {unknown}"
            )
        dependencies[name] = list(templates)[-1:]
        templates[name] = path
    folder = bundle / "assets"
    assets = tuple(
        FileAsset(
            source=path,
            packaging="file",  # the bundle holds each asset as it is uploaded (zips zipped)
            bucket="${" + ASSETS_BUCKET_PARAMETER + "}",
            key="${" + ASSETS_PREFIX_PARAMETER + "}" + path.relative_to(folder).as_posix(),
        )
        for path in sorted(folder.rglob("*"))
        if path.is_file()
    )
    return AssemblyLayout(templates, {name: name for name in templates}, dependencies, assets)


def participant_role(bundle: Path, account: str) -> Role:
    """The participant's sign-in role with the bundle's ``static/iam_policy.json`` (its only
    policy: ``participantRole.managedPolicies`` is empty in the bundle)."""
    bundle = Path(bundle)
    managed = content_spec(bundle)["awsAccountConfig"]["participantRole"].get("managedPolicies")
    if managed:
        raise BundleReadError(f"managed policies {managed} are not modelled by the rehearsal")
    policy = json.loads((bundle / PARTICIPANT_POLICY).read_text())
    arn = f"arn:aws:iam::{account}:role/{PARTICIPANT_ROLE_NAME}"
    resource = Resource(
        "WorkshopStudio", PARTICIPANT_ROLE_NAME, "AWS::IAM::Role", {}, PARTICIPANT_ROLE_NAME, arn
    )
    return Role(resource, {}, ((PARTICIPANT_POLICY, policy),), inline_policies=(policy,))
