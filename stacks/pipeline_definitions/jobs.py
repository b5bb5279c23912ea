"""Step builders shared by the pipelines: processing jobs that run a ``training_code`` module
from the source tarball, and S3 locations under one execution's output prefix."""

from __future__ import annotations

from collections.abc import Sequence

from sagemaker.processing import ProcessingInput, ProcessingOutput, Processor
from sagemaker.workflow.execution_variables import ExecutionVariables
from sagemaker.workflow.functions import Join
from sagemaker.workflow.pipeline_context import PipelineSession
from sagemaker.workflow.properties import PropertyFile
from sagemaker.workflow.steps import ProcessingStep

from stacks.pipeline_definitions.inputs import PipelineInputs

PROCESSING_ROOT = "/opt/ml/processing"
CODE_DIR = f"{PROCESSING_ROOT}/input/code"
OUTPUT_ROOT = f"{PROCESSING_ROOT}/output"
# Runs `python3 -m <module> <args>` from the extracted tarball. $0 is the code folder (the
# tarball keeps its S3 name there: a CDK file asset is `<hash>.gz`, a local build
# `sourcedir.tar.gz`, hence `*gz`), $@ is the module and its arguments.
# The framework images ship numpy/pandas/scikit-learn (and XGBoost's its own xgboost); the
# programs' other needs (plots) are in training_code/requirements.txt, installed as script
# mode would install them for a training job.
RUN_MODULE_SCRIPT = (
    'set -eu; code="$(mktemp -d)"; tar -xzf "$(ls "$0"/*gz)" -C "$code"; cd "$code"; '
    "if [ -f training_code/requirements.txt ]; then "
    "python3 -m pip install --quiet --disable-pip-version-check --no-cache-dir "
    "-r training_code/requirements.txt; fi; "
    'exec python3 -m "$@"'
)

# Estimator options: no Debugger hook or profiler. The workshop reads metrics from the logs;
# both would add S3 output and rule jobs nobody looks at.
NO_DEBUGGER = {"debugger_hook_config": False, "disable_profiler": True}


def execution_uri(inputs: PipelineInputs, *parts: str) -> Join:
    """``<output_uri>/<execution id>/<parts...>``: every execution writes to its own prefix."""
    return Join(
        on="/",
        values=[inputs.output_uri.rstrip("/"), ExecutionVariables.PIPELINE_EXECUTION_ID, *parts],
    )


def module_processing_step(
    *,
    name: str,
    module: str,
    image_uri: str,
    inputs: PipelineInputs,
    session: PipelineSession,
    instance_type,
    data_inputs: dict[str, object],
    outputs: dict[str, object],
    arguments: Sequence[object] = (),
    property_files: Sequence[PropertyFile] = (),
) -> ProcessingStep:
    """A processing step running ``python3 -m module arguments`` from the source tarball.

    ``data_inputs`` maps an input name to its S3 URI; it is mounted at
    ``/opt/ml/processing/input/<name>``. ``outputs`` maps an output name to its S3 destination;
    the program writes it under ``/opt/ml/processing/output/<name>``. Nothing is uploaded at
    definition time: the code arrives as a ProcessingInput, not as the SDK's ``code=``.
    """
    processor = Processor(
        role=inputs.role_arn,
        image_uri=image_uri,
        instance_count=1,
        instance_type=instance_type,
        entrypoint=["bash", "-c", RUN_MODULE_SCRIPT, CODE_DIR, module],
        sagemaker_session=session,
    )
    processing_inputs = [
        ProcessingInput(source=inputs.source_tarball_uri, destination=CODE_DIR, input_name="code"),
        *(
            ProcessingInput(source=uri, destination=input_path(key), input_name=key)
            for key, uri in data_inputs.items()
        ),
    ]
    processing_outputs = [
        ProcessingOutput(source=output_path(key), destination=uri, output_name=key)
        for key, uri in outputs.items()
    ]
    step_args = processor.run(
        inputs=processing_inputs, outputs=processing_outputs, arguments=list(arguments)
    )
    return ProcessingStep(name=name, step_args=step_args, property_files=list(property_files))


def input_path(name: str) -> str:
    """Where a processing job finds the input ``name``."""
    return f"{PROCESSING_ROOT}/input/{name}"


def output_path(name: str) -> str:
    """Where a processing job writes the output ``name``."""
    return f"{OUTPUT_ROOT}/{name}"
