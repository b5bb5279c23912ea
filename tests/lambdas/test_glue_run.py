"""The deploy-time Glue run (lambdas/glue_run): its decisions, against moto and over HTTP."""

from __future__ import annotations

import json
import threading
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import ClassVar

import boto3
import pytest
from moto import mock_aws
from moto.moto_api import state_manager

from tests.lambdas.packaged import import_packaged

handler = import_packaged("glue_run.handler")
cfn_response = import_packaged("cfn_response")

REGION = "eu-west-1"
JOB = "mlws-reviews-etl"
RUN_ARGUMENTS = {"--write-mode": "overwrite"}
PROPERTIES = {
    "ServiceToken": "arn:aws:lambda:eu-west-1:123456789012:function:run",
    "JobName": JOB,
    "Arguments": RUN_ARGUMENTS,
    "ResetBookmark": "true",
    "RunInputs": {"ScriptHash": "a" * 64, "ReviewsFingerprint": "b" * 64},
}
PLENTY_OF_TIME = 900_000


def no_wait(_seconds: float) -> None:
    """The poll's sleep: the tests' runs change state on each read, not with time."""


def _event(request_type, properties=PROPERTIES, old=None, url="http://unused"):
    event = {
        "RequestType": request_type,
        "ResponseURL": url,
        "StackId": "stack",
        "RequestId": "r1",
        "LogicalResourceId": "ReviewsEtlRun",
        "ResourceProperties": properties,
    }
    if request_type != "Create":
        event["PhysicalResourceId"] = handler.physical_id(JOB)
    if old is not None:
        event["OldResourceProperties"] = old
    return event


# -- pure decisions -------------------------------------------------------------------------------
def test_create_runs_and_delete_never_does():
    assert handler.needs_run(_event("Create"))
    assert not handler.needs_run(_event("Delete"))


@pytest.mark.parametrize(
    ("change", "runs"),
    [
        ({"RunInputs": {"ScriptHash": "c" * 64, "ReviewsFingerprint": "b" * 64}}, True),
        ({"RunInputs": {"ScriptHash": "a" * 64, "ReviewsFingerprint": "d" * 64}}, True),
        ({"Arguments": {"--write-mode": "append"}}, True),
        ({"JobName": "other-job"}, True),
        ({"ServiceToken": "arn:aws:lambda:eu-west-1:123456789012:function:new"}, False),
    ],
)
def test_an_update_runs_only_when_what_the_run_produces_could_differ(change, runs):
    assert handler.needs_run(_event("Update", {**PROPERTIES, **change}, old=PROPERTIES)) is runs


def _run(state, **extra):
    return {"Id": "jr_1", "JobName": JOB, "JobRunState": state, **extra}


@pytest.mark.parametrize("state", ["STARTING", "RUNNING", "STOPPING", "WAITING"])
def test_a_run_in_progress_has_no_outcome_yet(state):
    assert handler.run_outcome(_run(state)) is None


def test_a_succeeded_run_answers_success_with_its_id():
    outcome = handler.run_outcome(_run("SUCCEEDED", ExecutionTime=142))
    assert outcome == handler.Outcome(
        "SUCCESS", f"run jr_1 of {JOB} SUCCEEDED in 142 s", {"JobRunId": "jr_1"}
    )


@pytest.mark.parametrize("state", ["FAILED", "TIMEOUT", "STOPPED", "ERROR", "EXPIRED"])
def test_a_run_that_ended_otherwise_fails_the_deploy_with_its_error_message(state):
    message = "AnalysisException: Path does not exist: s3://raw/reviews/tsv/"
    outcome = handler.run_outcome(_run(state, ErrorMessage=message))
    assert outcome.status == "FAILED" and outcome.data == {}
    assert outcome.reason == f"run jr_1 of {JOB} ended {state}: {message}"


def test_a_failed_run_without_a_message_says_where_to_look():
    outcome = handler.run_outcome(_run("FAILED"))
    assert outcome.status == "FAILED" and "Glue console" in outcome.reason


class ReplayedGlue:
    """A run whose states are replayed in order (moto's runs never fail); records the calls."""

    class exceptions:
        class ConcurrentRunsExceededException(Exception):
            pass

        class EntityNotFoundException(Exception):
            pass

    def __init__(self, *runs):
        self.runs = list(runs)
        self.calls = []

    def get_paginator(self, operation):
        assert operation == "get_job_runs"
        outer = self

        class _Paginator:
            def paginate(self, JobName):
                outer.calls.append(("get_job_runs", JobName))
                return [{"JobRuns": []}]

        return _Paginator()

    def start_job_run(self, **kwargs):
        self.calls.append(("start_job_run", kwargs))
        return {"JobRunId": "jr_1"}

    def get_job_run(self, JobName, RunId):
        run = self.runs.pop(0) if len(self.runs) > 1 else self.runs[0]
        return {"JobRun": {"Id": RunId, "JobName": JobName, **run}}


def _run_job(glue, remaining_ms=lambda: PLENTY_OF_TIME):
    return handler.run_job(
        glue,
        job_name=JOB,
        arguments=RUN_ARGUMENTS,
        reset=True,
        remaining_ms=remaining_ms,
        sleep=lambda _: None,
    )


def test_a_failing_run_is_waited_for_and_reported_with_its_error():
    glue = ReplayedGlue(
        {"JobRunState": "STARTING"},
        {"JobRunState": "RUNNING"},
        {"JobRunState": "FAILED", "ErrorMessage": "Job run failed: OutOfMemoryError"},
    )
    outcome = _run_job(glue)
    assert outcome.status == "FAILED" and outcome.reason.endswith("OutOfMemoryError")
    assert ("start_job_run", {"JobName": JOB, "Arguments": RUN_ARGUMENTS}) in glue.calls


def test_a_run_outliving_the_function_fails_the_deploy_before_lambda_times_out():
    glue = ReplayedGlue({"JobRunState": "RUNNING"})
    outcome = _run_job(glue, remaining_ms=lambda: cfn_response.SAFETY_MARGIN_MS - 1)
    assert outcome.status == "FAILED"
    assert outcome.reason.startswith(f"run jr_1 of {JOB} is still RUNNING")
    assert "rather than leaving CloudFormation to wait an hour" in outcome.reason


# -- against moto ------------------------------------------------------------------------------
class BookmarkRecorder:
    """moto's Glue client plus ResetJobBookmark (moto 5.2 has none), recording the order of the
    calls that change something."""

    def __init__(self, glue):
        self._glue = glue
        self.changes = []

    def __getattr__(self, name):
        return getattr(self._glue, name)

    def reset_job_bookmark(self, JobName):
        self.changes.append(("reset_job_bookmark", JobName))
        return {}

    def start_job_run(self, **kwargs):
        self.changes.append(("start_job_run", kwargs["JobName"]))
        return self._glue.start_job_run(**kwargs)


@pytest.fixture
def glue(monkeypatch):
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        monkeypatch.setenv(name, "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
    with mock_aws():
        client = boto3.client("glue", region_name=REGION)
        client.create_job(
            Name=JOB,
            Role="arn:aws:iam::123456789012:role/etl",
            Command={"Name": "glueetl", "ScriptLocation": "s3://assets/etl.py"},
            DefaultArguments={"--write-mode": "append"},
        )
        yield BookmarkRecorder(client)
    state_manager.unset_transition("glue::job_run")


def _runs_stay_in_each_state_for(reads):
    """moto's job runs go STARTING → RUNNING → SUCCEEDED, one step per ``reads`` reads."""
    state_manager.set_transition(
        model_name="glue::job_run", transition={"progression": "manual", "times": reads}
    )


def test_create_starts_one_run_with_the_run_arguments_and_waits_for_it(glue):
    _runs_stay_in_each_state_for(2)
    outcome, physical_id = handler.handle(_event("Create"), lambda: PLENTY_OF_TIME, glue, no_wait)
    assert outcome.status == "SUCCESS", outcome.reason
    (run,) = glue.get_job_runs(JobName=JOB)["JobRuns"]
    assert outcome.data == {"JobRunId": run["Id"]}
    assert run["Arguments"] == RUN_ARGUMENTS
    assert physical_id == handler.physical_id(JOB)


def test_a_new_job_starts_without_a_bookmark_reset_and_a_rerun_resets_first(glue):
    handler.handle(_event("Create"), lambda: PLENTY_OF_TIME, glue, no_wait)
    assert glue.changes == [("start_job_run", JOB)]  # a job that never ran has no bookmark
    new_script = {**PROPERTIES, "RunInputs": {"ScriptHash": "c" * 64}}
    outcome, _ = handler.handle(
        _event("Update", new_script, old=PROPERTIES), lambda: PLENTY_OF_TIME, glue, no_wait
    )
    assert outcome.status == "SUCCESS", outcome.reason
    assert glue.changes[1:] == [("reset_job_bookmark", JOB), ("start_job_run", JOB)]
    assert len(glue.get_job_runs(JobName=JOB)["JobRuns"]) == 2


def test_a_run_already_in_progress_is_waited_for_instead_of_starting_another(glue):
    _runs_stay_in_each_state_for(3)
    earlier = glue.start_job_run(JobName=JOB, Arguments=RUN_ARGUMENTS)["JobRunId"]
    glue.changes.clear()
    outcome, _ = handler.handle(_event("Create"), lambda: PLENTY_OF_TIME, glue, no_wait)
    assert outcome == handler.Outcome(
        "SUCCESS", f"run {earlier} of {JOB} SUCCEEDED in 123 s", {"JobRunId": earlier}
    )
    assert glue.changes == []  # neither a reset nor a second run
    assert len(glue.get_job_runs(JobName=JOB)["JobRuns"]) == 1


def test_a_run_started_between_the_look_and_the_start_is_joined(glue, monkeypatch):
    """ConcurrentRunsExceededException (moto raises it as Glue does) is not a failure."""
    _runs_stay_in_each_state_for(3)
    other = glue.start_job_run(JobName=JOB)["JobRunId"]
    real_job_runs, looks = handler.job_runs, []

    def first_look_sees_nothing(glue_client, job_name):
        looks.append(job_name)
        return [] if len(looks) == 1 else real_job_runs(glue_client, job_name)

    monkeypatch.setattr(handler, "job_runs", first_look_sees_nothing)
    assert handler.start_or_join(glue, JOB, RUN_ARGUMENTS, reset=False) == other
    assert len(looks) == 2


def test_an_update_that_changes_nothing_the_run_depends_on_reports_the_last_run(glue):
    first, _ = handler.handle(_event("Create"), lambda: PLENTY_OF_TIME, glue, no_wait)
    moved = {**PROPERTIES, "ServiceToken": "arn:aws:lambda:eu-west-1:123456789012:function:v2"}
    outcome, _ = handler.handle(
        _event("Update", moved, old=PROPERTIES), lambda: PLENTY_OF_TIME, glue, no_wait
    )
    assert outcome.status == "SUCCESS" and outcome.data == first.data
    assert len(glue.get_job_runs(JobName=JOB)["JobRuns"]) == 1


def test_the_newest_run_wins_whatever_order_glue_lists_them_in():
    now = datetime(2026, 12, 3, tzinfo=UTC)
    runs = [
        {"Id": "old", "JobRunState": "SUCCEEDED", "StartedOn": now - timedelta(hours=1)},
        {"Id": "new", "JobRunState": "SUCCEEDED", "StartedOn": now},
        {"Id": "failed", "JobRunState": "FAILED", "StartedOn": now + timedelta(minutes=5)},
    ]

    class Listed:
        def get_paginator(self, _):
            return type("P", (), {"paginate": lambda self, JobName: [{"JobRuns": runs}]})()

    ordered = handler.job_runs(Listed(), JOB)
    assert [run["Id"] for run in ordered] == ["failed", "new", "old"]
    assert handler.newest(ordered, frozenset({"SUCCEEDED"})) == "new"


# -- the handler, answering CloudFormation over HTTP --------------------------------------------
class _Capture(BaseHTTPRequestHandler):
    bodies: ClassVar[list] = []

    def do_PUT(self):
        length = int(self.headers["Content-Length"])
        _Capture.bodies.append(json.loads(self.rfile.read(length)))
        self.send_response(200)
        self.end_headers()

    def log_message(self, *args):
        pass


@pytest.fixture
def response_url():
    server = HTTPServer(("127.0.0.1", 0), _Capture)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    _Capture.bodies = []
    yield f"http://127.0.0.1:{server.server_port}/response"
    server.shutdown()


class _Context:
    def get_remaining_time_in_millis(self):
        return PLENTY_OF_TIME


def test_handler_answers_success_with_the_run_id(glue, response_url, monkeypatch):
    monkeypatch.setenv("AWS_REGION", REGION)
    handler.handler(_event("Create", url=response_url), _Context())
    (body,) = _Capture.bodies
    (run,) = boto3.client("glue", region_name=REGION).get_job_runs(JobName=JOB)["JobRuns"]
    assert body["Status"] == "SUCCESS", body["Reason"]
    assert body["Data"] == {"JobRunId": run["Id"]}
    assert body["PhysicalResourceId"] == f"{JOB}:run-on-deploy"
    assert (body["StackId"], body["RequestId"], body["LogicalResourceId"]) == (
        "stack",
        "r1",
        "ReviewsEtlRun",
    )


def test_handler_reports_an_error_as_failed_instead_of_hanging(glue, response_url, monkeypatch):
    monkeypatch.setenv("AWS_REGION", REGION)
    missing = {**PROPERTIES, "JobName": "no-such-job"}
    handler.handler(_event("Create", missing, url=response_url), _Context())
    (body,) = _Capture.bodies
    assert body["Status"] == "FAILED" and "EntityNotFoundException" in body["Reason"]


def test_delete_succeeds_without_touching_the_job_and_keeps_the_physical_id():
    class NoCalls:
        def __getattr__(self, name):
            raise AssertionError(f"Delete called {name}")

    outcome, physical_id = handler.handle(_event("Delete"), lambda: PLENTY_OF_TIME, NoCalls())
    assert outcome.status == "SUCCESS"
    assert physical_id == handler.physical_id(JOB) == f"{JOB}:run-on-deploy"
