"""The AWS time a caller waited for: from the call log, each resource it started and then
polled until it ended, the span from the starting call to the poll that saw the end.

A lab's wall time mixes its own computing with waiting on AWS (a training job, an endpoint
coming up, a query). To tell them apart, the router notes on each logged call of
:data:`LIFECYCLES` which resource it is about (its ``subject``) and, for a poll, the state it
answered. A span runs from the start of the starting call to the end of the first later poll of
the same resource that answered a terminal state; a resource started but never polled to its
end is not counted (the caller did not wait for it). Spans that overlap (jobs run in parallel,
tuning trials) count once: the waited time is the length of their union.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

JOB_ENDS = frozenset({"Completed", "Failed", "Stopped"})


@dataclass(frozen=True)
class Lifecycle:
    """How a started resource is polled: the poll operation, where its id is (the starting
    call's parameter, or its answer for ids the service mints), the state's path in the poll's
    answer, and the states it ends in (the API Reference's status enums)."""

    kind: str
    poll: str
    id_in_request: str | None
    id_in_answer: str | None
    state: tuple[str, ...]
    ends: frozenset[str]


def _sagemaker_job(kind: str, field: str, status: str) -> Lifecycle:
    # API_DescribeTrainingJob.html, API_DescribeProcessingJob.html, API_DescribeTransformJob.html,
    # API_DescribeHyperParameterTuningJob.html: Completed | Failed | Stopped end a job.
    return Lifecycle(kind, f"Describe{kind}", field, None, (status,), JOB_ENDS)


_ENDPOINT = Lifecycle(
    # API_DescribeEndpoint.html: InService and Failed end a creation or an update.
    "Endpoint", "DescribeEndpoint", "EndpointName", None, ("EndpointStatus",),
    frozenset({"InService", "Failed"}),
)  # fmt: skip

# (service, starting operation) → its lifecycle.
LIFECYCLES: dict[tuple[str, str], Lifecycle] = {
    ("sagemaker", "CreateTrainingJob"): _sagemaker_job(
        "TrainingJob", "TrainingJobName", "TrainingJobStatus"
    ),
    ("sagemaker", "CreateProcessingJob"): _sagemaker_job(
        "ProcessingJob", "ProcessingJobName", "ProcessingJobStatus"
    ),
    ("sagemaker", "CreateTransformJob"): _sagemaker_job(
        "TransformJob", "TransformJobName", "TransformJobStatus"
    ),
    ("sagemaker", "CreateHyperParameterTuningJob"): _sagemaker_job(
        "HyperParameterTuningJob", "HyperParameterTuningJobName", "HyperParameterTuningJobStatus"
    ),
    ("sagemaker", "CreateEndpoint"): _ENDPOINT,
    ("sagemaker", "UpdateEndpoint"): _ENDPOINT,
    ("sagemaker", "UpdateEndpointWeightsAndCapacities"): _ENDPOINT,
    # API_DescribePipelineExecution.html: Succeeded | Failed | Stopped end an execution.
    ("sagemaker", "StartPipelineExecution"): Lifecycle(
        kind="PipelineExecution",
        poll="DescribePipelineExecution",
        id_in_request=None,
        id_in_answer="PipelineExecutionArn",
        state=("PipelineExecutionStatus",),
        ends=frozenset({"Succeeded", "Failed", "Stopped"}),
    ),
    # Athena API_QueryExecutionStatus.html: SUCCEEDED | FAILED | CANCELLED end a query.
    ("athena", "StartQueryExecution"): Lifecycle(
        kind="QueryExecution",
        poll="GetQueryExecution",
        id_in_request=None,
        id_in_answer="QueryExecutionId",
        state=("QueryExecution", "Status", "State"),
        ends=frozenset({"SUCCEEDED", "FAILED", "CANCELLED"}),
    ),
}
_POLLS: dict[tuple[str, str], Lifecycle] = {
    (service, lifecycle.poll): lifecycle for (service, _), lifecycle in LIFECYCLES.items()
}
# The poll's parameter naming the resource, where the start's answer minted the id.
_POLL_ID = {"DescribePipelineExecution": "PipelineExecutionArn",
            "GetQueryExecution": "QueryExecutionId"}  # fmt: skip


def observed(service: str, operation: str) -> bool:
    """Whether :func:`observe` has anything to say about this operation's calls."""
    return (service, operation) in LIFECYCLES or (service, operation) in _POLLS


def observe(
    service: str, operation: str, params: Mapping[str, Any], answer: Mapping[str, Any] | None
) -> tuple[str | None, str | None]:
    """(subject, state) of one call: the resource a starting call or a poll is about
    (``<kind>/<id>``), and the state a poll answered; (None, None) for any other call."""
    started = LIFECYCLES.get((service, operation))
    if started is not None:
        if started.id_in_request is not None:
            ident = params.get(started.id_in_request)
        else:
            ident = (answer or {}).get(started.id_in_answer or "")
        return (f"{started.kind}/{ident}" if ident else None), None
    polled = _POLLS.get((service, operation))
    if polled is None:
        return None, None
    ident = params.get(polled.id_in_request or _POLL_ID[operation])
    state: Any = answer or {}
    for key in polled.state:
        state = state.get(key) if isinstance(state, Mapping) else None
    subject = f"{polled.kind}/{ident}" if ident else None
    return subject, (state if isinstance(state, str) else None)


def _ends(subject: str) -> frozenset[str]:
    kind = subject.split("/", 1)[0]
    return next(lc.ends for lc in LIFECYCLES.values() if lc.kind == kind)


def wait_spans(calls: Iterable[Any]) -> list[tuple[str, float, float]]:
    """(subject, start, end) of each wait in ``calls`` (logged calls with ``at``, ``seconds``,
    ``subject``, ``state``, ``operation``, ``service``)."""
    ordered = sorted(calls, key=lambda call: call.at)
    spans = []
    for index, call in enumerate(ordered):
        if call.subject is None or (call.service, call.operation) not in LIFECYCLES:
            continue
        if call.status >= 300:
            continue  # a refused start started nothing
        ends = _ends(call.subject)
        for poll in ordered[index + 1 :]:
            if poll.subject == call.subject and poll.state in ends:
                spans.append((call.subject, call.at, poll.at + poll.seconds))
                break
            if poll.subject == call.subject and (poll.service, poll.operation) in LIFECYCLES:
                break  # started again (an endpoint updated) before any poll saw it end
    return spans


def waited_seconds(calls: Iterable[Any]) -> float:
    """The length of the union of the wait spans: parallel waits count once."""
    total, reach = 0.0, float("-inf")
    for start, end in sorted((start, end) for _, start, end in wait_spans(calls)):
        if end <= reach:
            continue
        total += end - max(start, reach)
        reach = end
    return total
