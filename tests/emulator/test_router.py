"""The emulator's front door: calls reach moto or are refused by the synthesized policies."""

from __future__ import annotations

import json

import boto3
import pytest
from botocore.exceptions import ClientError

from tests.emulator.conftest import attendee_role_arn
from workshopctl.emulator.wire import rest_operation
from workshopctl.labs_parameters import attendee_by_role, shared_parameter


def _parameter(emulated) -> dict:
    ssm = emulated.client("ssm")
    name = shared_parameter(emulated.assembly).name
    return json.loads(ssm.get_parameter(Name=name)["Parameter"]["Value"])


def test_the_deploy_publishes_the_labs_parameter_as_the_template_has_it(emulated, assembly):
    resource = shared_parameter(assembly)
    assert _parameter(emulated) == json.loads(resource.properties["Value"])


def test_the_raw_bucket_holds_the_deployed_datasets(emulated):
    values = _parameter(emulated)
    s3 = emulated.client("s3")
    keys = [o["Key"] for o in s3.list_objects_v2(Bucket=values["raw_bucket"])["Contents"]]
    assert "bike-sharing/hour.csv" in keys
    assert "bank-marketing/bank-additional-full.csv" in keys


def test_an_attendee_reads_the_raw_data_and_writes_only_under_their_prefix(emulated, assembly):
    values = _parameter(emulated)
    role = attendee_role_arn(assembly)
    attendee = attendee_by_role(assembly, role)
    s3 = emulated.client("s3", "test attendee", role)
    s3.get_object(Bucket=values["raw_bucket"], Key="bike-sharing/hour.csv")
    own = f"{values['attendees_prefix']}{attendee}/note.txt"
    s3.put_object(Bucket=values["curated_bucket"], Key=own, Body=b"mine")
    other = f"{values['attendees_prefix']}someone-else/note.txt"
    with pytest.raises(ClientError) as denied:
        s3.put_object(Bucket=values["curated_bucket"], Key=other, Body=b"theirs")
    assert denied.value.response["Error"]["Code"] == "AccessDenied"
    assert "s3:PutObject" in denied.value.response["Error"]["Message"]
    logged = emulated.log.calls("test attendee")
    assert [c.operation for c in logged] == ["GetObject", "PutObject", "PutObject"]
    assert [c.denied for c in logged] == [False, False, True]
    assert logged[-1].checks[0].resource == f"arn:aws:s3:::{values['curated_bucket']}/{other}"


def test_a_role_without_a_statement_is_refused_in_the_services_error_shape(emulated, assembly):
    flow_logs = next(arn for arn in assembly.roles if "FlowLogs" in arn)
    sagemaker = emulated.client("sagemaker", "test flow logs", flow_logs)
    with pytest.raises(ClientError) as denied:
        sagemaker.list_training_jobs()
    assert denied.value.response["Error"]["Code"] == "AccessDenied"
    assert "sagemaker:ListTrainingJobs" in str(denied.value)


def test_an_unknown_access_key_is_refused(emulated):
    s3 = boto3.client(
        "s3",
        endpoint_url=emulated.url,
        region_name=emulated.assembly.region,
        aws_access_key_id="AKIANOTISSUEDHERE000",
        aws_secret_access_key="x",
    )
    with pytest.raises(ClientError) as refused:
        s3.list_buckets()
    assert refused.value.response["Error"]["Code"] == "InvalidClientTokenId"


@pytest.mark.parametrize(
    ("method", "path", "query", "headers", "operation"),
    [
        ("PUT", "/bucket/a/b.csv", {}, {}, "PutObject"),
        ("PUT", "/bucket/a/b.csv", {}, {"x-amz-copy-source": "/x/y"}, "CopyObject"),
        ("GET", "/bucket", {"list-type": "2", "prefix": "a/"}, {}, "ListObjectsV2"),
        ("POST", "/bucket", {"delete": ""}, {}, "DeleteObjects"),
        ("HEAD", "/bucket/a", {}, {}, "HeadObject"),
    ],
)
def test_rest_operations_are_told_apart_by_botocores_own_models(
    method, path, query, headers, operation
):
    assert rest_operation("s3", method, path, query, headers)[0] == operation


def test_the_environment_points_boto3_at_the_emulator(emulated, assembly, monkeypatch):
    for key, value in emulated.environment("test env", attendee_role_arn(assembly)).items():
        monkeypatch.setenv(key, value)
    # As in a new process: boto3's default session keeps the credentials it first resolved
    # (the synth's SDK session resolves the suite's dummy keys when tests/pipelines set them).
    monkeypatch.setattr(boto3, "DEFAULT_SESSION", None)
    ssm = boto3.client("ssm")  # no endpoint, no keys given: the standard settings decide
    name = shared_parameter(assembly).name
    assert ssm.get_parameter(Name=name)["Parameter"]["Name"] == name
    assert emulated.log.calls("test env")[0].operation == "GetParameter"


def test_a_request_naming_its_resource_by_arn_is_checked_on_that_resource_only():
    """logs:ListTagsForResource may act on six resource types; the request's ARN says which."""
    from workshopctl.emulator.gate import resources
    from workshopctl.emulator.wire import Call

    arn = "arn:aws:logs:eu-west-1:123456789012:log-group:/aws/sagemaker/TrainingJobs"
    call = Call("logs", "ListTagsForResource", {"resourceArn": arn}, None, "eu-west-1", "POST",
                "/", {})  # fmt: skip
    assert resources("logs:ListTagsForResource", call, "123456789012") == [(arn, False)]
    unnamed = Call("logs", "ListTagsForResource", {}, None, "eu-west-1", "POST", "/", {})
    assert len(resources("logs:ListTagsForResource", unnamed, "123456789012")) == 6


def test_get_parameters_is_checked_on_every_parameter_it_names():
    """The labs' helper reads the attendees' parameter parts in one GetParameters call."""
    from workshopctl.emulator.gate import resources
    from workshopctl.emulator.wire import Call

    names = ["/mlws/workshop/attendees/1", "/mlws/workshop/attendees/2"]
    call = Call("ssm", "GetParameters", {"Names": names}, None, "eu-west-1", "POST", "/", {})
    arn = "arn:aws:ssm:eu-west-1:123456789012:parameter/mlws/workshop/attendees"
    assert resources("ssm:GetParameters", call, "123456789012") == [
        (f"{arn}/1", False),
        (f"{arn}/2", False),
    ]


@pytest.mark.parametrize(
    ("query", "operation"),
    [({}, "DeleteObject"), ({"uploadId": "u-1"}, "AbortMultipartUpload")],
)
def test_a_required_query_member_tells_operations_on_one_path_apart(query, operation):
    assert rest_operation("s3", "DELETE", "/bucket/a.parquet", query, {})[0] == operation


def test_delete_objects_is_decided_per_key_of_its_body(emulated, assembly):
    """As S3 answers it: 200, the allowed keys deleted, each denied key in Errors with
    AccessDenied (and the denial in the call log, where the rehearsal counts it)."""
    values = _parameter(emulated)
    role = attendee_role_arn(assembly)
    attendee = attendee_by_role(assembly, role)
    bucket = values["curated_bucket"]
    s3 = emulated.client("s3", "test delete objects", role)
    organiser = emulated.client("s3")
    own = [f"{values['attendees_prefix']}{attendee}/to-delete-{n}.txt" for n in (1, 2)]
    other = f"{values['attendees_prefix']}someone-else/theirs.txt"
    for key in [*own, other]:
        organiser.put_object(Bucket=bucket, Key=key, Body=b"x")

    answer = s3.delete_objects(Bucket=bucket, Delete={"Objects": [{"Key": own[0]}]})
    assert [d["Key"] for d in answer["Deleted"]] == [own[0]] and "Errors" not in answer
    answer = s3.delete_objects(Bucket=bucket, Delete={"Objects": [{"Key": own[1]}, {"Key": other}]})
    assert [d["Key"] for d in answer["Deleted"]] == [own[1]]
    assert [(e["Key"], e["Code"]) for e in answer["Errors"]] == [(other, "AccessDenied")]
    left = organiser.list_objects_v2(Bucket=bucket, Prefix=values["attendees_prefix"])
    keys = {item["Key"] for item in left.get("Contents", [])}
    assert other in keys and not set(own) & keys
    (logged,) = [c for c in emulated.log.calls("test delete objects") if c.denied]
    denied = [c.resource for c in logged.checks if not c.allowed]
    assert denied == [f"arn:aws:s3:::{bucket}/{other}"]
    # Only denied keys: still 200, nothing deleted.
    answer = s3.delete_objects(Bucket=bucket, Delete={"Objects": [{"Key": other}]})
    assert [e["Key"] for e in answer["Errors"]] == [other] and not answer.get("Deleted")
