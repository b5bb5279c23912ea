"""From SDK steps to a deterministic, parsed definition.

The SDK stamps values that change on every build: the TuningStep (and framework training
steps) inject ``sagemaker_job_name``, a timestamped name that SageMaker Pipelines replaces with
its own job names anyway (SDK issue #3651). They are removed so that two builds are equal as
parsed JSON and snapshots hold.

While a definition is built (:func:`sdk_build`), the SDK's chatter (INFO lines, "no job will
be started" warnings) is silenced, and its config is validated once instead of on each of the
~60 config lookups a pipeline makes: each validation checks the draft 2020-12 schema itself
(~0.2 s), ~10 s per build for a config that is ours and constant.
"""

from __future__ import annotations

import contextlib
import functools
import json
import logging
import warnings
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from sagemaker.workflow.pipeline_context import PipelineSession

# The SDK is imported where a build needs it, not here: the stack uses strip_volatile and
# substitute on cached definitions without it (see cached.py).

VOLATILE_HYPERPARAMETERS = frozenset({"sagemaker_job_name"})
HYPERPARAMETER_KEYS = ("HyperParameters", "StaticHyperParameters")
SDK_LOGGERS = ("sagemaker", "sagemaker.config", "botocore.configprovider", "botocore.credentials")


def strip_volatile(definition: dict) -> dict:
    """A copy of ``definition`` without the values that change from one build to the next."""

    def clean(node: Any) -> Any:
        if isinstance(node, dict):
            return {
                key: (
                    {k: clean(v) for k, v in value.items() if k not in VOLATILE_HYPERPARAMETERS}
                    if key in HYPERPARAMETER_KEYS and isinstance(value, dict)
                    else clean(value)
                )
                for key, value in node.items()
            }
        if isinstance(node, list):
            return [clean(item) for item in node]
        return node

    return clean(definition)


@contextlib.contextmanager
def sdk_build() -> Iterator[None]:
    """The SDK quiet, and its config validated once per distinct config, for one build."""
    import sagemaker.utils

    loggers = [logging.getLogger(name) for name in SDK_LOGGERS]
    levels = [logger.level for logger in loggers]
    validate = sagemaker.utils.validate_sagemaker_config
    validated: set[str] = set()

    def validate_once(config: dict | None = None) -> None:
        key = json.dumps(config, sort_keys=True, default=str)
        if key not in validated:
            validate(config)
            validated.add(key)

    sagemaker.utils.validate_sagemaker_config = validate_once
    try:
        for logger in loggers:
            logger.setLevel(logging.ERROR)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)
            warnings.simplefilter("ignore", DeprecationWarning)  # its own CreateModelStep use
            yield
    finally:
        sagemaker.utils.validate_sagemaker_config = validate
        for logger, level in zip(loggers, levels, strict=True):
            logger.setLevel(level)


def substitute(definition: dict, replacements: Mapping[str, str]) -> dict:
    """A copy of ``definition`` with each placeholder replaced wherever a string contains it.

    For the stack: build with placeholder names (a bucket, the role ARN, the image URI), then
    put the CDK tokens in their place; ``Stack.to_json_string`` resolves them in the body.
    """

    def replace(node: Any) -> Any:
        if isinstance(node, str):
            for placeholder, value in replacements.items():
                node = node.replace(placeholder, value)
            return node
        if isinstance(node, dict):
            return {key: replace(value) for key, value in node.items()}
        if isinstance(node, list):
            return [replace(item) for item in node]
        return node

    return replace(definition)


def built_quietly(build: Callable[..., dict]) -> Callable[..., dict]:
    """Decorator: run a definition builder inside :func:`sdk_build`."""

    @functools.wraps(build)
    def quiet_build(*args, **kwargs) -> dict:
        with sdk_build():
            return build(*args, **kwargs)

    return quiet_build


def pipeline_definition(
    name: str, parameters: Sequence, steps: Sequence, session: PipelineSession
) -> dict:
    """The parsed definition of a pipeline of ``steps``, volatile values removed."""
    from sagemaker.workflow.pipeline import Pipeline

    pipeline = Pipeline(
        name=name,
        parameters=list(parameters),
        steps=list(steps),
        sagemaker_session=session,
        # No Experiment + Trial per execution: they live outside CloudFormation and would
        # outlast `cdk destroy`.
        pipeline_experiment_config=None,
    )
    definition = strip_volatile(json.loads(pipeline.definition()))
    # The SDK writes an explicit null when experiments are off; absent means the same.
    if definition.get("PipelineExperimentConfig", ...) is None:
        del definition["PipelineExperimentConfig"]
    return definition
