"""Custom resource: run a Glue job during `cdk deploy` and finish only when the run has ended.

CloudFormation invokes this function on Create/Update/Delete of a resource whose properties are:

- ``JobName``: the job to run;
- ``Arguments``: arguments for this run only (over the job's defaults), e.g. a full rebuild;
- ``ResetBookmark``: ``"true"`` to reset the job's bookmark first, so a run with bookmarks
  enabled reads every input again and the bookmark afterwards covers exactly what was read;
- ``RunInputs``: what the run's result depends on (the script's asset hash, the job's
  arguments, the input data's fingerprint). Only a change here, or in the run's own properties,
  makes an Update run the job again.

Create, and an Update that changes them, start a run, wait for it, and answer SUCCESS with the
run's id (attribute ``JobRunId``) or FAILED with the run's ``ErrorMessage``. A run of the job
already in progress (a retried deploy while the earlier run goes on) is waited for instead of
failing on ``ConcurrentRunsExceededException``. If the run is still going when the function is
about to time out, the answer is FAILED with that reason, not an hour of CloudFormation waiting.
Delete does nothing: the run's output belongs to the buckets, which go with the stack.

A rollback of an Update sends an Update back to the old properties: the job, back on its old
definition, runs again (or the run still in progress is waited for), so the data is rebuilt by
the job the stack rolled back to.

The decisions are plain functions (tested directly and against moto); ``handler`` only wires
them to boto3 and, through ``cfn_response`` (shipped beside this package), to CloudFormation's
response URL. Standard library + boto3 only.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import boto3
from cfn_response import SAFETY_MARGIN_MS, out_of_time, response_body, send

LOG = logging.getLogger()
LOG.setLevel(logging.INFO)

POLL_SECONDS = 15
# JobRunState values (Glue API, JobRun): the run is over in these, still going in the others
# (STARTING, RUNNING, STOPPING, WAITING: queued behind the account's concurrency).
SUCCEEDED = "SUCCEEDED"
ENDED_BADLY = frozenset({"FAILED", "TIMEOUT", "STOPPED", "ERROR", "EXPIRED"})
IN_PROGRESS = frozenset({"STARTING", "RUNNING", "STOPPING", "WAITING"})
# The properties that decide what a run produces; ServiceToken (the function) does not.
RUN_PROPERTIES = ("JobName", "Arguments", "ResetBookmark", "RunInputs")


@dataclass(frozen=True)
class Outcome:
    status: str  # SUCCESS or FAILED, as CloudFormation expects
    reason: str
    data: Mapping[str, str] = field(default_factory=dict)


def physical_id(job_name: str) -> str:
    """Stable for a job: an Update never replaces the resource (its Delete would be a no-op)."""
    return f"{job_name}:run-on-deploy"


def needs_run(event: Mapping[str, Any]) -> bool:
    """Create runs; an Update runs only if what the run produces could differ; Delete never."""
    request = event["RequestType"]
    if request == "Create":
        return True
    if request == "Update":
        new, old = event["ResourceProperties"], event.get("OldResourceProperties") or {}
        return any(new.get(key) != old.get(key) for key in RUN_PROPERTIES)
    return False


def run_outcome(run: Mapping[str, Any]) -> Outcome | None:
    """None while the run goes on; otherwise what to tell CloudFormation."""
    state, run_id, job = run["JobRunState"], run["Id"], run["JobName"]
    if state in IN_PROGRESS:
        return None
    if state == SUCCEEDED:
        seconds = run.get("ExecutionTime")
        took = f" in {seconds} s" if seconds is not None else ""
        return Outcome("SUCCESS", f"run {run_id} of {job} SUCCEEDED{took}", {"JobRunId": run_id})
    if state not in ENDED_BADLY:
        LOG.warning(json.dumps({"event": "unknown-run-state", "state": state}))
    message = run.get("ErrorMessage") or "no ErrorMessage (see the run in the Glue console)"
    return Outcome("FAILED", f"run {run_id} of {job} ended {state}: {message}")


def job_runs(glue: Any, job_name: str) -> list[Mapping[str, Any]]:
    """Every run of the job, newest first (a job run at deploy has a handful)."""
    runs = [
        run
        for page in glue.get_paginator("get_job_runs").paginate(JobName=job_name)
        for run in page.get("JobRuns", [])
    ]
    return sorted(runs, key=lambda run: run["StartedOn"], reverse=True)


def newest(runs: list[Mapping[str, Any]], states: frozenset[str]) -> str | None:
    """The id of the newest of ``runs`` in one of ``states``."""
    return next((run["Id"] for run in runs if run["JobRunState"] in states), None)


def start_or_join(glue: Any, job_name: str, arguments: Mapping[str, str], reset: bool) -> str:
    """Start a run, or join the one already in progress; the id of the run to wait for.

    The bookmark is reset only for a job that has run before: a new job has none, and a
    deploy's first run should not depend on how Glue answers a reset of nothing.
    """
    runs = job_runs(glue, job_name)
    running = newest(runs, IN_PROGRESS)
    if running is not None:
        LOG.info(json.dumps({"event": "run-joined", "job": job_name, "run": running}))
        return running
    if reset and runs:
        with contextlib.suppress(glue.exceptions.EntityNotFoundException):  # no bookmark yet
            glue.reset_job_bookmark(JobName=job_name)
    try:
        run_id = glue.start_job_run(JobName=job_name, Arguments=dict(arguments))["JobRunId"]
    except glue.exceptions.ConcurrentRunsExceededException:
        # A run started between the look and the start (e.g. by a parallel retry): wait for it.
        running = newest(job_runs(glue, job_name), IN_PROGRESS)
        if running is None:
            raise
        LOG.info(json.dumps({"event": "run-joined", "job": job_name, "run": running}))
        return running
    LOG.info(json.dumps({"event": "run-started", "job": job_name, "run": run_id}))
    return run_id


def run_job(
    glue: Any,
    *,
    job_name: str,
    arguments: Mapping[str, str],
    reset: bool,
    remaining_ms: Callable[[], int],
    sleep: Callable[[float], None] = time.sleep,
) -> Outcome:
    """Run the job (or join its run in progress) and wait for the end, within the time left."""
    run_id = start_or_join(glue, job_name, arguments, reset)
    while True:
        run = glue.get_job_run(JobName=job_name, RunId=run_id)["JobRun"]
        outcome = run_outcome(run)
        if outcome is not None:
            return outcome
        if out_of_time(remaining_ms):
            margin = SAFETY_MARGIN_MS // 1000
            return Outcome(
                "FAILED",
                f"run {run_id} of {job_name} is still {run['JobRunState']} with {margin} s of "
                "this function's time left; answering now rather than leaving CloudFormation "
                "to wait an hour. The run goes on in Glue: a deploy retried while it runs waits "
                "for it instead of starting another.",
            )
        sleep(POLL_SECONDS)


def handle(
    event: Mapping[str, Any],
    remaining_ms: Callable[[], int],
    glue: Any,
    sleep: Callable[[float], None] = time.sleep,
) -> tuple[Outcome, str]:
    properties = event["ResourceProperties"]
    job_name = properties["JobName"]
    resource_id = physical_id(job_name)
    if event["RequestType"] == "Delete":
        nothing = "nothing to do: the run's output goes with the buckets"
        return Outcome("SUCCESS", nothing), event.get("PhysicalResourceId", resource_id)
    try:
        if not needs_run(event):
            run_id = newest(job_runs(glue, job_name), frozenset({SUCCEEDED})) or ""
            return Outcome(
                "SUCCESS", "nothing the run depends on changed", {"JobRunId": run_id}
            ), resource_id
        outcome = run_job(
            glue,
            job_name=job_name,
            arguments=properties.get("Arguments") or {},
            reset=str(properties.get("ResetBookmark", "false")).lower() == "true",
            remaining_ms=remaining_ms,
            sleep=sleep,
        )
    except Exception as error:  # any error must still reach CloudFormation as FAILED
        LOG.exception("glue run failed")
        outcome = Outcome("FAILED", f"{type(error).__name__}: {error}")
    return outcome, resource_id


def handler(event: dict[str, Any], context: Any) -> None:
    LOG.info(json.dumps({"event": "request", "type": event["RequestType"]}))
    outcome, resource_id = handle(
        event,
        context.get_remaining_time_in_millis,
        boto3.client("glue", region_name=os.environ.get("AWS_REGION")),
    )
    LOG.info(json.dumps({"event": "response", "status": outcome.status, "reason": outcome.reason}))
    body = response_body(
        event,
        status=outcome.status,
        reason=outcome.reason,
        physical_id=resource_id,
        data=outcome.data,
    )
    send(event["ResponseURL"], body)
