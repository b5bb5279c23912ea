"""The helper's AWS side, offline: moto plays S3, SSM, Athena, SageMaker and Application Auto
Scaling; botocore's Stubber plays Comprehend (moto has no BatchDetectSentiment).

These tests pin what an attendee's role requires (prefixed names, the workshop tag, writes under
their own prefix) and that the SageMaker calls are the SDK v2 ones the labs teach (instance
count, sharded channel, production variants), read back from the mocked APIs.
"""

from __future__ import annotations

import json
from pathlib import Path

import boto3
import pandas as pd
import pytest
import workshop
from botocore.stub import Stubber
from moto import mock_aws
from moto.athena.models import QueryResults, athena_backends
from moto.core import DEFAULT_ACCOUNT_ID

REGION = "eu-west-1"  # any real region: image URIs are looked up per region
ENVIRONMENT = {
    "prefix": "mlws",
    "region": REGION,
    "raw_bucket": "workshop-raw",
    "curated_bucket": "workshop-curated",
    "attendees_prefix": "attendees/",
    "scratch_prefix": "scratch/",
    "athena_workgroup": "mlws-workgroup",
    "glue_database": "mlws_datalake",
    "execution_role_arn": f"arn:aws:iam::{DEFAULT_ACCOUNT_ID}:role/workshop-execution",
    "tags": {"workshop": "mlws"},
}


@pytest.fixture
def aws(monkeypatch, tmp_path):
    """A fresh helper in AWS mode over moto, for the attendee ``alice``."""
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"):
        monkeypatch.setenv(name, "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
    monkeypatch.delenv("WORKSHOP_TARGET", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path))  # the state file lives under ~/SageMaker
    monkeypatch.setenv("WORKSHOP_NOTEBOOK", "mlws-alice")
    env_file = tmp_path / "env.json"
    env_file.write_text(json.dumps(ENVIRONMENT))
    monkeypatch.setenv("WORKSHOP_ENV_FILE", str(env_file))
    _forget_cached_sessions()
    # The SDK polls jobs and endpoints every few seconds; moto answers at once.
    monkeypatch.setattr("sagemaker.session.time.sleep", lambda seconds: None)
    with mock_aws():
        s3 = boto3.client("s3", region_name=REGION)
        for bucket in (ENVIRONMENT["raw_bucket"], ENVIRONMENT["curated_bucket"]):
            s3.create_bucket(
                Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": REGION}
            )
        yield s3
    _forget_cached_sessions()


def _forget_cached_sessions():
    for cached in (workshop.environment, workshop.sagemaker_session, workshop._boto_session):
        cached.cache_clear()


def _upload_bank_channels() -> dict[str, str]:
    rows = pd.DataFrame({"y": [1, 0, 1], "age": [30, 40, 50]})
    for part in (1, 2):
        workshop.write_csv(rows, workshop.s3_uri(f"bank/train/part-{part}.csv"))
    workshop.write_csv(rows, workshop.s3_uri("bank/validation/validation.csv"))
    return {
        "train": workshop.s3_uri("bank/train/"),
        "validation": workshop.s3_uri("bank/validation/"),
    }


def _tags(arn: str) -> dict[str, str]:
    listed = boto3.client("sagemaker", region_name=REGION).list_tags(ResourceArn=arn)["Tags"]
    return {tag["Key"]: tag["Value"] for tag in listed}


# -- the environment -------------------------------------------------------------------------------
def test_environment_comes_from_env_json_and_the_attendee_from_the_notebook_name(aws):
    env = workshop.environment()

    assert env.region == REGION and env.attendee == "alice"
    assert env.curated_bucket == "workshop-curated"
    assert workshop.s3_uri("x.csv") == "s3://workshop-curated/attendees/alice/x.csv"
    assert workshop.tags() == [{"Key": "workshop", "Value": "mlws"}]
    assert env.ab_endpoint_name == "mlws-bank-ab"


def test_jobs_run_as_the_attendees_own_role_from_what_the_stack_published(
    aws, tmp_path, monkeypatch
):
    own = f"arn:aws:iam::{DEFAULT_ACCOUNT_ID}:role/alice"
    published = {**ENVIRONMENT, "execution_roles": {"alice": own, "bob": "not-alice"}}
    published.pop("execution_role_arn")
    env_file = tmp_path / "published.json"
    env_file.write_text(json.dumps(published))
    monkeypatch.setenv("WORKSHOP_ENV_FILE", str(env_file))
    _forget_cached_sessions()
    assert workshop.environment().execution_role_arn == own


def test_endpoint_names_come_from_what_the_stack_published(aws, tmp_path, monkeypatch):
    published = {**ENVIRONMENT, "endpoints": {"ab": "mlws-ab-renamed", "byom": "mlws-b2"}}
    env_file = tmp_path / "published.json"
    env_file.write_text(json.dumps(published))
    monkeypatch.setenv("WORKSHOP_ENV_FILE", str(env_file))
    _forget_cached_sessions()
    env = workshop.environment()
    assert (env.ab_endpoint_name, env.byom_endpoint_name) == ("mlws-ab-renamed", "mlws-b2")


def test_without_env_json_the_ssm_parameter_is_found_from_a_prefix_with_a_dash(
    aws, monkeypatch, tmp_path
):
    monkeypatch.setenv("WORKSHOP_ENV_FILE", str(tmp_path / "missing.json"))
    monkeypatch.setenv("WORKSHOP_NOTEBOOK", "ml-ws-bob")
    values = {**ENVIRONMENT, "prefix": "ml-ws"}
    boto3.client("ssm", region_name=REGION).put_parameter(
        Name="/ml-ws/workshop", Value=json.dumps(values), Type="String"
    )
    env = workshop.environment()

    assert (env.prefix, env.attendee) == ("ml-ws", "bob")
    assert env.source == "SSM parameter /ml-ws/workshop"


def test_unique_names_fit_the_limits_and_keep_the_prefix_the_role_checks(aws):
    job = workshop.unique_name("bank-xgb")
    tuning = workshop.unique_name("a-rather-long-hpo-suffix", max_length=32)

    assert job.startswith("mlws-alice-bank-xgb-") and len(job) <= 63
    assert tuning.startswith("mlws-") and len(tuning) <= 32


def test_a_prefix_too_long_for_a_tuning_job_name_is_an_error_not_a_denied_call(
    aws, monkeypatch, tmp_path
):
    env_file = tmp_path / "long.json"
    env_file.write_text(json.dumps({**ENVIRONMENT, "prefix": "a-very-long-workshop-pfx"}))
    monkeypatch.setenv("WORKSHOP_ENV_FILE", str(env_file))
    monkeypatch.setenv("WORKSHOP_NOTEBOOK", "a-very-long-workshop-pfx-alice")
    workshop.environment.cache_clear()

    with pytest.raises(ValueError, match="too long"):
        workshop.unique_name("hpo", max_length=32)


# -- S3, Athena, Comprehend ----------------------------------------------------------------------
def test_csv_round_trip_and_prefix_listing_stay_under_the_attendees_prefix(aws):
    frame = pd.DataFrame({"a": [1, 2], "b": ["x", "y"]})
    uri = workshop.write_csv(frame, workshop.s3_uri("m2/features.csv"), header=True)

    pd.testing.assert_frame_equal(workshop.read_csv(uri), frame)
    assert workshop.list_objects(workshop.s3_uri("m2/")) == [uri]
    keys = [o["Key"] for o in aws.list_objects_v2(Bucket="workshop-curated")["Contents"]]
    assert keys == ["attendees/alice/m2/features.csv"]


def test_athena_query_runs_in_the_workgroup_and_types_the_columns(aws):
    athena = boto3.client("athena", region_name=REGION)
    athena.create_work_group(
        Name="mlws-workgroup",
        Configuration={"ResultConfiguration": {"OutputLocation": "s3://workshop-results/"}},
    )
    backend = athena_backends[DEFAULT_ACCOUNT_ID][REGION]
    backend.query_results_queue.append(
        QueryResults(
            rows=[
                {"Data": [{"VarCharValue": "hr"}, {"VarCharValue": "mean"}]},  # the header
                {"Data": [{"VarCharValue": "0"}, {"VarCharValue": "53.9"}]},
                {"Data": [{"VarCharValue": "1"}, {"VarCharValue": "33.4"}]},
            ],
            column_info=[
                {"Name": "hr", "Type": "integer"},
                {"Name": "mean", "Type": "double"},
            ],
        )
    )
    frame = workshop.athena_query("SELECT hr, AVG(cnt) AS mean FROM bike_sharing_hourly")

    assert frame["hr"].tolist() == [0, 1] and frame["mean"].tolist() == [53.9, 33.4]
    assert str(frame["hr"].dtype) == "Int64"
    executions = athena.list_query_executions(WorkGroup="mlws-workgroup")
    assert len(executions["QueryExecutionIds"]) == 1


def test_comprehend_goes_in_batches_of_25_and_skips_empty_texts(aws, monkeypatch):
    client = boto3.client("comprehend", region_name=REGION)
    monkeypatch.setattr(workshop, "_client", lambda service: client)
    texts = [f"review {i}" for i in range(30)]
    texts[3] = "   "
    texts[4] = "é" * 3000  # 6,000 bytes of UTF-8: cut to 5,000 on a character boundary
    sendable = [i for i, text in enumerate(texts) if text.strip()]
    with Stubber(client) as stubber:
        for batch in (sendable[:25], sendable[25:]):
            sent = [texts[i] if i != 4 else "é" * 2500 for i in batch]
            answer = [
                {"Index": n, "Sentiment": "POSITIVE",
                 "SentimentScore": {"Positive": 0.9, "Negative": 0.05, "Neutral": 0.04,
                                    "Mixed": 0.01}}
                for n in range(len(batch))
            ]  # fmt: skip
            stubber.add_response(
                "batch_detect_sentiment",
                {"ResultList": answer, "ErrorList": []},
                {"TextList": sent, "LanguageCode": "en"},
            )
        frame = workshop.comprehend_sentiment(texts)

    assert len(frame) == 30 and pd.isna(frame.loc[3, "sentiment"])
    assert frame.loc[3, "error"].startswith("empty text")
    assert (frame.drop(index=3)["sentiment"] == "POSITIVE").all()
    assert frame.attrs["model"].startswith("Amazon Comprehend")


# -- SageMaker -----------------------------------------------------------------------------------
def test_bank_training_runs_on_two_instances_with_the_train_channel_sharded(aws):
    channels = _upload_bank_channels()
    job = workshop.train_bank_xgboost(
        channels["train"], channels["validation"], {"num_round": 10}, instance_count=2
    )
    described = boto3.client("sagemaker", region_name=REGION).describe_training_job(
        TrainingJobName=job.name
    )

    assert job.name.startswith("mlws-alice-bank-xgb-")
    assert described["ResourceConfig"]["InstanceCount"] == 2
    distribution = {
        c["ChannelName"]: c["DataSource"]["S3DataSource"]["S3DataDistributionType"]
        for c in described["InputDataConfig"]
    }
    assert distribution == {"train": "ShardedByS3Key", "validation": "FullyReplicated"}
    assert described["AlgorithmSpecification"]["TrainingImage"].endswith("/sagemaker-xgboost:1.7-1")
    assert f".{REGION}." in described["AlgorithmSpecification"]["TrainingImage"]
    assert described["HyperParameters"]["num_round"] == "10"
    assert described["RoleArn"] == ENVIRONMENT["execution_role_arn"]
    assert job.model_data.startswith("s3://workshop-curated/attendees/alice/")
    assert _tags(described["TrainingJobArn"]) == {"workshop": "mlws"}


def test_ab_endpoint_weights_autoscaling_and_clean_up(aws):
    sm = boto3.client("sagemaker", region_name=REGION)
    model_data = workshop.s3_uri("models/model.tar.gz")
    endpoint = workshop.deploy(
        {"variant-a": model_data, "variant-b": model_data},
        kind="xgboost", suffix="bank-ab", weights={"variant-a": 0.9, "variant-b": 0.1},
    )  # fmt: skip
    config = sm.describe_endpoint_config(EndpointConfigName=endpoint)
    described = sm.describe_endpoint(EndpointName=endpoint)

    assert endpoint.startswith("mlws-alice-bank-ab-")
    assert {v["VariantName"]: v["InitialVariantWeight"] for v in config["ProductionVariants"]} == {
        "variant-a": 0.9,
        "variant-b": 0.1,
    }
    assert _tags(described["EndpointArn"]) == {"workshop": "mlws"}
    models = [v["ModelName"] for v in config["ProductionVariants"]]
    assert all(m.startswith("mlws-alice-bank-ab-variant-") for m in models)

    assert workshop.set_weights(endpoint, {"variant-a": 0.5, "variant-b": 0.5}) == {
        "variant-a": 0.5,
        "variant-b": 0.5,
    }
    registrations: list[dict] = []
    workshop._boto_session().events.register(
        "provide-client-params.application-autoscaling.RegisterScalableTarget",
        lambda params, **_: registrations.append(dict(params)),
    )
    policy = workshop.enable_autoscaling(endpoint, "variant-a", max_instances=3)
    targets = boto3.client("application-autoscaling", region_name=REGION)
    registered = targets.describe_scalable_targets(ServiceNamespace="sagemaker")
    assert [(t["ResourceId"], t["MinCapacity"], t["MaxCapacity"])
            for t in registered["ScalableTargets"]] == [
        (f"endpoint/{endpoint}/variant/variant-a", 1, 3)
    ]  # fmt: skip
    assert policy["PolicyARN"]
    # The attendee's role may change only scalable targets tagged with its name.
    assert registrations[-1]["Tags"] == {"workshop": "mlws", "attendee": "alice"}

    removed = workshop.cleanup()

    assert removed == [f"endpoint {endpoint}", *(f"model {m}" for m in models)]
    assert sm.list_endpoints()["Endpoints"] == [] and sm.list_models()["Models"] == []
    assert targets.describe_scalable_targets(ServiceNamespace="sagemaker")["ScalableTargets"] == []
    assert workshop.cleanup() == []


def test_cleanup_with_data_removes_only_the_attendees_objects(aws):
    aws.put_object(Bucket="workshop-curated", Key="attendees/bob/keep.csv", Body=b"1")
    workshop.write_csv(pd.DataFrame({"a": [1]}), workshop.s3_uri("m2/a.csv"))

    removed = workshop.cleanup(data=True)

    assert removed == ["s3://workshop-curated/attendees/alice/m2/a.csv"]
    keys = [o["Key"] for o in aws.list_objects_v2(Bucket="workshop-curated")["Contents"]]
    assert keys == ["attendees/bob/keep.csv"]


def test_state_survives_between_notebooks(aws, tmp_path):
    workshop.remember("bank_data", {"train": "s3://x"})

    assert workshop.recall("bank_data") == {"train": "s3://x"}
    assert Path(tmp_path / "SageMaker/.workshop/labs-state.json").exists()
    with pytest.raises(KeyError, match="run the earlier module"):
        workshop.recall("tuning_job")


def test_tuning_is_a_bayesian_job_over_the_ranges_and_is_remembered(aws):
    from sagemaker.tuner import ContinuousParameter, IntegerParameter

    channels = _upload_bank_channels()
    name = workshop.tune(
        channels["train"], channels["validation"],
        {"eta": ContinuousParameter(0, 1), "max_depth": IntegerParameter(1, 10)},
        static_hyperparameters={"num_round": 10}, max_jobs=4, max_parallel_jobs=2,
    )  # fmt: skip
    described = boto3.client("sagemaker", region_name=REGION).describe_hyper_parameter_tuning_job(
        HyperParameterTuningJobName=name
    )
    config = described["HyperParameterTuningJobConfig"]

    assert name.startswith("mlws-alice-hpo-") and len(name) <= 32
    assert config["Strategy"] == "Bayesian"
    assert config["HyperParameterTuningJobObjective"] == {
        "Type": "Maximize", "MetricName": "validation:auc"
    }  # fmt: skip
    assert config["ResourceLimits"] == {"MaxNumberOfTrainingJobs": 4, "MaxParallelTrainingJobs": 2}
    ranges = config["ParameterRanges"]
    assert [r["Name"] for r in ranges["ContinuousParameterRanges"]] == ["eta"]
    assert [r["Name"] for r in ranges["IntegerParameterRanges"]] == ["max_depth"]
    assert _tags(described["HyperParameterTuningJobArn"]) == {"workshop": "mlws"}
    assert workshop.recall("tuning_job") == name


def test_batch_transform_splits_csv_by_line_into_the_attendees_prefix(aws):
    model_data = workshop.s3_uri("models/model.tar.gz")
    workshop.batch_transform(
        model_data, workshop.s3_uri("batch/in/"), workshop.s3_uri("batch/out/"), kind="xgboost"
    )
    sm = boto3.client("sagemaker", region_name=REGION)
    [summary] = sm.list_transform_jobs()["TransformJobSummaries"]
    job = sm.describe_transform_job(TransformJobName=summary["TransformJobName"])

    assert job["TransformJobName"].startswith("mlws-alice-transform-")
    assert job["TransformInput"]["SplitType"] == "Line"
    assert job["TransformInput"]["ContentType"] == "text/csv"
    assert job["TransformOutput"]["S3OutputPath"] == workshop.s3_uri("batch/out/")
    assert job["ModelName"].startswith("mlws-alice-transform-model-")


def test_multi_model_endpoint_uses_the_newest_workshop_image_and_copies_the_archives(
    aws, monkeypatch, tmp_path
):
    ecr = boto3.client("ecr", region_name=REGION)
    repository = ecr.create_repository(repositoryName="workshop-models")["repository"]
    manifest = json.dumps(
        {
            "schemaVersion": 2,
            "mediaType": "application/vnd.docker.distribution.manifest.v2+json",
            "layers": [],
        }
    )
    ecr.put_image(repositoryName="workshop-models", imageManifest=manifest, imageTag="src-1")
    env_file = tmp_path / "with-image.json"
    env_file.write_text(
        json.dumps({**ENVIRONMENT, "model_repository_uri": repository["repositoryUri"]})
    )
    monkeypatch.setenv("WORKSHOP_ENV_FILE", str(env_file))
    workshop.environment.cache_clear()
    aws.put_object(Bucket="workshop-curated", Key="attendees/alice/m/model.tar.gz", Body=b"tar")

    endpoint = workshop.deploy_multi_model(
        {"iris-a.tar.gz": workshop.s3_uri("m/model.tar.gz")}, suffix="byom-multi"
    )
    sm = boto3.client("sagemaker", region_name=REGION)
    [variant] = sm.describe_endpoint_config(EndpointConfigName=endpoint)["ProductionVariants"]
    container = sm.describe_model(ModelName=variant["ModelName"])["PrimaryContainer"]

    assert container["Image"] == f"{repository['repositoryUri']}:src-1"
    assert container["Mode"] == "MultiModel"
    model_arn = sm.describe_model(ModelName=variant["ModelName"])["ModelArn"]
    assert _tags(model_arn) == {"workshop": "mlws"}
    assert container["ModelDataUrl"] == workshop.s3_uri(f"byom/multi-model/{endpoint}/")
    assert workshop.list_objects(container["ModelDataUrl"]) == [
        workshop.s3_uri(f"byom/multi-model/{endpoint}/iris-a.tar.gz")
    ]
    workshop.cleanup()
    assert sm.list_endpoints()["Endpoints"] == [] and sm.list_models()["Models"] == []
