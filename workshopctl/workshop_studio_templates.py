"""The Workshop Studio bundle's templates and assets, read from a cloud assembly (``cdk.out``).

The app synthesized with ``synthesizer=workshop-studio`` (``stacks/synthesizers.py``) writes
templates whose assets are read through the parameters ``AssetsBucketName`` and
``AssetsBucketPrefix``, and asset manifests whose destinations carry the same placeholders.
This module lists the stacks in deploy order, checks each template against what a Workshop
Studio event can deploy, and copies every asset to the object key it is read from.

Pure Python: reads ``cdk.out``, never the stacks.
"""

from __future__ import annotations

import json
import re
import shutil
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ASSETS_BUCKET_PARAMETER = "AssetsBucketName"
ASSETS_PREFIX_PARAMETER = "AssetsBucketPrefix"
# Workshop Studio's variables for the event's copy of the workshop assets; the prefix ends in '/'.
WORKSHOP_STUDIO_VARIABLES = {
    ASSETS_BUCKET_PARAMETER: "{{.AssetsBucketName}}",
    ASSETS_PREFIX_PARAMETER: "{{.AssetsBucketPrefix}}",
}
# `infrastructure.cloudformationTemplates` holds at most 5 templates (issue 19, from public
# Workshop Studio repositories; to confirm in a test event).
MAX_TEMPLATES = 5
# Workshop Studio's content build allows at most 50 outputs and 50 exports per template (public
# Workshop Studio authoring notes; to confirm in a test event).
MAX_OUTPUTS_PER_TEMPLATE = 50
# A template CloudFormation reads from S3 may have up to 1 MB:
# https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/cloudformation-limits.html
MAX_TEMPLATE_BYTES = 1_000_000
# What a CDK bootstrap leaves in a template: the asset bucket and ECR repository, its roles
# (cdk-<qualifier>-<kind>-<account>-<region>), the BootstrapVersion parameter (read from
# /cdk-bootstrap/<qualifier>/version) and its CheckBootstrapVersion rule.
# https://docs.aws.amazon.com/cdk/v2/guide/bootstrapping-env.html
BOOTSTRAP_MARKERS = re.compile(
    r"hnb659fds|BootstrapVersion|cdk-bootstrap|"
    r"cdk-[a-z0-9]{9}-(assets|container-assets|deploy-role|cfn-exec-role|file-publishing-role|"
    r"image-publishing-role|lookup-role)"
)
# A zip whose entries all carry this date is the same bytes on every build.
_ZIP_EPOCH = (1980, 1, 1, 0, 0, 0)


class BundleError(ValueError):
    """The cloud assembly cannot become a Workshop Studio bundle; the message says why."""


@dataclass(frozen=True)
class StackTemplate:
    """One stack of the assembly: its name, template file and parsed template."""

    name: str
    path: Path
    template: dict[str, Any]

    @property
    def parameters(self) -> list[str]:
        return sorted(self.template.get("Parameters", {}))

    @property
    def people_outputs(self) -> list[str]:
        """Outputs meant for people: those that are not exports for another stack."""
        outputs = self.template.get("Outputs", {})
        return [key for key, output in outputs.items() if "Export" not in output]


@dataclass(frozen=True)
class Asset:
    """A file asset: where synthesis left it and the key it is read from under the prefix."""

    source: Path
    packaging: str  # "zip" (a folder, zipped) or "file"
    key: str


def stacks_in_deploy_order(assembly: Path) -> list[StackTemplate]:
    """The assembly's stacks, each after the stacks it depends on (manifest.json order kept)."""
    manifest = json.loads((assembly / "manifest.json").read_text())
    artifacts = manifest["artifacts"]
    stacks = [
        name
        for name, artifact in artifacts.items()
        if artifact["type"] == "aws:cloudformation:stack"
    ]
    ordered: list[str] = []

    def visit(name: str, trail: tuple[str, ...]) -> None:
        if name in ordered:
            return
        if name in trail:
            raise BundleError(f"stacks depend on each other in a cycle: {' -> '.join(trail)}")
        for dependency in artifacts[name].get("dependencies", []):
            if dependency in stacks:
                visit(dependency, (*trail, name))
        ordered.append(name)

    for name in stacks:
        visit(name, ())
    result = []
    for name in ordered:
        path = assembly / artifacts[name]["properties"]["templateFile"]
        result.append(StackTemplate(name, path, json.loads(path.read_text())))
    return result


def problems(stacks: list[StackTemplate]) -> list[str]:
    """What would stop Workshop Studio from deploying these templates; empty when none."""
    found = []
    if len(stacks) > MAX_TEMPLATES:
        found.append(
            f"{len(stacks)} templates, Workshop Studio deploys at most {MAX_TEMPLATES}: "
            f"{', '.join(stack.name for stack in stacks)}"
        )
    for stack in stacks:
        text = stack.path.read_text()
        markers = sorted({match.group(0) for match in BOOTSTRAP_MARKERS.finditer(text)})
        if markers:
            found.append(f"{stack.name}: refers to the CDK bootstrap ({', '.join(markers)})")
        if len(text.encode()) > MAX_TEMPLATE_BYTES:
            found.append(f"{stack.name}: {len(text.encode())} bytes, above 1 MB")
        unknown = set(stack.parameters) - set(WORKSHOP_STUDIO_VARIABLES)
        if unknown:
            found.append(
                f"{stack.name}: parameters Workshop Studio cannot fill: "
                f"{', '.join(sorted(unknown))}"
            )
        outputs = stack.template.get("Outputs", {})
        exports = [key for key, output in outputs.items() if "Export" in output]
        for kind, count in (("outputs", len(outputs) - len(exports)), ("exports", len(exports))):
            if count > MAX_OUTPUTS_PER_TEMPLATE:
                found.append(f"{stack.name}: {count} {kind}, above {MAX_OUTPUTS_PER_TEMPLATE}")
    return found


def assets(assembly: Path, stacks: list[StackTemplate]) -> list[Asset]:
    """Every file asset of the stacks, once per key, from each stack's asset manifest."""
    manifest = json.loads((assembly / "manifest.json").read_text())
    by_key: dict[str, Asset] = {}
    for stack in stacks:
        for name in manifest["artifacts"][stack.name].get("dependencies", []):
            artifact = manifest["artifacts"].get(name, {})
            if artifact.get("type") != "cdk:asset-manifest":
                continue
            asset_manifest = json.loads((assembly / artifact["properties"]["file"]).read_text())
            if asset_manifest.get("dockerImages"):
                raise BundleError(f"{stack.name}: Docker image assets need the CDK bootstrap")
            for entry in asset_manifest.get("files", {}).values():
                for destination in entry["destinations"].values():
                    key = _key_under_prefix(stack.name, destination)
                    source = assembly / entry["source"]["path"]
                    by_key[key] = Asset(source, entry["source"].get("packaging", "file"), key)
    return [by_key[key] for key in sorted(by_key)]


def _key_under_prefix(stack: str, destination: dict[str, Any]) -> str:
    bucket = "${" + ASSETS_BUCKET_PARAMETER + "}"
    prefix = "${" + ASSETS_PREFIX_PARAMETER + "}"
    key = destination["objectKey"]
    if destination["bucketName"] != bucket or not key.startswith(prefix):
        raise BundleError(
            f"{stack}: an asset goes to s3://{destination['bucketName']}/{key}, not to "
            f"{bucket}/{prefix}...: synthesize with synthesizer=workshop-studio"
        )
    return key.removeprefix(prefix)


def write_asset(asset: Asset, folder: Path) -> Path:
    """Write the asset to ``folder/<key>``: a file as is, a folder as a reproducible zip."""
    target = folder / asset.key
    target.parent.mkdir(parents=True, exist_ok=True)
    if asset.packaging == "file":
        shutil.copyfile(asset.source, target)
        return target
    if asset.packaging != "zip":
        raise BundleError(f"asset {asset.key}: unknown packaging {asset.packaging!r}")
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as archive:
        for path in sorted(p for p in asset.source.rglob("*") if p.is_file()):
            entry = zipfile.ZipInfo(path.relative_to(asset.source).as_posix(), _ZIP_EPOCH)
            # Keep the executable bit (Lambda runs handlers as they are in the zip).
            entry.external_attr = (0o755 if path.stat().st_mode & 0o111 else 0o644) << 16
            entry.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(entry, path.read_bytes())
    return target
