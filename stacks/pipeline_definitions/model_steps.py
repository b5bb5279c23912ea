"""Steps shared by the pipelines once a model exists: register it with its evaluation report,
and batch-transform label-first CSV with it."""

from __future__ import annotations

from sagemaker.model import Model
from sagemaker.model_metrics import MetricsSource, ModelMetrics
from sagemaker.transformer import Transformer
from sagemaker.workflow.model_step import ModelStep
from sagemaker.workflow.pipeline_context import PipelineSession
from sagemaker.workflow.steps import TransformStep

from stacks.pipeline_definitions.inputs import PipelineInputs
from stacks.pipeline_definitions.jobs import execution_uri

# ModelStep appends "-RegisterModel" / "-CreateModel" to the name it is given; names must be
# unique before that suffix.


def register_step(
    model: Model,
    *,
    name: str,
    inputs: PipelineInputs,
    approval_status,
    report_uri,
    description: str,
) -> ModelStep:
    """Register ``model`` in the pipeline's model package group, its evaluation report
    (SageMaker model-quality JSON) attached as ModelQuality statistics."""
    types = inputs.instance_types
    return ModelStep(
        name=name,
        step_args=model.register(
            content_types=["text/csv"],
            response_types=["text/csv"],
            inference_instances=[types.inference],
            transform_instances=[types.transform],
            model_package_group_name=inputs.model_package_group_name,
            approval_status=approval_status,
            model_metrics=ModelMetrics(
                model_statistics=MetricsSource(s3_uri=report_uri, content_type="application/json")
            ),
            description=description,
        ),
    )


def batch_transform_steps(
    model: Model,
    *,
    model_name: str,
    transform_name: str,
    inputs: PipelineInputs,
    instance_type,
    data,
    session: PipelineSession,
) -> tuple[ModelStep, TransformStep]:
    """Create ``model`` and transform ``data`` (label-first CSV) with it.

    The model sees the features only (``$[1:]``) and each output line is the input's first
    column beside the prediction (``$[0,-1]``), so predictions can be checked against truth.
    """
    create_model = ModelStep(
        name=model_name, step_args=model.create(instance_type=inputs.instance_types.transform)
    )
    transformer = Transformer(
        model_name=create_model.properties.ModelName,
        instance_count=1,
        instance_type=instance_type,
        output_path=execution_uri(inputs, "transform"),
        accept="text/csv",
        assemble_with="Line",
        strategy="MultiRecord",
        sagemaker_session=session,
    )
    transform = TransformStep(
        name=transform_name,
        step_args=transformer.transform(
            data=data,
            content_type="text/csv",
            split_type="Line",
            input_filter="$[1:]",
            join_source="Input",
            output_filter="$[0,-1]",
        ),
    )
    return create_model, transform
