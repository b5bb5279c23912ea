"""Per-stack wall times from CloudFormation events (stubbed: moto's CloudFormation backend does
not load here), and the deploy printing them after the CLI run."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import boto3
from botocore.stub import Stubber

from workshopctl.stack_timings import format_timings, report, stack_timings

SINCE = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)


def at(seconds: float) -> datetime:
    return SINCE + timedelta(seconds=seconds)


def event(stack: str, status: str, seconds: float, logical: str | None = None) -> dict:
    return {
        "StackId": f"id-{stack}",
        "EventId": f"{stack}-{status}-{seconds}",
        "StackName": stack,
        "LogicalResourceId": logical or stack,
        "ResourceType": "AWS::CloudFormation::Stack" if logical is None else "AWS::S3::Bucket",
        "ResourceStatus": status,
        "Timestamp": at(seconds),
    }


def stubbed() -> Stubber:
    client = boto3.client(
        "cloudformation",
        region_name="eu-west-1",
        aws_access_key_id="x",
        aws_secret_access_key="x",
    )
    stubber = Stubber(client)
    stacks = [("mlws-data-lake", "CREATE_COMPLETE"), ("mlws-serving", "CREATE_COMPLETE")]
    stubber.add_response(
        "list_stacks",
        {
            "StackSummaries": [
                {
                    "StackId": f"id-{name}",
                    "StackName": name,
                    "StackStatus": status,
                    "CreationTime": SINCE,
                }
                for name, status in [*stacks, ("other-app", "CREATE_COMPLETE")]
            ]
        },
    )
    events = {
        "mlws-data-lake": [  # newest first, as CloudFormation answers; an older run below
            event("mlws-data-lake", "CREATE_COMPLETE", 95),
            event("mlws-data-lake", "CREATE_COMPLETE", 90, logical="RawBucket"),
            event("mlws-data-lake", "CREATE_IN_PROGRESS", 5),
            event("mlws-data-lake", "DELETE_COMPLETE", -3600),
        ],
        "mlws-serving": [
            event("mlws-serving", "CREATE_COMPLETE", 700),
            event("mlws-serving", "CREATE_IN_PROGRESS", 100),
        ],
    }
    for name, _ in stacks:
        stubber.add_response(
            "describe_stack_events", {"StackEvents": events[name]}, {"StackName": f"id-{name}"}
        )
    stubber.activate()
    return stubber


def test_each_stack_of_the_run_gets_its_wall_time():
    stubber = stubbed()
    timings = stack_timings(stubber.client, "mlws", SINCE)
    assert [(t.stack, t.status, t.seconds) for t in timings] == [
        ("mlws-data-lake", "CREATE_COMPLETE", 90.0),
        ("mlws-serving", "CREATE_COMPLETE", 600.0),
    ]
    table = format_timings(timings, "deploy", 720.4)
    print(table)
    assert "mlws-serving    CREATE_COMPLETE  +95 s       600 s" in table
    assert "deploy: 720 s in all" in table
    stubber.assert_no_pending_responses()


def test_no_access_to_events_is_one_line_not_a_failure():
    class NoCloudFormation:
        def client(self, *_args, **_kwargs):
            raise RuntimeError("no credentials")

    line = report(NoCloudFormation(), "eu-west-1", "mlws", SINCE, "destroy", 12.0)
    assert line == "destroy: 12 s in all; stack times unavailable (RuntimeError)"
