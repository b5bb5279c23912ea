"""What the stack asks of the SageMaker SDK, from the content-addressed cache.

A definition is a pure function of its :class:`PipelineInputs`, the code in this package, the
files that code reads and the installed SDK (see the package docstring); so are the image URIs
the SDK names. Importing the SDK and building the three definitions took ~4 s of every synth
(botocore loads a service model per client of each offline session), for the same JSON each
time. Here each result is cached under ``.cache/artifacts/pipeline-definitions/<key>/``
(``workshop_artifacts/cache.py``) with a key over all of those inputs, so a synth whose
inputs have not changed never imports ``sagemaker``; any change to them (this package, the
tuning specification, the platform matrix, the sagemaker/botocore/boto3 versions) is a new
key and a fresh build. The builders themselves are untouched: tests call them directly, and
``tests/pipelines/test_definition_cache.py`` checks a cached answer equals a fresh build.
"""

from __future__ import annotations

import dataclasses
import importlib
import json
import sys
from collections.abc import Callable
from importlib.metadata import version
from pathlib import Path
from typing import Any

from stacks.pipeline_definitions.inputs import PipelineInputs
from workshop_artifacts import cache

KIND = "pipeline-definitions"  # the cache's folder: .cache/artifacts/pipeline-definitions/<key>/
PACKAGE = Path(__file__).resolve().parent
# Everything the builders read besides their arguments (the package's own modules included).
INPUT_FILES = (
    PACKAGE,
    PACKAGE.parents[1] / "workshop_spec",
    PACKAGE.parents[1] / "training_code" / "tuning" / "bank_xgboost_tuning.json",
)
# The libraries whose behaviour is the definition: the SDK and the botocore it builds with.
SDK_DISTRIBUTIONS = ("sagemaker", "botocore", "boto3")

# pipeline key -> (module in this package, builder in it)
BUILDERS = {
    "bank-marketing": ("bank_marketing", "bank_marketing_definition"),
    "bike-sharing": ("bike_sharing", "bike_sharing_definition"),
    "byom": ("byom", "byom_definition"),
}


def definition(pipeline_key: str, inputs: PipelineInputs) -> dict:
    """The parsed definition ``BUILDERS[pipeline_key]`` builds from ``inputs``."""
    if pipeline_key not in BUILDERS:
        raise KeyError(f"no pipeline {pipeline_key!r}; known: {', '.join(sorted(BUILDERS))}")
    module, builder = BUILDERS[pipeline_key]
    return _cached(
        {"definition": pipeline_key, "inputs": dataclasses.asdict(inputs)},
        lambda: getattr(_sdk_module(module), builder)(inputs),
    )


def sklearn_image(region: str) -> str:
    """:func:`offline_session.sklearn_image`, cached."""
    return _cached(
        {"image": "sklearn", "region": region},
        lambda: _sdk_module("offline_session").sklearn_image(region),
    )


def xgboost_image(region: str, algorithm_version: str) -> str:
    """:func:`offline_session.xgboost_image`, cached."""
    return _cached(
        {"image": "xgboost", "region": region, "version": algorithm_version},
        lambda: _sdk_module("offline_session").xgboost_image(region, algorithm_version),
    )


def cache_key(values: dict) -> str:
    """The key of one result: its arguments, the input files and the SDK's versions."""
    environment = {
        "python": list(sys.version_info[:2]),
        "distributions": {name: version(name) for name in SDK_DISTRIBUTIONS},
    }
    return cache.key(files=INPUT_FILES, values={**values, "environment": environment})


def _cached(values: dict, compute: Callable[[], Any]) -> Any:
    def build(folder: Path) -> None:
        (folder / "value.json").write_text(json.dumps(compute(), indent=1))

    folder = cache.entry(KIND, cache_key(values), build)
    return json.loads((folder / "value.json").read_text())


def _sdk_module(name: str):
    return importlib.import_module(f"stacks.pipeline_definitions.{name}")
