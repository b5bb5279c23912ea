"""The endpoint census (moto) and the teardown custom resource's answer to CloudFormation."""

from __future__ import annotations

import json

import boto3
import pytest
from moto import mock_aws

from lambdas.janitor import census

from .packaged import import_packaged

# As Lambda imports it: from the asset root, with cfn_response beside the package.
teardown_resource = import_packaged("janitor.teardown_resource")

REGION = "us-east-1"
ROLE = "arn:aws:iam::123456789012:role/sagemaker-execution"


@pytest.fixture
def aws(monkeypatch):
    for name, value in {
        "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": REGION, "WORKSHOP_PREFIX": "mlws",
    }.items():  # fmt: skip
        monkeypatch.setenv(name, value)
    with mock_aws():
        yield boto3.Session(region_name=REGION)


def make_endpoint(sagemaker, name: str, instances: int, tags=()) -> None:
    sagemaker.create_model(
        ModelName=f"{name}-model", ExecutionRoleArn=ROLE,
        PrimaryContainer={"Image": "123456789012.dkr.ecr.us-east-1.amazonaws.com/x:1"},
    )  # fmt: skip
    sagemaker.create_endpoint_config(
        EndpointConfigName=f"{name}-config",
        ProductionVariants=[{
            "VariantName": "variant-a", "ModelName": f"{name}-model",
            "InitialInstanceCount": instances, "InstanceType": "ml.m5.large",
        }],
    )  # fmt: skip
    sagemaker.create_endpoint(
        EndpointName=name, EndpointConfigName=f"{name}-config", Tags=list(tags)
    )


def test_census_counts_in_scope_endpoints_and_their_instances(aws):
    sagemaker = aws.client("sagemaker")
    make_endpoint(sagemaker, "mlws-bank-ab", 2)
    make_endpoint(sagemaker, "renamed-by-attendee", 1, tags=[{"Key": "workshop", "Value": "mlws"}])
    make_endpoint(sagemaker, "other-team", 3)
    make_endpoint(sagemaker, "otherws-x", 1, tags=[{"Key": "workshop", "Value": "otherws"}])
    result = census.handler({}, None, session=aws)
    assert result == {"endpoints": ["mlws-bank-ab", "renamed-by-attendee"], "instances": 3}
    metrics = aws.client("cloudwatch").list_metrics(Namespace=census.NAMESPACE)["Metrics"]
    assert {m["MetricName"] for m in metrics} == {"EndpointsInService", "EndpointInstances"}
    assert all(m["Dimensions"] == [{"Name": "Workshop", "Value": "mlws"}] for m in metrics)


def test_census_of_an_empty_account_is_zero(aws):
    assert census.handler({}, None, session=aws) == {"endpoints": [], "instances": 0}


EVENT = {
    "RequestType": "Delete",
    "ResponseURL": "https://cloudformation-custom-resource-response.example/x",
    "StackId": "arn:aws:cloudformation:us-east-1:123456789012:stack/mlws-guardrails/1",
    "RequestId": "r-1",
    "LogicalResourceId": "Teardown",
    "PhysicalResourceId": "mlws-janitor",
}


def run(event, work):
    answers = []
    teardown_resource.handler(
        event, None, work=work, answer=lambda url, body: answers.append((url, json.loads(body)))
    )
    ((url, body),) = answers
    assert url == event["ResponseURL"]
    return body


def test_delete_answers_success_with_the_janitors_summary():
    body = run(
        EVENT,
        lambda e, c: {
            "PhysicalResourceId": "mlws-janitor",
            "Data": {"deleted": 12, "complete": True},
        },
    )
    assert body["Status"] == "SUCCESS"
    assert body["PhysicalResourceId"] == "mlws-janitor"
    assert body["Data"] == {"deleted": "12", "complete": "True"}


def test_a_crash_on_delete_still_answers_success_so_the_stack_can_go():
    def crash(event, context):
        raise RuntimeError("throttled to death")

    body = run(EVENT, crash)
    assert body["Status"] == "SUCCESS"
    assert "throttled to death" in body["Reason"]


def test_a_crash_on_create_answers_failed():
    def crash(event, context):
        raise RuntimeError("bad environment")

    body = run({**EVENT, "RequestType": "Create", "PhysicalResourceId": None}, crash)
    assert body["Status"] == "FAILED"
    assert body["PhysicalResourceId"] == "Teardown"


def test_create_runs_nothing_and_keeps_a_stable_id(monkeypatch):
    monkeypatch.setenv("WORKSHOP_PREFIX", "mlws")
    body = run(
        {**EVENT, "RequestType": "Create", "PhysicalResourceId": None}, teardown_resource.on_event
    )
    assert body["Status"] == "SUCCESS"
    assert body["PhysicalResourceId"] == "mlws-janitor"
