"""SageMaker Pipelines in the emulated account: the deployed definitions, started through the
API as an attendee, run step by step as jobs of the account created as the pipeline's role.

The bank and bike pipelines read small slices of the vendored data, uploaded under the prefixes
the pipeline role may read; each test waits for its execution through the API.
"""

from __future__ import annotations

import csv
import io
import time

import pytest
from botocore.exceptions import ClientError

from tests.emulator.conftest import attendee_role_arn
from workshopctl.emulator.executors.sagemaker_pipelines import STEP_FAILURE, job_name
from workshopctl.local.mlops_checks import APPROVAL_DESCRIPTION


@pytest.fixture(scope="module")
def attendee(emulated, assembly):
    return emulated.client("sagemaker", "pipelines test (attendee)", attendee_role_arn(assembly))


def run(client, pipeline: str, timeout: float = 300, **parameters) -> dict:
    """Start ``pipeline`` with ``parameters``, wait for it to end; its description and steps."""
    arn = client.start_pipeline_execution(
        PipelineName=pipeline,
        PipelineParameters=[{"Name": k, "Value": str(v)} for k, v in parameters.items()],
    )["PipelineExecutionArn"]
    return ended_execution(client, arn, timeout)


def ended_execution(client, arn: str, timeout: float = 300) -> dict:
    """An execution once it has ended: its description and its steps by name."""
    deadline = time.monotonic() + timeout
    while True:
        described = client.describe_pipeline_execution(PipelineExecutionArn=arn)
        if described["PipelineExecutionStatus"] not in ("Executing", "Stopping"):
            break
        assert time.monotonic() < deadline, f"{arn} still running after {timeout} s"
        time.sleep(0.5)
    steps = client.list_pipeline_execution_steps(PipelineExecutionArn=arn, SortOrder="Ascending")
    return {
        **described,
        "steps": {s["StepName"]: s for s in steps["PipelineExecutionSteps"]},
    }


def statuses(execution: dict) -> dict[str, str]:
    return {name: step["StepStatus"] for name, step in execution["steps"].items()}


def read(emulated, uri: str) -> str:
    """The one object at (or under) an S3 URI, as text."""
    bucket, _, prefix = uri.removeprefix("s3://").partition("/")
    s3 = emulated.client("s3")
    (found,) = s3.list_objects_v2(Bucket=bucket, Prefix=prefix)["Contents"]
    return s3.get_object(Bucket=bucket, Key=found["Key"])["Body"].read().decode()


@pytest.fixture(scope="module")
def bank_pass(attendee, pipeline_runs) -> dict:
    """The session's bank run (tests/emulator/conftest.py QUICK_PARAMETERS)."""
    return ended_execution(attendee, pipeline_runs["mlws-bank-marketing"].execution_arn)


def test_the_bank_pipeline_runs_every_step_and_registers_the_tuned_model(bank_pass, emulated):
    assert bank_pass["PipelineExecutionStatus"] == "Succeeded", bank_pass.get("FailureReason")
    assert statuses(bank_pass) == {
        "PrepareData": "Succeeded",
        "TuneXGBoost": "Succeeded",
        "EvaluateBestModel": "Succeeded",
        "CheckAuc": "Succeeded",
        "TunedXGBoost-RegisterModel": "Succeeded",
        "TunedXGBoostForTransform-CreateModel": "Succeeded",
        "TransformTestSet": "Succeeded",
    }  # the Fail step of the branch not taken never started, so it is not listed
    steps = bank_pass["steps"]
    assert steps["CheckAuc"]["Metadata"] == {"Condition": {"Outcome": "True"}}
    package_arn = steps["TunedXGBoost-RegisterModel"]["Metadata"]["RegisterModel"]["Arn"]
    sagemaker = emulated.client("sagemaker")
    package = sagemaker.describe_model_package(ModelPackageName=package_arn)
    assert package["ModelPackageGroupName"] == "mlws-bank-marketing"
    # Registered as the parameter's default, PendingManualApproval; the session's MLOps checks
    # (tests/emulator/test_mlops_checks.py) may since have approved this very package.
    approved = package.get("ApprovalDescription") == APPROVAL_DESCRIPTION
    expected = "Approved" if approved else "PendingManualApproval"
    assert package["ModelApprovalStatus"] == expected
    # The registered model is the tuning job's best trial's artifact.
    tuning_arn = steps["TuneXGBoost"]["Metadata"]["TuningJob"]["Arn"]
    tuning = sagemaker.describe_hyper_parameter_tuning_job(
        HyperParameterTuningJobName=tuning_arn.rsplit("/", 1)[-1]
    )
    best = tuning["BestTrainingJob"]["TrainingJobName"]
    (container,) = package["InferenceSpecification"]["Containers"]
    assert container["ModelDataUrl"].endswith(f"/{best}/output/model.tar.gz")
    assert tuning["TrainingJobStatusCounters"]["Completed"] == 2  # MaxTuningJobs


def test_the_bank_transform_scores_every_test_row(bank_pass, emulated):
    sagemaker = emulated.client("sagemaker")
    transform_arn = bank_pass["steps"]["TransformTestSet"]["Metadata"]["TransformJob"]["Arn"]
    transform = sagemaker.describe_transform_job(TransformJobName=transform_arn.rsplit("/", 1)[-1])
    source = transform["TransformInput"]["DataSource"]["S3DataSource"]["S3Uri"]
    rows = list(csv.reader(io.StringIO(read(emulated, source))))
    lines = list(
        csv.reader(io.StringIO(read(emulated, transform["TransformOutput"]["S3OutputPath"])))
    )
    assert len(lines) == len(rows) > 100
    for (label, probability), row in zip(lines, rows, strict=True):
        assert label == row[0]  # OutputFilter $[0,-1]: the label, then the score
        assert 0.0 <= float(probability) <= 1.0


def test_every_step_is_created_as_the_pipeline_role_and_nothing_is_denied(
    bank_pass, emulated, assembly
):
    (pipeline,) = [
        r for r in assembly.resources("AWS::SageMaker::Pipeline") if r.name == "mlws-bank-marketing"
    ]
    execution_id = bank_pass["PipelineExecutionArn"].rsplit("/", 1)[-1]
    label = f"pipeline mlws-bank-marketing execution {execution_id}"
    calls = emulated.log.calls(label)
    created = {c.operation for c in calls}
    assert {"CreateProcessingJob", "CreateHyperParameterTuningJob", "CreateModelPackage",
            "CreateModel", "CreateTransformJob"} <= created  # fmt: skip
    assert {c.principal for c in calls} == {pipeline.properties["RoleArn"]}
    assert not [c for c in calls if c.denied]
    # Passing the jobs' role was asked of IAM as the pipeline role, for SageMaker.
    assert any(check.action == "iam:PassRole" for c in calls for check in c.checks)


def test_the_gate_false_branch_fails_with_the_fail_steps_message(attendee, samples, emulated):
    execution = run(attendee, "mlws-bank-marketing", InputDataUri=samples["bank"],
                    MaxTuningJobs=2, AucThreshold=0.99)  # fmt: skip
    assert execution["PipelineExecutionStatus"] == "Failed"
    assert execution["steps"]["CheckAuc"]["Metadata"] == {"Condition": {"Outcome": "False"}}
    fail = execution["steps"]["AucBelowThreshold"]
    assert fail["StepStatus"] == "Failed"
    message = fail["Metadata"]["Fail"]["ErrorMessage"]
    assert message.startswith("Test AUC ") and message.endswith("is below the threshold 0.99")
    assert execution["FailureReason"] == message
    assert "TunedXGBoost-RegisterModel" not in execution["steps"]


def test_a_step_the_pipeline_role_may_not_read_fails_with_the_denial(
    attendee, raw_bucket, emulated
):
    emulated.client("s3").put_object(Bucket=raw_bucket, Key="elsewhere/bank.csv", Body=b"x\n")
    execution = run(attendee, "mlws-bank-marketing",
                    InputDataUri=f"s3://{raw_bucket}/elsewhere/bank.csv")  # fmt: skip
    assert execution["PipelineExecutionStatus"] == "Failed"
    assert execution["FailureReason"] == STEP_FAILURE
    prepare = execution["steps"]["PrepareData"]
    assert prepare["StepStatus"] == "Failed"
    assert "AccessDenied" in prepare["FailureReason"]
    assert "s3:GetObject" in prepare["FailureReason"]
    assert list(execution["steps"]) == ["PrepareData"]
    emulated.client("s3").delete_object(Bucket=raw_bucket, Key="elsewhere/bank.csv")


def test_a_failing_program_fails_its_step_with_its_own_error(attendee, samples):
    execution = run(attendee, "mlws-bank-marketing", InputDataUri=samples["bank"],
                    FeatureSet="everything")  # fmt: skip
    assert execution["steps"]["PrepareData"]["StepStatus"] == "Failed"
    assert "invalid choice: 'everything'" in execution["steps"]["PrepareData"]["FailureReason"]


def test_the_bike_pipeline_trains_the_overridden_model_type(attendee, pipeline_runs, emulated):
    bike = ended_execution(attendee, pipeline_runs["mlws-bike-sharing"].execution_arn)
    assert bike["PipelineExecutionStatus"] == "Succeeded", bike.get("FailureReason")
    training_arn = bike["steps"]["TrainModel"]["Metadata"]["TrainingJob"]["Arn"]
    training = emulated.client("sagemaker").describe_training_job(
        TrainingJobName=training_arn.rsplit("/", 1)[-1]
    )
    assert training["HyperParameters"]["model"] == "tree"  # the parameter, resolved
    # The definition's metric definitions match what the program prints.
    metrics = {m["MetricName"] for m in training["FinalMetricDataList"]}
    assert metrics == {"validation:rmsle", "validation:rmse", "validation:mae"}


def test_the_byom_pipeline_trains_and_transforms_with_the_model_image(
    attendee, pipeline_runs, emulated
):
    byom = ended_execution(attendee, pipeline_runs["mlws-byom"].execution_arn)
    assert byom["PipelineExecutionStatus"] == "Succeeded", byom.get("FailureReason")
    sagemaker = emulated.client("sagemaker")
    training_arn = byom["steps"]["TrainModel"]["Metadata"]["TrainingJob"]["Arn"]
    training = sagemaker.describe_training_job(TrainingJobName=training_arn.rsplit("/", 1)[-1])
    assert training["HyperParameters"] == {"max_leaf_nodes": "3"}  # the override, as a string
    transform_arn = byom["steps"]["TransformExamples"]["Metadata"]["TransformJob"]["Arn"]
    transform = sagemaker.describe_transform_job(TransformJobName=transform_arn.rsplit("/", 1)[-1])
    output = read(emulated, transform["TransformOutput"]["S3OutputPath"])
    pairs = [line.split(",") for line in output.split()]
    assert len(pairs) == 150 and all(len(pair) == 2 for pair in pairs)  # species, predicted
    assert sum(truth == predicted for truth, predicted in pairs) / len(pairs) > 0.9


@pytest.mark.parametrize(
    ("parameters", "message"),
    [({"MaxJobs": "2"}, "unknown parameter"), ({"MaxTuningJobs": "many"}, r"\(Integer\): 'many'")],
)
def test_unknown_or_mistyped_parameters_are_refused_at_start(attendee, parameters, message):
    with pytest.raises(ClientError, match=message) as refused:
        attendee.start_pipeline_execution(
            PipelineName="mlws-bank-marketing",
            PipelineParameters=[{"Name": k, "Value": v} for k, v in parameters.items()],
        )
    assert refused.value.response["Error"]["Code"] == "ValidationException"


def test_a_stopped_execution_stops_its_running_job(attendee, emulated):
    arn = attendee.start_pipeline_execution(PipelineName="mlws-byom")["PipelineExecutionArn"]
    sagemaker = emulated.client("sagemaker")
    deadline = time.monotonic() + 60
    while not attendee.list_pipeline_execution_steps(PipelineExecutionArn=arn)[
        "PipelineExecutionSteps"
    ]:
        assert time.monotonic() < deadline
        time.sleep(0.1)
    sagemaker.stop_pipeline_execution(PipelineExecutionArn=arn, ClientRequestToken="t" * 32)
    while sagemaker.describe_pipeline_execution(PipelineExecutionArn=arn)[
        "PipelineExecutionStatus"
    ] in ("Executing", "Stopping"):
        assert time.monotonic() < deadline
        time.sleep(0.2)
    described = sagemaker.describe_pipeline_execution(PipelineExecutionArn=arn)
    assert described["PipelineExecutionStatus"] == "Stopped"
    steps = sagemaker.list_pipeline_execution_steps(PipelineExecutionArn=arn)
    assert {s["StepStatus"] for s in steps["PipelineExecutionSteps"]} <= {"Stopped", "Succeeded"}
    with pytest.raises(ClientError, match="only an Executing execution can be stopped"):
        sagemaker.stop_pipeline_execution(PipelineExecutionArn=arn, ClientRequestToken="u" * 32)


def test_job_names_fit_the_api_limits():
    assert len(job_name("a" * 12, "TunedXGBoostForTransform-CreateModel")) == 63
    assert job_name("a" * 12, "Short").startswith("pipelines-aaaaaaaaaaaa-Short-")
    assert len(job_name("a" * 12, "TuneXGBoost", 32)) == 32


def test_a_registered_version_is_listed_with_its_tags_and_can_be_deleted(bank_pass, emulated):
    """What the janitor and the labs' clean-up do with a version a pipeline registered: moto
    implements neither call for a versioned package (executors/sagemaker_registry.py)."""
    steps = bank_pass["steps"]
    arn = steps["TunedXGBoost-RegisterModel"]["Metadata"]["RegisterModel"]["Arn"]
    sagemaker = emulated.client("sagemaker")
    assert sagemaker.list_tags(ResourceArn=arn)["Tags"] == []  # the step passed no tags
    sagemaker.delete_model_package(ModelPackageName=arn)
    with pytest.raises(ClientError, match="does not exist"):
        sagemaker.list_tags(ResourceArn=arn)
    with pytest.raises(ClientError, match="does not exist"):
        sagemaker.delete_model_package(ModelPackageName=arn)
    # SageMaker never gives a deleted version's number again (moto would: len(group) + 1),
    # so a later registration's model and config names cannot meet the deleted one's.
    deleted = int(arn.rsplit("/", 1)[1])
    package = steps["TunedXGBoost-RegisterModel"]["Metadata"]["RegisterModel"]
    described = {
        "InferenceSpecification": {
            "Containers": [
                {
                    "Image": "683313688378.dkr.ecr.us-east-1.amazonaws.com/x:1",
                    "ModelDataUrl": "s3://b/k",
                }
            ],
            "SupportedContentTypes": ["text/csv"],
            "SupportedResponseMIMETypes": ["text/csv"],
        }
    }
    again = sagemaker.create_model_package(ModelPackageGroupName="mlws-bank-marketing", **described)
    version = int(again["ModelPackageArn"].rsplit("/", 1)[1])
    assert version > deleted, (package, again["ModelPackageArn"])
    listed = sagemaker.describe_model_package(ModelPackageName=again["ModelPackageArn"])
    assert listed["ModelPackageVersion"] == version
    sagemaker.delete_model_package(ModelPackageName=again["ModelPackageArn"])
