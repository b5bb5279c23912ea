"""Modules 5-6 as a pipeline: prepare → tune (Bayesian, built-in XGBoost) → evaluate the best
model → gate on test AUC → register + batch-transform the test split, or fail saying why."""

from __future__ import annotations

from sagemaker.estimator import Estimator
from sagemaker.inputs import TrainingInput
from sagemaker.model import Model
from sagemaker.tuner import HyperparameterTuner
from sagemaker.workflow.condition_step import ConditionStep
from sagemaker.workflow.conditions import ConditionGreaterThanOrEqualTo
from sagemaker.workflow.execution_variables import ExecutionVariables
from sagemaker.workflow.fail_step import FailStep
from sagemaker.workflow.functions import Join, JsonGet
from sagemaker.workflow.parameters import (
    ParameterFloat,
    ParameterInteger,
    ParameterString,
)
from sagemaker.workflow.properties import PropertyFile
from sagemaker.workflow.steps import TuningStep

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
from stacks.pipeline_definitions.model_steps import batch_transform_steps, register_step
from stacks.pipeline_definitions.offline_session import (
    offline_session,
    sklearn_image,
    xgboost_image,
)
from stacks.pipeline_definitions.tuning_spec import TuningSpecification
from workshop_spec.datasets import BANK_FEATURE_SET

AUC_THRESHOLD = 0.78  # the workshop's target for the tuned model on the test split
# training_code.bank.features: "recommended" drops only `duration` (it leaks the label) and
# reaches AUC ~0.80 after tuning; "workshop" also drops the economic indicators, as the
# original notebook did, and stays at ~0.77 (README, model-quality bench), below the gate. The
# serving endpoint is trained on the same set (workshop_spec.datasets.BANK_FEATURE_SET).
FEATURE_SET = BANK_FEATURE_SET
TRAINING_INSTANCE_COUNT = 2  # the workshop trained XGBoost distributed on two instances
SPLITS = ("train", "validation", "test")
EVALUATION_PREFIX = ("models", "evaluation")  # beside the tuning jobs' models


@built_quietly
def bank_marketing_definition(inputs: PipelineInputs) -> dict:
    """The bank-marketing pipeline's definition, parsed and free of volatile values."""
    inputs.require("data_uri", "source_tarball_uri", "model_package_group_name")
    session = offline_session(inputs.region)
    spec = TuningSpecification.load()
    types = inputs.instance_types
    data_uri = ParameterString("InputDataUri", default_value=inputs.data_uri)
    feature_set = ParameterString("FeatureSet", default_value=FEATURE_SET)
    processing_type = ParameterString("ProcessingInstanceType", default_value=types.processing)
    training_type = ParameterString("TrainingInstanceType", default_value=types.training)
    training_count = ParameterInteger(
        "TrainingInstanceCount", default_value=TRAINING_INSTANCE_COUNT
    )
    transform_type = ParameterString("TransformInstanceType", default_value=types.transform)
    auc_threshold = ParameterFloat("AucThreshold", default_value=AUC_THRESHOLD)
    approval = ParameterString("ModelApprovalStatus", default_value="PendingManualApproval")
    max_jobs = ParameterInteger("MaxTuningJobs", default_value=spec.max_jobs)
    max_parallel = ParameterInteger("MaxParallelTuningJobs", default_value=spec.max_parallel_jobs)

    prepare = module_processing_step(
        name="PrepareData",
        module="training_code.bank.prepare",
        image_uri=sklearn_image(inputs.region),
        inputs=inputs,
        session=session,
        instance_type=processing_type,
        data_inputs={"data": data_uri},
        outputs={name: execution_uri(inputs, "prepared", name) for name in (*SPLITS, "features")},
        arguments=[
            "--input",
            input_path("data"),
            "--output",
            OUTPUT_ROOT,
            "--feature-set",
            feature_set,
        ],
    )
    split_uri = {
        name: prepare.properties.ProcessingOutputConfig.Outputs[name].S3Output.S3Uri
        for name in SPLITS
    }

    algorithm_image = xgboost_image(inputs.region, spec.algorithm_version)
    # The built-in algorithm publishes its own metrics (train:auc, validation:auc, ...) to
    # CloudWatch; SageMaker rejects metric definitions for its built-in algorithms.
    estimator = Estimator(
        image_uri=algorithm_image,
        role=inputs.role_arn,
        instance_count=training_count,
        instance_type=training_type,
        output_path=execution_uri(inputs, "models"),
        hyperparameters=spec.static_hyperparameters,
        sagemaker_session=session,
        **NO_DEBUGGER,
    )
    tuner = HyperparameterTuner(
        estimator,
        objective_metric_name=spec.objective_metric,
        hyperparameter_ranges=spec.ranges,
        strategy=spec.strategy,
        objective_type=spec.objective_type,
        max_jobs=max_jobs,
        max_parallel_jobs=max_parallel,
        early_stopping_type=spec.early_stopping_type,
        random_seed=spec.seed,
    )
    tune = TuningStep(
        name="TuneXGBoost",
        step_args=tuner.fit(
            inputs={
                channel: TrainingInput(split_uri[channel], content_type=spec.content_type)
                for channel in ("train", "validation")
            }
        ),
    )
    best_model_uri = Join(
        on="/",
        values=[
            inputs.output_uri.rstrip("/"), ExecutionVariables.PIPELINE_EXECUTION_ID, "models",
            tune.properties.BestTrainingJob.TrainingJobName, "output", "model.tar.gz",
        ],
    )  # fmt: skip

    report = PropertyFile(name="EvaluationReport", output_name="evaluation", path="evaluation.json")
    evaluation_uri = execution_uri(inputs, *EVALUATION_PREFIX)
    evaluate = module_processing_step(
        name="EvaluateBestModel",
        module="training_code.bank.evaluate",
        image_uri=algorithm_image,  # its xgboost reads the model format it wrote
        inputs=inputs,
        session=session,
        instance_type=processing_type,
        data_inputs={"model": best_model_uri, "test": split_uri["test"]},
        outputs={"evaluation": evaluation_uri},
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
    auc = JsonGet(
        step_name=evaluate.name,
        property_file=report,
        json_path="binary_classification_metrics.auc.value",
    )

    model = Model(
        image_uri=algorithm_image,
        model_data=best_model_uri,
        role=inputs.role_arn,
        sagemaker_session=session,
    )
    register = register_step(
        model,
        name="TunedXGBoost",
        inputs=inputs,
        approval_status=approval,
        report_uri=execution_uri(inputs, *EVALUATION_PREFIX, report.path),
        description="Tuned XGBoost for the bank-marketing term-deposit campaign",
    )
    create_model, transform = batch_transform_steps(
        model,
        model_name="TunedXGBoostForTransform",
        transform_name="TransformTestSet",
        inputs=inputs,
        instance_type=transform_type,
        data=split_uri["test"],
        session=session,
    )
    fail = FailStep(
        name="AucBelowThreshold",
        error_message=Join(
            on=" ", values=["Test AUC", auc, "is below the threshold", auc_threshold]
        ),
    )
    gate = ConditionStep(
        name="CheckAuc",
        conditions=[ConditionGreaterThanOrEqualTo(left=auc, right=auc_threshold)],
        if_steps=[register, create_model, transform],
        else_steps=[fail],
    )
    parameters = [
        data_uri, feature_set, processing_type, training_type, training_count, transform_type,
        auc_threshold, approval, max_jobs, max_parallel,
    ]  # fmt: skip
    return pipeline_definition(
        inputs.pipeline_name, parameters, [prepare, tune, evaluate, gate], session
    )
