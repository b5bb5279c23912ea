"""Modules 2-3 as a pipeline: prepare → train (scikit-learn, model type as a parameter) →
evaluate (RMSLE on the Kaggle test days) → gate → register, or fail saying why."""

from __future__ import annotations

from sagemaker.inputs import TrainingInput
from sagemaker.model import Model
from sagemaker.sklearn.estimator import SKLearn
from sagemaker.workflow.condition_step import ConditionStep
from sagemaker.workflow.conditions import ConditionLessThanOrEqualTo
from sagemaker.workflow.fail_step import FailStep
from sagemaker.workflow.functions import Join, JsonGet
from sagemaker.workflow.parameters import ParameterFloat, ParameterString
from sagemaker.workflow.properties import PropertyFile
from sagemaker.workflow.steps import TrainingStep

from stacks.pipeline_definitions.definition import built_quietly, pipeline_definition
from stacks.pipeline_definitions.inputs import PipelineInputs
from stacks.pipeline_definitions.jobs import (
    NO_DEBUGGER,
    OUTPUT_ROOT,
    execution_uri,
    input_path,
    module_processing_step,
    output_path,
)
from stacks.pipeline_definitions.model_steps import register_step
from stacks.pipeline_definitions.offline_session import (
    SKLEARN_VERSION,
    offline_session,
    sklearn_image,
)

RMSLE_THRESHOLD = 0.40  # the workshop's target for the best model on the test days
DEFAULT_MODEL = "gbm"  # "tree" is the workshop's decision tree; "linear" its baseline
ENTRY_POINT = "training_code/bike/train.py"  # inside the source tarball
EVALUATION_PREFIX = ("models", "evaluation")  # beside the training job's model
# What train.py prints after fitting: "validation:rmsle=0.28800;validation:rmse=...;".
METRIC_DEFINITIONS = [
    {"Name": f"validation:{name}", "Regex": f"validation:{name}=([-+]?[0-9]*\\.?[0-9]+);"}
    for name in ("rmsle", "rmse", "mae")
]


@built_quietly
def bike_sharing_definition(inputs: PipelineInputs) -> dict:
    """The bike-sharing pipeline's definition, parsed and free of volatile values."""
    inputs.require("data_uri", "source_tarball_uri", "model_package_group_name")
    session = offline_session(inputs.region)
    types = inputs.instance_types
    image = sklearn_image(inputs.region)
    data_uri = ParameterString("InputDataUri", default_value=inputs.data_uri)
    model_type = ParameterString("ModelType", default_value=DEFAULT_MODEL)
    processing_type = ParameterString("ProcessingInstanceType", default_value=types.processing)
    training_type = ParameterString("TrainingInstanceType", default_value=types.training)
    rmsle_threshold = ParameterFloat("RmsleThreshold", default_value=RMSLE_THRESHOLD)
    approval = ParameterString("ModelApprovalStatus", default_value="PendingManualApproval")

    prepare = module_processing_step(
        name="PrepareData",
        module="training_code.bike.prepare",
        image_uri=image,
        inputs=inputs,
        session=session,
        instance_type=processing_type,
        data_inputs={"data": data_uri},
        outputs={
            name: execution_uri(inputs, "prepared", name)
            for name in ("train", "validation", "test", "profile")
        },
        arguments=["--input", input_path("data"), "--output", OUTPUT_ROOT],
    )
    split_uri = {
        name: prepare.properties.ProcessingOutputConfig.Outputs[name].S3Output.S3Uri
        for name in ("train", "validation", "test")
    }

    estimator = SKLearn(
        entry_point=ENTRY_POINT,
        source_dir=inputs.source_tarball_uri,  # an s3:// tarball: nothing is uploaded
        framework_version=SKLEARN_VERSION,
        py_version="py3",
        role=inputs.role_arn,
        instance_count=1,
        instance_type=training_type,
        output_path=execution_uri(inputs, "models"),
        hyperparameters={"model": model_type},
        metric_definitions=METRIC_DEFINITIONS,
        sagemaker_session=session,
        **NO_DEBUGGER,
    )
    train = TrainingStep(
        name="TrainModel",
        step_args=estimator.fit(
            inputs={
                channel: TrainingInput(split_uri[channel], content_type="text/csv")
                for channel in ("train", "validation")
            }
        ),
    )
    model_uri = train.properties.ModelArtifacts.S3ModelArtifacts

    report = PropertyFile(name="EvaluationReport", output_name="evaluation", path="evaluation.json")
    evaluate = module_processing_step(
        name="EvaluateModel",
        module="training_code.bike.evaluate",
        image_uri=image,
        inputs=inputs,
        session=session,
        instance_type=processing_type,
        data_inputs={"model": model_uri, "test": split_uri["test"]},
        outputs={"evaluation": execution_uri(inputs, *EVALUATION_PREFIX)},
        arguments=[
            "--model",
            input_path("model"),
            "--test",
            input_path("test"),
            "--output",
            output_path("evaluation"),
        ],
        property_files=[report],
    )
    rmsle = JsonGet(
        step_name=evaluate.name, property_file=report, json_path="regression_metrics.rmsle.value"
    )

    model = Model(
        image_uri=image, model_data=model_uri, role=inputs.role_arn, sagemaker_session=session
    )
    register = register_step(
        model,
        name="BikeDemandModel",
        inputs=inputs,
        approval_status=approval,
        report_uri=execution_uri(inputs, *EVALUATION_PREFIX, report.path),
        description="Hourly bike-rental demand (RMSLE on the Kaggle test days)",
    )
    fail = FailStep(
        name="RmsleAboveThreshold",
        error_message=Join(
            on=" ", values=["Test RMSLE", rmsle, "is above the threshold", rmsle_threshold]
        ),
    )
    gate = ConditionStep(
        name="CheckRmsle",
        conditions=[ConditionLessThanOrEqualTo(left=rmsle, right=rmsle_threshold)],
        if_steps=[register],
        else_steps=[fail],
    )
    parameters = [
        data_uri, model_type, processing_type, training_type, rmsle_threshold, approval,
    ]  # fmt: skip
    return pipeline_definition(
        inputs.pipeline_name, parameters, [prepare, train, evaluate, gate], session
    )
