"""Read a synthesized template's IAM policies as plain strings, the way IAM will see them.

CloudFormation values (``Fn::Join``, ``Ref``, ``Fn::ImportValue``, ``Fn::GetAtt``) are resolved
with a fixed, realistic account, region and names, so tests can compare ARNs with ``fnmatch``
and feed whole policies to an IAM linter.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

ACCOUNT = "123456789012"
REGION = "eu-west-1"
PSEUDO = {"AWS::Partition": "aws", "AWS::Region": REGION, "AWS::AccountId": ACCOUNT}


def resolve(node: Any, template: Mapping[str, Any]) -> Any:
    """``node`` with every intrinsic replaced by a string a deployed stack would hold."""
    if isinstance(node, list):
        return [resolve(item, template) for item in node]
    if not isinstance(node, dict):
        return node
    if "Fn::Join" in node:
        delimiter, items = node["Fn::Join"]
        return delimiter.join(str(resolve(item, template)) for item in items)
    if "Ref" in node:
        return PSEUDO.get(node["Ref"], _physical(node["Ref"], template))
    if "Fn::Sub" in node and isinstance(node["Fn::Sub"], str):
        text = node["Fn::Sub"]
        for name, value in PSEUDO.items():
            text = text.replace("${" + name + "}", value)
        return text
    if "Fn::GetAtt" in node:
        logical_id, attribute = node["Fn::GetAtt"]
        return _attribute(logical_id, attribute, template)
    if "Fn::ImportValue" in node:
        return _imported(node["Fn::ImportValue"])
    return {key: resolve(value, template) for key, value in node.items()}


def _physical(logical_id: str, template: Mapping[str, Any]) -> str:
    kind = template["Resources"].get(logical_id, {}).get("Type", "")
    if kind == "AWS::IAM::ManagedPolicy":
        return f"arn:aws:iam::{ACCOUNT}:policy/{logical_id}"
    return logical_id.lower()


def _attribute(logical_id: str, attribute: str, template: Mapping[str, Any]) -> str:
    kind = template["Resources"][logical_id]["Type"]
    if kind == "AWS::IAM::Role" and attribute == "Arn":
        return f"arn:aws:iam::{ACCOUNT}:role/{logical_id}"
    if kind == "AWS::Logs::LogGroup" and attribute == "Arn":
        return f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:{logical_id}:*"
    if kind == "AWS::KMS::Key" and attribute == "Arn":
        return f"arn:aws:kms:{REGION}:{ACCOUNT}:key/{logical_id.lower()}"
    return f"{logical_id}.{attribute}"


def _imported(export: str) -> str:
    """Exports of the other stacks, as the values they would carry."""
    name = export.split(":", 1)[-1]
    if name.endswith("BucketArn") or ("Bucket" in name and "Arn" in name):
        bucket = name.replace("ExportsOutputFnGetAtt", "").split("Arn")[0].lower()
        return f"arn:aws:s3:::{bucket}"
    if "Repository" in name and "Arn" in name:
        return f"arn:aws:ecr:{REGION}:{ACCOUNT}:repository/mlws-model-image"
    if "Key" in name and "Arn" in name:
        return f"arn:aws:kms:{REGION}:{ACCOUNT}:key/imported"
    return name.lower()


@dataclass(frozen=True)
class Statement:
    policy: str  # logical id of the managed policy
    sid: str
    actions: tuple[str, ...]
    resources: tuple[str, ...]
    conditions: Mapping[str, Any]

    def allows(self, action: str, arn: str) -> bool:
        """True if this statement names ``action`` and matches ``arn`` (ignoring conditions)."""
        action_hit = any(fnmatch.fnmatchcase(action, pattern) for pattern in self.actions)
        return action_hit and any(fnmatch.fnmatchcase(arn, pattern) for pattern in self.resources)


def _as_tuple(value: Any) -> tuple[str, ...]:
    return tuple(value) if isinstance(value, list) else (value,)


def managed_policies(template: Mapping[str, Any]) -> dict[str, dict]:
    """Logical id → resolved policy document of every customer-managed policy."""
    return {
        logical_id: resolve(resource["Properties"]["PolicyDocument"], template)
        for logical_id, resource in template["Resources"].items()
        if resource["Type"] == "AWS::IAM::ManagedPolicy"
    }


def role_statements(template: Mapping[str, Any], role_logical_id: str) -> Iterator[Statement]:
    """Every statement of the customer-managed policies attached to a role."""
    documents = managed_policies(template)
    role = template["Resources"][role_logical_id]["Properties"]
    attached = [
        reference.get("Ref") if isinstance(reference, dict) else None
        for reference in role.get("ManagedPolicyArns", [])
    ]
    # A policy that names its role (the attendee's own) is attached from the policy's side.
    attached += [
        logical_id
        for logical_id, resource in template["Resources"].items()
        if resource["Type"] == "AWS::IAM::ManagedPolicy"
        and {"Ref": role_logical_id} in resource["Properties"].get("Roles", [])
    ]
    for logical_id in attached:
        if logical_id not in documents:
            continue
        for statement in documents[logical_id]["Statement"]:
            yield Statement(
                policy=logical_id,
                sid=statement.get("Sid", ""),
                actions=_as_tuple(statement["Action"]),
                resources=_as_tuple(statement["Resource"]),
                conditions=statement.get("Condition", {}),
            )
