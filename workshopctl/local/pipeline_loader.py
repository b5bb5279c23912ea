"""The pipeline definitions the local runner executes, read from the synthesized templates.

`make up` synthesizes the app (its first step) and then runs the very ``PipelineDefinitionBody``
that `cdk deploy` would hand to SageMaker. The body is a CloudFormation value (``Fn::Join`` over
bucket names, the code asset, the role and image URIs); this module resolves those intrinsics
for the local world:

* the data lake's buckets → the workspace's bucket folders (``raw``, ``curated``);
* the CDK asset bucket → a folder of that name under the workspace, into which the stack's file
  assets (the ``sourcedir.tar.gz`` of ``training_code/``) are copied from ``cdk.out``;
* ``Fn::FindInMap`` → the template's own mappings, in :data:`LOCAL_REGION`;
* the role → a fixed local ARN; the model image (an import from the model-image stack) → the
  URI the runner is told to treat as the BYOM image.

Anything else the resolver meets is an error naming it: no silent guess.
"""

from __future__ import annotations

import json
import re
import shutil
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from workshopctl.local.workspace import Workspace

LOCAL_REGION = "us-east-1"
LOCAL_ACCOUNT = "000000000000"
PSEUDO = {
    "AWS::Region": LOCAL_REGION,
    "AWS::AccountId": LOCAL_ACCOUNT,
    "AWS::Partition": "aws",
    "AWS::URLSuffix": "amazonaws.com",
}
LOCAL_BYOM_IMAGE = f"{LOCAL_ACCOUNT}.dkr.ecr.{LOCAL_REGION}.amazonaws.com/workshop-byom:local"
# Exports of the data-lake stack, by what their names say, → local bucket folders.
BUCKET_EXPORTS = {"RawBucket": "raw", "CuratedBucket": "curated"}


@dataclass(frozen=True)
class SynthesizedPipeline:
    key: str  # bank-marketing, bike-sharing, byom (the logical id's suffix)
    name: str
    definition: dict
    byom_image_uri: str


class UnresolvableValue(ValueError):
    """A CloudFormation value the local world has no equivalent for."""


class Resolver:
    def __init__(self, template: Mapping[str, Any], stack_name: str) -> None:
        self.template = template
        self.stack_name = stack_name

    def __call__(self, node: Any) -> Any:
        if isinstance(node, list):
            return [self(item) for item in node]
        if not isinstance(node, dict):
            return node
        if len(node) != 1 or not next(iter(node)).startswith(("Fn::", "Ref")):
            return {key: self(value) for key, value in node.items()}
        ((function, argument),) = node.items()
        if function == "Fn::Join":
            delimiter, items = argument
            return delimiter.join(str(self(item)) for item in items)
        if function == "Ref":
            return self.ref(argument)
        if function == "Fn::Sub":
            return re.sub(r"\$\{([^}]+)\}", lambda m: str(self.ref(m.group(1))), argument)
        if function == "Fn::FindInMap":
            mapping, first, second = (self(part) for part in argument)
            return self.template["Mappings"][mapping][first][second]
        if function == "Fn::GetAtt":
            logical_id, attribute = argument
            return self.attribute(logical_id, attribute)
        if function == "Fn::ImportValue":
            return self.imported(argument)
        raise UnresolvableValue(f"{function} in {self.stack_name} has no local equivalent")

    def ref(self, name: str) -> str:
        if name in PSEUDO:
            return PSEUDO[name]
        raise UnresolvableValue(f"Ref {name} in {self.stack_name} has no local equivalent")

    def attribute(self, logical_id: str, attribute: str) -> str:
        kind = self.template["Resources"][logical_id]["Type"]
        if kind == "AWS::IAM::Role" and attribute == "Arn":
            return f"arn:aws:iam::{LOCAL_ACCOUNT}:role/{logical_id}"
        raise UnresolvableValue(f"{logical_id}.{attribute} ({kind}) has no local equivalent")

    def imported(self, export: str) -> str:
        for marker, folder in BUCKET_EXPORTS.items():
            if marker in export and "Arn" not in export:
                return folder
        if "ImageUri" in export or "DockerImage" in export:
            return LOCAL_BYOM_IMAGE
        raise UnresolvableValue(f"the export {export} has no local equivalent")


def load_pipelines(
    cdk_out: Path, stack_name: str, workspace: Workspace
) -> list[SynthesizedPipeline]:
    """Every ``AWS::SageMaker::Pipeline`` of ``stack_name``, resolved for ``workspace``; the
    stack's file assets are copied where the resolved S3 URIs point."""
    template_file = cdk_out / f"{stack_name}.template.json"
    if not template_file.exists():
        raise FileNotFoundError(f"{template_file} is missing: run the synth step first")
    template = json.loads(template_file.read_text())
    resolve = Resolver(template, stack_name)
    _stage_file_assets(cdk_out, stack_name, resolve, workspace)
    pipelines = []
    for _, resource in sorted(template["Resources"].items()):
        if resource["Type"] != "AWS::SageMaker::Pipeline":
            continue
        properties = resource["Properties"]
        body = resolve(properties["PipelineDefinition"]["PipelineDefinitionBody"])
        name = properties["PipelineName"]
        # The stack tags every pipeline with its prefix, which may itself hold a '-' (ml-ws).
        prefix = {t["Key"]: t["Value"] for t in properties.get("Tags", [])}["workshop"]
        key = name.removeprefix(f"{prefix}-")
        pipelines.append(
            SynthesizedPipeline(key, name, json.loads(body), byom_image_uri=LOCAL_BYOM_IMAGE)
        )
    return pipelines


def _stage_file_assets(cdk_out: Path, stack_name: str, resolve: Resolver, workspace: Workspace):
    """Copy each file asset of the stack to ``<workspace>/<bucket>/<key>``, as a deploy would."""
    manifest = json.loads((cdk_out / f"{stack_name}.assets.json").read_text())
    for asset in manifest.get("files", {}).values():
        if asset["source"].get("packaging") != "file":
            continue
        for destination in asset["destinations"].values():
            bucket = resolve({"Fn::Sub": destination["bucketName"]})
            target = workspace.root / bucket / destination["objectKey"]
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(cdk_out / asset["source"]["path"], target)
