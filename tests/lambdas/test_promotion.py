"""Promotion of an approved model to the challenger variant, against moto.

UpdateEndpoint is the one call moto lacks: ``UpdateEndpointGap`` (ab_endpoint_fixtures) answers
it through a botocore Stubber and applies it to moto's endpoint as SageMaker documents it.
"""

from __future__ import annotations

import re

import boto3
import pytest
from botocore.exceptions import ClientError
from moto import mock_aws

from lambdas.promotion.handler import promote
from lambdas.promotion.promotion import (
    EVENT_DETAIL_TYPE,
    NAME_LIMIT,
    EndpointNotReady,
    Settings,
    SettingsError,
    model_name,
)
from tests.lambdas.ab_endpoint_fixtures import (
    CHAMPION_MODEL,
    DATA_CAPTURE,
    ENDPOINT,
    GROUP,
    INITIAL_CONFIG,
    INSTANCE_TYPE,
    KMS_KEY,
    OTHER_GROUP,
    PREFIX,
    REGION,
    ROLE,
    XGBOOST_IMAGE,
    CallLog,
    UpdateEndpointGap,
    autoscale,
    build_ab_endpoint,
    live_variants,
    set_status,
)

ENVIRONMENT = {
    "WORKSHOP_PREFIX": PREFIX,
    "MODEL_PACKAGE_GROUP": GROUP,
    "ENDPOINT_NAME": ENDPOINT,
    "EXECUTION_ROLE_ARN": ROLE,
    "CHALLENGER_WEIGHT": "0.1",
    "CHALLENGER_VARIANT": "variant-b",
}
SAGEMAKER_NAME = re.compile(r"^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}$")


@pytest.fixture
def aws(monkeypatch):
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        monkeypatch.setenv(name, "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
    with mock_aws():
        sagemaker = boto3.client("sagemaker", region_name=REGION)
        build_ab_endpoint(sagemaker)
        autoscale(sagemaker, {"variant-a": 3})  # the champion scaled out under load
        for group in (GROUP, OTHER_GROUP):
            sagemaker.create_model_package_group(ModelPackageGroupName=group)
        yield sagemaker


@pytest.fixture
def client(aws):
    return UpdateEndpointGap(aws)


@pytest.fixture
def settings():
    return Settings.from_env(ENVIRONMENT)


def register(sagemaker, group=GROUP, artifact="tuned-v1", status="Approved") -> str:
    arn = sagemaker.create_model_package(
        ModelPackageGroupName=group,
        ModelApprovalStatus="PendingManualApproval",
        InferenceSpecification={
            "Containers": [{"Image": XGBOOST_IMAGE, "ModelDataUrl": model_data(artifact)}],
            "SupportedContentTypes": ["text/csv"],
            "SupportedResponseMIMETypes": ["text/csv"],
        },
    )["ModelPackageArn"]
    sagemaker.update_model_package(ModelPackageArn=arn, ModelApprovalStatus=status)
    return arn


def model_data(artifact: str) -> str:
    return f"s3://mlws-curated-bucket/pipelines/{artifact}/model.tar.gz"


def approval_event(arn: str, group: str = GROUP, status: str = "Approved") -> dict:
    return {
        "version": "0",
        "id": "5b4f6e0a-0000-4000-8000-000000000001",
        "detail-type": EVENT_DETAIL_TYPE,
        "source": "aws.sagemaker",
        "region": REGION,
        "resources": [arn],
        "detail": {
            "ModelPackageGroupName": group,
            "ModelPackageVersion": int(arn.rsplit("/", 1)[1]),
            "ModelPackageArn": arn,
            "ModelApprovalStatus": status,
            "ModelPackageStatus": "Completed",
        },
    }


def endpoint_configs(sagemaker) -> set[str]:
    return {c["EndpointConfigName"] for c in sagemaker.list_endpoint_configs()["EndpointConfigs"]}


def models(sagemaker) -> set[str]:
    return {m["ModelName"] for m in sagemaker.list_models()["Models"]}


def test_approval_puts_the_model_in_as_challenger_and_leaves_the_champion_alone(
    aws, client, settings
):
    arn = register(aws)
    before = {
        v["VariantName"]: v
        for v in aws.describe_endpoint_config(EndpointConfigName=INITIAL_CONFIG)[
            "ProductionVariants"
        ]
    }
    client.allow_update()

    result = promote(client, settings, approval_event(arn))

    assert result["action"] == "promoted"
    model = aws.describe_model(ModelName="mlws-bank-marketing-v1")  # group already carries mlws-
    assert model["PrimaryContainer"]["Image"] == XGBOOST_IMAGE
    assert model["PrimaryContainer"]["ModelDataUrl"] == model_data("tuned-v1")
    assert model["ExecutionRoleArn"] == ROLE

    config = aws.describe_endpoint_config(EndpointConfigName=result["endpoint_config"])
    variants = {v["VariantName"]: v for v in config["ProductionVariants"]}
    assert variants["variant-a"] == before["variant-a"]  # champion: same model, type, count, 0.9
    challenger = variants["variant-b"]
    assert challenger["ModelName"] == "mlws-bank-marketing-v1"
    assert challenger["InitialVariantWeight"] == 0.1
    assert (challenger["InstanceType"], challenger["InitialInstanceCount"]) == (INSTANCE_TYPE, 1)
    assert config["DataCaptureConfig"] == DATA_CAPTURE
    assert config["KmsKeyId"] == KMS_KEY
    tags = aws.list_tags(ResourceArn=config["EndpointConfigArn"])["Tags"]
    assert {"Key": "workshop", "Value": PREFIX} in tags

    assert client.updates == [
        {
            "EndpointName": ENDPOINT,
            "EndpointConfigName": result["endpoint_config"],
            "RetainAllVariantProperties": True,
            "ExcludeRetainedVariantProperties": [{"VariantPropertyType": "DesiredWeight"}],
        }
    ]
    live = live_variants(aws)
    assert live["variant-a"]["DesiredInstanceCount"] == 3  # autoscaled capacity survives
    assert (live["variant-a"]["DesiredWeight"], live["variant-b"]["DesiredWeight"]) == (0.9, 0.1)
    assert (
        aws.describe_endpoint(EndpointName=ENDPOINT)["EndpointConfigName"]
        == (result["endpoint_config"])
    )


def test_a_new_challenger_starts_small_even_after_traffic_was_shifted_to_the_old_one(
    aws, client, settings
):
    aws.update_endpoint_weights_and_capacities(
        EndpointName=ENDPOINT,
        DesiredWeightsAndCapacities=[
            {"VariantName": "variant-a", "DesiredWeight": 0.5, "DesiredInstanceCount": 3},
            {"VariantName": "variant-b", "DesiredWeight": 0.5, "DesiredInstanceCount": 2},
        ],
    )
    client.allow_update()

    promote(client, settings, approval_event(register(aws)))

    live = live_variants(aws)
    assert (live["variant-a"]["DesiredWeight"], live["variant-b"]["DesiredWeight"]) == (0.9, 0.1)
    counts = (live["variant-a"]["DesiredInstanceCount"], live["variant-b"]["DesiredInstanceCount"])
    assert counts == (3, 2)


def test_the_same_approval_twice_changes_nothing_the_second_time(aws, client, settings):
    event = approval_event(register(aws))
    client.allow_update()
    promote(client, settings, event)
    state = (endpoint_configs(aws), models(aws), live_variants(aws))
    calls = CallLog(aws)

    again = promote(client, settings, event)  # an UpdateEndpoint here would fail: none allowed

    assert again["action"] == "unchanged"
    assert "already serves variant-b" in again["reason"]
    assert (endpoint_configs(aws), models(aws), live_variants(aws)) == state
    assert len(client.updates) == 1
    assert not {"CreateModel", "CreateEndpointConfig"} & set(calls.names())


def test_a_retry_after_a_failed_update_reuses_what_the_first_attempt_created(aws, client, settings):
    event = approval_event(register(aws))
    client.fail_next_update("Rate exceeded")
    with pytest.raises(ClientError, match="Rate exceeded"):
        promote(client, settings, event)
    created = endpoint_configs(aws) - {INITIAL_CONFIG}
    client.allow_update()

    result = promote(client, settings, event)

    assert result["action"] == "promoted"
    assert result["created"] == {"model": False, "endpoint_config": False}
    assert endpoint_configs(aws) - {INITIAL_CONFIG} == created == {result["endpoint_config"]}


@pytest.mark.parametrize(
    ("group", "status", "detail_type", "reason"),
    [
        (OTHER_GROUP, "Approved", EVENT_DETAIL_TYPE, "another-team-models"),
        (GROUP, "Rejected", EVENT_DETAIL_TYPE, "'Rejected'"),
        (GROUP, "PendingManualApproval", EVENT_DETAIL_TYPE, "'PendingManualApproval'"),
        (GROUP, "Approved", "SageMaker Endpoint State Change", "not a model package"),
    ],
)
def test_events_for_other_groups_or_statuses_are_ignored_without_a_call(
    aws, client, settings, group, status, detail_type, reason
):
    event = approval_event(register(aws, group=group), group=group, status=status)
    event["detail-type"] = detail_type
    calls = CallLog(aws)

    result = promote(client, settings, event)

    assert result["action"] == "ignored"
    assert reason in result["reason"]
    assert calls.names() == []
    assert client.updates == []


def test_an_approval_withdrawn_since_the_event_is_ignored(aws, client, settings):
    arn = register(aws, status="Rejected")  # approved, then rejected before we ran

    result = promote(client, settings, approval_event(arn))

    assert result["action"] == "ignored"
    assert "Rejected" in result["reason"]
    assert "mlws-bank-marketing-v1" not in models(aws)


def test_an_updating_endpoint_raises_a_retryable_error_and_creates_nothing(aws, client, settings):
    event = approval_event(register(aws))
    set_status(ENDPOINT, "Updating")
    state = (endpoint_configs(aws), models(aws))

    with pytest.raises(EndpointNotReady, match="Updating"):
        promote(client, settings, event)

    assert (endpoint_configs(aws), models(aws)) == state
    assert client.updates == []


def test_a_model_already_serving_as_champion_is_not_promoted_again(aws, client, settings):
    arn = register(aws)
    champion = "mlws-bank-marketing-v1"
    aws.create_model(
        ModelName=champion,
        ExecutionRoleArn=ROLE,
        PrimaryContainer={"Image": XGBOOST_IMAGE, "ModelDataUrl": model_data("tuned-v1")},
    )
    current = aws.describe_endpoint_config(EndpointConfigName=INITIAL_CONFIG)["ProductionVariants"]
    aws.create_endpoint_config(
        EndpointConfigName="mlws-bank-ab-champion-v1",
        ProductionVariants=[{**current[0], "ModelName": champion}, current[1]],
    )
    client.allow_update()
    client.update_endpoint(EndpointName=ENDPOINT, EndpointConfigName="mlws-bank-ab-champion-v1")

    result = promote(client, settings, approval_event(arn))

    assert result["action"] == "unchanged"
    assert "already serves variant-a" in result["reason"]
    assert live_variants(aws)["variant-b"]["DesiredWeight"] == 0.1
    assert CHAMPION_MODEL in models(aws)


def test_rollback_alarms_become_the_update_s_deployment_guardrail(aws, client):
    settings = Settings.from_env({**ENVIRONMENT, "ROLLBACK_ALARMS": "mlws-ab-5xx, mlws-ab-p99"})
    client.allow_update()

    promote(client, settings, approval_event(register(aws)))

    [update] = client.updates  # the Stubber checked it against SageMaker's service model
    guardrail = update["DeploymentConfig"]
    assert guardrail["AutoRollbackConfiguration"]["Alarms"] == [
        {"AlarmName": "mlws-ab-5xx"},
        {"AlarmName": "mlws-ab-p99"},
    ]
    assert update["RetainAllVariantProperties"] is True


@pytest.mark.parametrize(
    ("change", "variable"),
    [
        ({"ENDPOINT_NAME": "someone-elses-endpoint"}, "ENDPOINT_NAME"),
        ({"CHALLENGER_WEIGHT": "1.5"}, "CHALLENGER_WEIGHT"),
        ({"CHALLENGER_WEIGHT": "nan"}, "CHALLENGER_WEIGHT"),
        ({"CHALLENGER_WEIGHT": "ten percent"}, "CHALLENGER_WEIGHT"),
        ({"MODEL_PACKAGE_GROUP": ""}, "MODEL_PACKAGE_GROUP"),
    ],
)
def test_an_unusable_environment_is_refused_naming_the_variable(change, variable):
    with pytest.raises(SettingsError, match=variable):
        Settings.from_env({**ENVIRONMENT, **change})


def test_model_names_stay_valid_and_distinct_for_long_groups(settings):
    group = "workshop-model-registry-for-the-bank-marketing-classifier-tuned"
    names = {model_name(settings, group, version) for version in (1, 2, 10_000)}
    assert len(names) == 3
    for name in names:
        assert len(name) <= NAME_LIMIT and SAGEMAKER_NAME.match(name)
        assert name.startswith(f"{PREFIX}-")
    assert model_name(settings, "bank", 3) == "mlws-bank-v3"
