"""SageMaker pipeline definitions for the workshop, built offline with the SageMaker SDK.

The only package that imports ``sagemaker``. Pinned to sagemaker 2.x: it builds definitions
fully offline when every input is an ``s3://`` URI, installs in ~30 s (~300 MB); 3.x takes
~4x the time and space (it pulls mlflow and more) and needs more workarounds to stay offline.

Each ``*_definition(inputs)`` (imported on first use) is a pure function of
:class:`PipelineInputs` returning the parsed definition (a dict), with volatile values removed;
the stack serialises it into a ``CfnPipeline`` (through the cache in ``cached.py``); the
rehearsal's emulated SageMaker runs it after deploying it.
"""

import importlib
import logging
import os

# Pinned to 2.x on purpose (above); its import-time notice about 3.x is noise in every synth,
# and so are its INFO lines about config files it did not find while importing.
os.environ.setdefault("SAGEMAKER_SUPPRESS_V2_WARNING", "1")
logging.getLogger("sagemaker.config").setLevel(logging.WARNING)

from stacks.pipeline_definitions.definition import strip_volatile, substitute  # noqa: E402
from stacks.pipeline_definitions.inputs import (  # noqa: E402
    BYOM_IMAGE_PLACEHOLDER,
    ROLE_ARN_PLACEHOLDER,
    InstanceTypes,
    PipelineInputs,
)

# The builders import the SDK (~2 s): only when one is asked for, so that a synth served from
# the cache (``cached.py``) never imports it.
_BUILDER_MODULES = {
    "bank_marketing_definition": "bank_marketing",
    "bike_sharing_definition": "bike_sharing",
    "byom_definition": "byom",
}


def __getattr__(name: str):
    if name in _BUILDER_MODULES:
        module = importlib.import_module(f"{__name__}.{_BUILDER_MODULES[name]}")
        return getattr(module, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "BYOM_IMAGE_PLACEHOLDER",
    "ROLE_ARN_PLACEHOLDER",
    "InstanceTypes",
    "PipelineInputs",
    "bank_marketing_definition",
    "bike_sharing_definition",
    "byom_definition",
    "strip_volatile",
    "substitute",
]
