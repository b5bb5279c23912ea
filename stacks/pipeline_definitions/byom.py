"""Module 7 as a pipeline: make the example data with the workshop's own model image →
train with that image → create the model → batch-transform the examples.

The image carries the iris data (scikit-learn ships it), so the pipeline needs no uploaded
data: its first step writes the label-first training CSV, and the batch transform reads the
same file with the label filtered out and joined back beside each prediction, so every output
line is "species,predicted species".
"""

from __future__ import annotations

from sagemaker.estimator import Estimator
from sagemaker.inputs import TrainingInput
from sagemaker.model import Model
from sagemaker.processing import ProcessingOutput, Processor
from sagemaker.workflow.parameters import ParameterInteger, ParameterString
from sagemaker.workflow.steps import ProcessingStep, TrainingStep

from stacks.pipeline_definitions.definition import built_quietly, pipeline_definition
from stacks.pipeline_definitions.inputs import PipelineInputs
from stacks.pipeline_definitions.jobs import NO_DEBUGGER, execution_uri, output_path
from stacks.pipeline_definitions.model_steps import batch_transform_steps
from stacks.pipeline_definitions.offline_session import offline_session

MAX_LEAF_NODES = 5  # the workshop notebook's hyperparameter
EXAMPLES_FILE = "iris.csv"
# What the image's train program prints: "train_accuracy=0.973333".
METRIC_DEFINITIONS = [{"Name": "train:accuracy", "Regex": "train_accuracy=([0-9.]+)"}]


@built_quietly
def byom_definition(inputs: PipelineInputs) -> dict:
    """The bring-your-own-model pipeline's definition, parsed and free of volatile values."""
    inputs.require("byom_image_uri")
    session = offline_session(inputs.region)
    types = inputs.instance_types
    image = inputs.byom_image_uri
    processing_type = ParameterString("ProcessingInstanceType", default_value=types.processing)
    training_type = ParameterString("TrainingInstanceType", default_value=types.training)
    transform_type = ParameterString("TransformInstanceType", default_value=types.transform)
    max_leaf_nodes = ParameterInteger("MaxLeafNodes", default_value=MAX_LEAF_NODES)

    examples = Processor(
        role=inputs.role_arn,
        image_uri=image,
        instance_count=1,
        instance_type=processing_type,
        entrypoint=["python", "-m", "byom.iris_data", f"{output_path('examples')}/{EXAMPLES_FILE}"],
        sagemaker_session=session,
    )
    make_examples = ProcessingStep(
        name="MakeExampleData",
        step_args=examples.run(
            outputs=[
                ProcessingOutput(
                    source=output_path("examples"),
                    destination=execution_uri(inputs, "examples"),
                    output_name="examples",
                )
            ]
        ),
    )
    examples_uri = make_examples.properties.ProcessingOutputConfig.Outputs[
        "examples"
    ].S3Output.S3Uri

    estimator = Estimator(
        image_uri=image,
        role=inputs.role_arn,
        instance_count=1,
        instance_type=training_type,
        output_path=execution_uri(inputs, "models"),
        hyperparameters={"max_leaf_nodes": max_leaf_nodes},
        metric_definitions=METRIC_DEFINITIONS,
        sagemaker_session=session,
        **NO_DEBUGGER,
    )
    train = TrainingStep(
        name="TrainModel",
        step_args=estimator.fit(
            inputs={"training": TrainingInput(examples_uri, content_type="text/csv")}
        ),
    )
    model = Model(
        image_uri=image,
        model_data=train.properties.ModelArtifacts.S3ModelArtifacts,
        role=inputs.role_arn,
        sagemaker_session=session,
    )
    create_model, transform = batch_transform_steps(
        model,
        model_name="IrisTree",
        transform_name="TransformExamples",
        inputs=inputs,
        instance_type=transform_type,
        data=examples_uri,
        session=session,
    )
    parameters = [processing_type, training_type, transform_type, max_leaf_nodes]
    return pipeline_definition(
        inputs.pipeline_name,
        parameters,
        [make_examples, train, create_model, transform],
        session,
    )
