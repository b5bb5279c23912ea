"""IAM in the emulated account: every call by a workshop role is decided by the synthesized
policies before anything runs, as AWS's request authorization would decide it.

A call becomes IAM requests the way the Service Authorization Reference describes them
(https://docs.aws.amazon.com/service-authorization/latest/reference/reference_policies_actions-resources-contextkeys.html):
the action (``<prefix>:<Operation>``, or its documented exception, :mod:`workshopctl.aws_calls`),
the ARN of each resource type the action requires, filled from the request's own parameters,
and the condition keys the project's policies test (request and resource tags, the passed
role's service, the S3 prefix, the CloudWatch namespace). Creating SageMaker resources with a
role also asks ``iam:PassRole`` on it. The decision itself is :meth:`CloudAssembly.decide`:
identity policies plus the resource's own policy, by the project's IAM evaluator.

Where a resource's name cannot be read from the request (an id minted by the service), the
variable is ``*``: an ARN pattern with a wildcard there still matches it, a policy naming one
specific resource does not, and the call is counted as "wildcard" in the log so nobody mistakes
it for a checked name.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from workshopctl import service_reference
from workshopctl.aws_calls import AwsCall, iam_actions
from workshopctl.cloud_assembly import CloudAssembly, Role
from workshopctl.emulator.wire import Call

VARIABLE = re.compile(r"\$\{(\w+)\}")
# The service that receives a role passed in these operations' parameters.
PASSED_ROLE_PARAMETERS = ("RoleArn", "ExecutionRoleArn")
SERVICE_PRINCIPALS = {"sagemaker": "sagemaker.amazonaws.com", "glue": "glue.amazonaws.com"}
# Request parameters under another name than the ARN format's variable.
ALIASES = {
    "BucketName": ("Bucket",),
    "ObjectName": ("Key",),
    "WorkGroupName": ("WorkGroup",),
    "TableName": ("Name", "TableName"),
    "JobName": ("JobName", "Name"),
    "RelativeId": ("Name",),
}


@dataclass(frozen=True)
class Checked:
    """One IAM request of a call, and what the policies decided."""

    action: str
    resource: str
    allowed: bool
    reason: str
    wildcard: bool = False  # a name in the ARN could not be read from the request


def _tags(params: Mapping[str, Any]) -> dict[str, str]:
    tags = params.get("Tags") or params.get("tags") or {}
    if isinstance(tags, list):
        return {t["Key"]: t["Value"] for t in tags if "Key" in t}
    return dict(tags) if isinstance(tags, dict) else {}


def _lookup(params: Mapping[str, Any], variable: str) -> str | None:
    lowered = {key.lower(): value for key, value in params.items() if isinstance(value, str)}
    for name in (variable, *ALIASES.get(variable, ())):
        if name.lower() in lowered:
            return lowered[name.lower()]
    return None


def resources(
    action: str, call: Call, account: str, minted: list[dict] | None = None
) -> list[tuple[str, bool]]:
    """(ARN, has a wildcard) for each resource ``action`` requires, filled from ``call`` (and
    from ``minted``: names the service's state holds for ids in the request, one per resource)."""
    formats = service_reference.required_arn_formats(action)
    if not formats:
        return [("*", False)]
    named = _arns_in_request(call, formats, account)
    if named:
        # The request names its resource by ARN (ListTagsForResource, AddTags...): that is the
        # resource, of whichever of the action's types it is.
        return [(arn, False) for arn in named]
    found = []
    for extra in minted or _named_parameters(action, call) or [{}]:
        found += _filled(action, formats, call, {**_known(action, call, account), **extra})
    return list(dict.fromkeys(found))


def _named_parameters(action: str, call: Call) -> list[dict[str, str]]:
    """SSM's GetParameters names up to ten parameters (``Names``); IAM authorizes it on each
    one's ARN (the Service Authorization Reference for Systems Manager: GetParameters acts on
    the parameter resource type,
    https://docs.aws.amazon.com/service-authorization/latest/reference/list_awssystemsmanager.html)."""
    names = call.params.get("Names")
    if not action.startswith("ssm:") or not isinstance(names, list):
        return []
    return [
        {"ParameterNameWithoutLeadingSlash": name.lstrip("/")}
        for name in names
        if isinstance(name, str)
    ]


@functools.cache
def _arn_shapes(formats: tuple[str, ...], account: str) -> tuple[re.Pattern, ...]:
    """The ARN formats as patterns (every variable but the partition and account: ``.+``)."""
    shapes = []
    for arn_format in formats:
        pattern = re.escape(arn_format)
        pattern = pattern.replace(re.escape("${Partition}"), "aws")
        pattern = pattern.replace(re.escape("${Account}"), re.escape(account))
        shapes.append(re.compile("^" + re.sub(r"\\\$\\\{\w+\\\}", ".+", pattern) + "$"))
    return tuple(shapes)


def _arns_in_request(call: Call, formats, account: str) -> list[str]:
    """ARN-valued parameters of the request that are of one of ``formats``' shapes (an
    ``...Arn`` parameter, or a name parameter given an ARN, as DescribeModelPackage's
    ``ModelPackageName`` may be)."""
    shapes = _arn_shapes(tuple(formats), account)
    return [
        value
        for value in call.params.values()
        if isinstance(value, str)
        and value.startswith("arn:")
        and any(shape.match(value) for shape in shapes)
    ]


def _known(action: str, call: Call, account: str) -> dict[str, str]:
    values = {"Partition": "aws", "Region": call.region, "Account": account}
    if action.startswith("ssm:") and isinstance(call.params.get("Name"), str):
        values["ParameterNameWithoutLeadingSlash"] = call.params["Name"].lstrip("/")
    return values


def _filled(action: str, formats, call: Call, values: dict[str, str]) -> list[tuple[str, bool]]:
    found = []
    for arn_format in formats:
        wildcard = False

        def fill(match: re.Match) -> str:
            nonlocal wildcard
            value = values.get(match.group(1)) or _lookup(call.params, match.group(1))
            if value is None:
                wildcard = True
                return "*"
            # As the caller wrote it: SageMaker answers with lowercased ARNs, but a request
            # naming a resource is authorized on the name as given (AccessDenied messages name
            # e.g. "model-package/modelPackageGroupTurbine/1"), so a policy must match that case.
            return value

        found.append((VARIABLE.sub(fill, arn_format), wildcard))
    return found


def context(call: Call, resource_tags: Mapping[str, str]) -> dict[str, Any]:
    """The condition keys of the request that the workshop's policies test."""
    values: dict[str, Any] = {
        # Clients reach the emulator over loopback HTTP; it stands in for AWS's TLS endpoints.
        "aws:SecureTransport": "true",
        "s3:TlsVersion": "1.3",
    }
    tags = _tags(call.params)
    if tags:
        values["aws:TagKeys"] = sorted(tags)
        values.update({f"aws:RequestTag/{key}": value for key, value in tags.items()})
    values.update({f"aws:ResourceTag/{key}": value for key, value in resource_tags.items()})
    if call.service == "s3" and "prefix" in call.params:
        values["s3:prefix"] = call.params["prefix"]
    if call.service == "cloudwatch" and "Namespace" in call.params:
        values["cloudwatch:namespace"] = call.params["Namespace"]
    return values


class Gate:
    """Decides each call of a role of the assembly; ``tags_of(arn)`` reads a resource's tags."""

    def __init__(
        self,
        assembly: CloudAssembly,
        tags_of: Callable[[str], Mapping[str, str]],
        minted: Callable[[Call], list[dict]] = lambda call: [],
    ):
        """``minted(call)``: ARN variables for ids in the request that only state resolves."""
        self.assembly = assembly
        self.tags_of = tags_of
        self.minted = minted

    def check(self, role: Role, call: Call) -> list[Checked]:
        checked = []
        if call.service == "s3" and call.operation == "DeleteObjects":
            return self._delete_objects(role, call)
        minted = self.minted(call)
        for action in iam_actions(AwsCall(call.service, call.operation, "", "", 0)):
            for resource, wildcard in resources(action, call, self.assembly.account, minted):
                tags = self.tags_of(resource) if "*" not in resource else {}
                decision = self.assembly.decide(role, action, resource, context(call, tags))
                checked.append(
                    Checked(action, resource, decision.allowed, decision.reason, wildcard)
                )
        for parameter in PASSED_ROLE_PARAMETERS:
            passed = call.params.get(parameter)
            if isinstance(passed, str) and call.operation.startswith("Create"):
                service = SERVICE_PRINCIPALS.get(call.service.split("-")[0], "")
                decision = self.assembly.decide(
                    role, "iam:PassRole", passed, {"iam:PassedToService": service}
                )
                checked.append(Checked("iam:PassRole", passed, decision.allowed, decision.reason))
        return checked

    def _delete_objects(self, role: Role, call: Call) -> list[Checked]:
        """DeleteObjects is authorized per key of its body: s3:DeleteObject on each object, and
        s3:DeleteObjectVersion on each one named with a version (S3 API reference,
        DeleteObjects: "you must have the s3:DeleteObject permission for each object"). A
        denied key is answered in the result's Errors (:mod:`workshopctl.emulator.
        delete_objects`), the others are deleted."""
        checked = []
        bucket = call.params.get("Bucket", "")
        for key, version in deleted_keys(call.body):
            resource = f"arn:aws:s3:::{bucket}/{key}"
            actions = ["s3:DeleteObject"] + (["s3:DeleteObjectVersion"] if version else [])
            for action in actions:
                decision = self.assembly.decide(role, action, resource, context(call, {}))
                checked.append(Checked(action, resource, decision.allowed, decision.reason))
        return checked


def deleted_keys(body: bytes) -> list[tuple[str, str | None]]:
    """(key, version id or None) of each object of a DeleteObjects request body."""
    import xml.etree.ElementTree as ElementTree

    root = ElementTree.fromstring(body or b"<Delete/>")
    found = []
    for element in root.iter():
        if element.tag.rsplit("}", 1)[-1] != "Object":
            continue
        fields = {child.tag.rsplit("}", 1)[-1]: child.text for child in element}
        found.append((fields.get("Key") or "", fields.get("VersionId")))
    return found
