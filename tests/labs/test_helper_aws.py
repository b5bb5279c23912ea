"""The helper's AWS side, offline: moto plays S3, SSM, Athena, SageMaker and Application Auto
Scaling; botocore's Stubber plays Comprehend (moto has no BatchDetectSentiment).

These tests pin what an attendee's role requires (prefixed names, the workshop tag, writes under
their own prefix) and what the helper keeps for modules 5-7 (names, the clean-up of what the
notebooks' SDK v3 cells created, logs, transform answers, gains). The SDK calls themselves are
in the notebooks, which tests/labs/test_notebooks_run.py executes against the emulated account.
"""

from __future__ import annotations

import json
import time
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


def _publish(values: dict, parts: list[dict]) -> None:
    """The stack's parameters: the shared one and the attendees' parts it lists."""
    ssm = boto3.client("ssm", region_name=REGION)
    name = f"/{values['prefix']}/workshop"
    names = [f"{name}/attendees/{n}" for n in range(1, len(parts) + 1)]
    shared = {**values, "attendee_parameters": names}
    shared.pop("execution_role_arn", None)
    ssm.put_parameter(Name=name, Value=json.dumps(shared), Type="String")
    for part_name, part in zip(names, parts, strict=True):
        ssm.put_parameter(Name=part_name, Value=json.dumps(part), Type="String")


def test_the_attendees_entries_come_from_the_parts_the_shared_parameter_lists(
    aws, monkeypatch, tmp_path
):
    """The shared parameter names nothing per attendee (SSM's 4 KB would not hold 100 of
    them): env.json carries the shared values, the helper reads in the parts, here eleven
    (two GetParameters calls), and presents them as before."""
    parts = [
        {"execution_roles": {f"a{n}": f"arn:aws:iam::1:role/a{n}"},
         "image_repositories": {f"a{n}": f"mlws-a{n}-byom"}}
        for n in range(10)
    ] + [{"execution_roles": {"alice": "arn:aws:iam::1:role/alice"},
          "image_repositories": {"alice": "mlws-alice-byom"}}]  # fmt: skip
    _publish({**ENVIRONMENT, "model_repository_uri": "1.dkr.ecr.eu-west-1.amazonaws.com/m"}, parts)
    shared = boto3.client("ssm", region_name=REGION).get_parameter(Name="/mlws/workshop")
    env_file = tmp_path / "published.json"
    env_file.write_text(shared["Parameter"]["Value"])  # what the lifecycle script writes
    monkeypatch.setenv("WORKSHOP_ENV_FILE", str(env_file))
    _forget_cached_sessions()
    env = workshop.environment()
    assert env.execution_role_arn == "arn:aws:iam::1:role/alice"
    assert len(env.image_repositories) == 11
    assert workshop.own_image_repository() == "1.dkr.ecr.eu-west-1.amazonaws.com/mlws-alice-byom"

    monkeypatch.setenv("WORKSHOP_ENV_FILE", str(tmp_path / "missing.json"))  # SSM alone
    monkeypatch.setenv("WORKSHOP_NOTEBOOK", "mlws-a3")
    _forget_cached_sessions()
    env = workshop.environment()
    assert (env.attendee, env.execution_role_arn) == ("a3", "arn:aws:iam::1:role/a3")
    assert env.source == "SSM parameter /mlws/workshop"


def test_a_missing_attendees_parameter_is_a_clear_error(aws, monkeypatch, tmp_path):
    env_file = tmp_path / "published.json"
    env_file.write_text(
        json.dumps({**ENVIRONMENT, "attendee_parameters": ["/mlws/workshop/attendees/1"]})
    )
    monkeypatch.setenv("WORKSHOP_ENV_FILE", str(env_file))
    _forget_cached_sessions()
    with pytest.raises(RuntimeError, match=r"/mlws/workshop/attendees/1"):
        workshop.environment()


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
def test_names_fit_each_kind_and_only_hosting_resources_are_recorded_for_clean_up(aws):
    names = {kind: workshop.new_name(kind, "bank-xgb") for kind in workshop.NAME_KINDS}

    assert all(name.startswith("mlws-alice-") for name in names.values())
    assert all(len(names[kind]) <= limit for kind, limit in workshop.NAME_KINDS.items())
    state = workshop._state()
    assert {kind: state.get(kind) for kind in workshop.CLEANED_UP} == {
        kind: [names[kind]] for kind in workshop.CLEANED_UP
    }
    assert "job" not in state and "tuning-job" not in state
    with pytest.raises(ValueError, match="endpoint-config"):
        workshop.new_name("notebook", "x")


def test_cleanup_deletes_what_was_named_scaling_first_and_is_safe_twice(aws):
    """What the labs' cells create with the SDK, under names from new_name, goes."""
    sm = boto3.client("sagemaker", region_name=REGION)
    model = workshop.new_name("model", "bank")
    sm.create_model(
        ModelName=model,
        PrimaryContainer={"Image": "x", "ModelDataUrl": workshop.s3_uri("m.tar.gz")},
        ExecutionRoleArn=ENVIRONMENT["execution_role_arn"],
    )
    config = workshop.new_name("endpoint-config", "bank-ab")
    sm.create_endpoint_config(
        EndpointConfigName=config,
        ProductionVariants=[{"VariantName": "champion", "ModelName": model,
                             "InstanceType": "ml.m5.large", "InitialInstanceCount": 1}],
    )  # fmt: skip
    endpoint = workshop.new_name("endpoint", "bank-ab")
    sm.create_endpoint(EndpointName=endpoint, EndpointConfigName=config)
    autoscaling = boto3.client("application-autoscaling", region_name=REGION)
    autoscaling.register_scalable_target(
        ServiceNamespace="sagemaker",
        ResourceId=workshop.scalable_target(endpoint, "champion"),
        ScalableDimension="sagemaker:variant:DesiredInstanceCount",
        MinCapacity=1,
        MaxCapacity=2,
    )
    workshop.new_name("model", "never-created")  # named, then the cell failed: nothing to delete

    removed = workshop.cleanup()

    assert removed == [
        f"scalable target endpoint/{endpoint}/variant/champion",
        f"endpoint {endpoint}",
        f"endpoint-config {config}",
        f"model {model}",
    ]
    assert sm.list_endpoints()["Endpoints"] == [] and sm.list_models()["Models"] == []
    assert sm.list_endpoint_configs()["EndpointConfigs"] == []
    assert (
        autoscaling.describe_scalable_targets(ServiceNamespace="sagemaker")["ScalableTargets"] == []
    )
    assert workshop.cleanup() == []


def test_the_sdk_check_names_the_pin_to_install(aws, monkeypatch):
    monkeypatch.setattr("importlib.metadata.version", lambda name: "2.257.7")
    with pytest.raises(RuntimeError, match=r"sagemaker==3\.27\.0"):
        workshop.check_sdk()


def test_batch_transform_answers_are_read_in_file_order(aws):
    for name, lines in (("b.csv.out", "0.3\n0.4\n"), ("a.csv.out", "0.1\n0.2\n")):
        aws.put_object(
            Bucket="workshop-curated", Key=f"attendees/alice/out/{name}", Body=lines.encode()
        )
    aws.put_object(Bucket="workshop-curated", Key="attendees/alice/out/other.txt", Body=b"9")

    assert workshop.read_predictions(workshop.s3_uri("out/")) == [0.1, 0.2, 0.3, 0.4]


def test_the_gains_of_a_perfect_order_and_of_a_random_one():
    y = [1] * 20 + [0] * 80
    perfect = workshop.gains(y, [1.0] * 20 + [0.0] * 80)
    reversed_order = workshop.gains(y, [0.0] * 20 + [1.0] * 80)

    assert perfect.loc[perfect["called"] == 0.2, "reached"].item() == 1.0
    assert reversed_order.loc[reversed_order["called"] == 0.8, "reached"].item() == 0.0
    assert len(perfect) == 100 and perfect["called"].iloc[-1] == 1.0


def test_the_training_log_reads_each_instances_stream(aws):
    logs = boto3.client("logs", region_name=REGION)
    logs.create_log_group(logGroupName=workshop.TRAINING_LOG_GROUP)
    now = int(time.time() * 1000)  # CloudWatch Logs refuses events older than 14 days
    for host in ("algo-1", "algo-2"):
        stream = f"mlws-alice-job/{host}-1700000000"
        logs.create_log_stream(logGroupName=workshop.TRAINING_LOG_GROUP, logStreamName=stream)
        logs.put_log_events(
            logGroupName=workshop.TRAINING_LOG_GROUP,
            logStreamName=stream,
            logEvents=[{"timestamp": now + i, "message": f"round {i}"} for i in range(5)],
        )

    lines = workshop.training_log("mlws-alice-job", last=2)

    assert lines == [
        "[algo-1] round 3", "[algo-1] round 4", "[algo-2] round 3", "[algo-2] round 4"
    ]  # fmt: skip


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


def test_the_byom_image_is_the_newest_tag_when_none_is_published(aws, monkeypatch, tmp_path):
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

    assert workshop.byom_image() == f"{repository['repositoryUri']}:src-1"
