"""SageMaker's first-party container images, resolved for whichever region the stack lands in.

The images live in a per-region AWS account (``683313688378`` in us-east-1, ``141502667606`` in
eu-west-1, ...). Stacks here are region-agnostic unless the config names a region, so the
account comes from a CloudFormation mapping built from the registry table that ships with the
sagemaker SDK: the same table ``sagemaker.image_uris.retrieve`` reads, read offline at synth.
"""

from __future__ import annotations

import importlib.util
import json
from dataclasses import dataclass
from pathlib import Path

import aws_cdk as cdk
from constructs import Construct

from workshop_spec import platforms


@dataclass(frozen=True)
class Image:
    framework: str  # the SDK's image_uri_config file name: "xgboost", "sklearn"
    version: str  # as the SDK names it: "1.7-1"
    tag: str  # the image tag: "1.7-1", "1.2-1-cpu-py3"
    scope: str = "inference"


# Versions come from the platform matrix (workshop_spec/platforms.yaml).
_XGBOOST_VERSION = platforms.identifier("sagemaker-xgboost")
_SKLEARN = platforms.matrix()["sagemaker-sklearn"]
XGBOOST = Image("xgboost", _XGBOOST_VERSION, _XGBOOST_VERSION)  # built-in: training and serving
SKLEARN = Image(  # processing, script mode
    "sklearn", _SKLEARN.identifier, _SKLEARN.implies["image_tag"], scope="training"
)


def _registry(image: Image) -> tuple[dict[str, str], str]:
    # find_spec locates the package without importing it (importing the SDK costs seconds).
    spec = importlib.util.find_spec("sagemaker")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("the sagemaker SDK is not installed: run `make setup`")
    folder = Path(next(iter(spec.submodule_search_locations))) / "image_uri_config"
    table = json.loads((folder / f"{image.framework}.json").read_text())
    entry = table[image.scope]["versions"][image.version]
    return entry["registries"], entry["repository"]


class AlgorithmImages(Construct):
    """A region → account mapping for ``images``; :meth:`uri` gives an image's URI token."""

    def __init__(self, scope: Construct, construct_id: str, *, images: tuple[Image, ...]) -> None:
        super().__init__(scope, construct_id)
        self._images = {image.framework: image for image in images}
        registries = {image.framework: _registry(image) for image in images}
        regions = sorted(set.intersection(*(set(r) for r, _ in registries.values())))
        self._repositories = {name: repository for name, (_, repository) in registries.items()}
        self._mapping = cdk.CfnMapping(
            self,
            "Registries",
            mapping={
                region: {name: registries[name][0][region] for name in registries}
                for region in regions
            },
        )

    def uri(self, framework: str) -> str:
        image = self._images[framework]
        account = self._mapping.find_in_map(cdk.Aws.REGION, framework)
        return (
            f"{account}.dkr.ecr.{cdk.Aws.REGION}.{cdk.Aws.URL_SUFFIX}/"
            f"{self._repositories[framework]}:{image.tag}"
        )
