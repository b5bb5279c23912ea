"""The AWS time a caller waited for, from a synthetic call log: start → the poll that saw the
end, parallel waits counted once, resources never polled to their end not counted."""

from __future__ import annotations

import pytest

from workshopctl.emulator.call_log import LoggedCall
from workshopctl.emulator.waits import observe, wait_spans, waited_seconds

T0 = 1_800_000_000.0


def _call(
    operation: str,
    at: float,
    params: dict,
    answer: dict | None = None,
    *,
    service: str = "sagemaker",
    status: int = 200,
    seconds: float = 0.5,
) -> LoggedCall:
    """A logged call as the router files it (subject and state read off the request)."""
    subject, state = observe(service, operation, params, answer if status == 200 else None)
    return LoggedCall(service, operation, "role", status=status, seconds=seconds, at=T0 + at,
                      subject=subject, state=state)  # fmt: skip


def _training(name: str, start: float, polls: dict[float, str]) -> list[LoggedCall]:
    calls = [_call("CreateTrainingJob", start, {"TrainingJobName": name})]
    calls += [_call("DescribeTrainingJob", at, {"TrainingJobName": name},
                    {"TrainingJobStatus": status}) for at, status in polls.items()]  # fmt: skip
    return calls


def test_a_job_polled_to_its_end_is_waited_for_from_create_to_that_poll():
    calls = _training("a", 0, {5: "InProgress", 30: "Completed", 40: "Completed"})
    calls.append(_call("ListBuckets", 50, {}, service="s3"))

    assert wait_spans(calls) == [("TrainingJob/a", T0, T0 + 30.5)]
    assert waited_seconds(calls) == pytest.approx(30.5)


def test_parallel_waits_count_once_and_separate_ones_add_up():
    first = _training("a", 0, {20: "Completed"})  # 0 → 20.5
    parallel = _training("b", 10, {25: "Failed"})  # 10 → 25.5: overlaps the first
    later = _call("StartQueryExecution", 100, {}, {"QueryExecutionId": "q1"}, service="athena")
    done = {"QueryExecution": {"Status": {"State": "SUCCEEDED"}}}
    polled = _call("GetQueryExecution", 104, {"QueryExecutionId": "q1"}, done, service="athena")

    assert waited_seconds([*parallel, later, *first, polled]) == pytest.approx(25.5 + 4.5)


def test_a_resource_never_polled_to_its_end_or_refused_is_not_a_wait():
    unfinished = _training("a", 0, {10: "InProgress"})
    refused = [_call("CreateEndpoint", 20, {"EndpointName": "e"}, status=400),
               _call("DescribeEndpoint", 21, {"EndpointName": "e"}, status=400)]  # fmt: skip

    assert wait_spans([*unfinished, *refused]) == []
    assert waited_seconds([]) == 0


def test_an_endpoint_update_is_a_wait_of_its_own_until_in_service_again():
    calls = [
        _call("CreateEndpoint", 0, {"EndpointName": "e"}),
        _call("DescribeEndpoint", 3, {"EndpointName": "e"}, {"EndpointStatus": "InService"}),
        _call("UpdateEndpoint", 10, {"EndpointName": "e"}),
        _call("DescribeEndpoint", 12, {"EndpointName": "e"}, {"EndpointStatus": "Updating"}),
        _call("DescribeEndpoint", 16, {"EndpointName": "e"}, {"EndpointStatus": "InService"}),
    ]

    assert [(s - T0, e - T0) for _, s, e in wait_spans(calls)] == [(0, 3.5), (10, 16.5)]


def test_a_pipeline_execution_is_followed_by_the_arn_its_start_answered():
    arn = "arn:aws:sagemaker:eu-west-1:123456789012:pipeline/p/execution/x1"
    calls = [
        _call("StartPipelineExecution", 0, {"PipelineName": "p"}, {"PipelineExecutionArn": arn}),
        _call("DescribePipelineExecution", 60, {"PipelineExecutionArn": arn},
              {"PipelineExecutionStatus": "Succeeded"}, seconds=0.0),
    ]  # fmt: skip

    assert waited_seconds(calls) == pytest.approx(60)
