"""The Studio teardown deletes the domain with its home EFS (moto), idempotently."""

from __future__ import annotations

import json

import boto3
import pytest
from moto import mock_aws

from .packaged import import_packaged

studio = import_packaged("studio_teardown.handler")

REGION = "us-east-1"


@pytest.fixture
def sagemaker(monkeypatch):
    for name, value in {
        "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": REGION,
    }.items():  # fmt: skip
        monkeypatch.setenv(name, value)
    with mock_aws():
        yield boto3.client("sagemaker", region_name=REGION)


def make_domain(sagemaker) -> str:
    return sagemaker.create_domain(
        DomainName="mlws-studio", AuthMode="IAM",
        DefaultUserSettings={"ExecutionRole": "arn:aws:iam::123456789012:role/x"},
        SubnetIds=["subnet-1"], VpcId="vpc-1",
    )["DomainArn"].rsplit("/", 1)[-1]  # fmt: skip


def event(request_type: str, domain_id: str) -> dict:
    return {
        "RequestType": request_type, "ResponseURL": "https://example.invalid/response",
        "StackId": "arn:aws:cloudformation:us-east-1:123456789012:stack/mlws-attendees/1",
        "RequestId": "r", "LogicalResourceId": "StudioHomeTeardown",
        "ResourceProperties": {"DomainId": domain_id},
    }  # fmt: skip


def run(request: dict, sagemaker, calls: list) -> dict:
    answers = []
    original = sagemaker.delete_domain

    def recording_delete(**kwargs):
        calls.append(kwargs)
        return original(**kwargs)

    sagemaker.delete_domain = recording_delete
    studio.handler(
        request, None, sagemaker=sagemaker, answer=lambda u, b: answers.append(json.loads(b))
    )
    (answer,) = answers
    return answer


def test_delete_removes_the_domain_with_its_home_volume(sagemaker):
    domain_id = make_domain(sagemaker)
    calls: list = []
    answer = run(event("Delete", domain_id), sagemaker, calls)
    assert answer["Status"] == "SUCCESS"
    assert calls == [{"DomainId": domain_id, "RetentionPolicy": {"HomeEfsFileSystem": "Delete"}}]
    assert studio.domain_gone(sagemaker, domain_id)


def test_a_second_delete_finds_nothing_and_succeeds(sagemaker):
    domain_id = make_domain(sagemaker)
    run(event("Delete", domain_id), sagemaker, [])
    calls: list = []
    answer = run(event("Delete", domain_id), sagemaker, calls)
    assert answer["Status"] == "SUCCESS" and "already gone" in answer["Reason"]
    assert calls == []


def test_create_and_update_touch_nothing(sagemaker):
    domain_id = make_domain(sagemaker)
    for request_type in ("Create", "Update"):
        calls: list = []
        assert run(event(request_type, domain_id), sagemaker, calls)["Status"] == "SUCCESS"
        assert calls == []
    assert not studio.domain_gone(sagemaker, domain_id)


def test_a_domain_that_will_not_go_is_reported_failed():
    class Stuck:
        def describe_domain(self, DomainId):
            return {"Status": "Deleting"}

        def delete_domain(self, **kwargs):
            return {}

    ticks = iter(range(0, 10_000, 100))
    with pytest.raises(TimeoutError):
        studio.delete_domain_and_home(
            Stuck(), "d-1", deadline=500, clock=lambda: next(ticks), sleep=lambda s: None
        )
