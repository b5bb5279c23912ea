"""The model-image build custom resource: its decisions, against moto and a real HTTP endpoint."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import ClassVar

import boto3
import pytest
from moto import mock_aws

from tests.lambdas.packaged import import_packaged

handler = import_packaged("image_build.handler")
cfn_response = import_packaged("cfn_response")

REGION = "eu-west-1"
REPO = "workshop-models"
TAG = "src-0123456789abcdef"


@pytest.fixture
def aws(monkeypatch):
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        monkeypatch.setenv(name, "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
    with mock_aws():
        ecr = boto3.client("ecr", region_name=REGION)
        uri = ecr.create_repository(repositoryName=REPO)["repository"]["repositoryUri"]
        yield ecr, uri


def _push(ecr, tag):
    manifest = {
        "schemaVersion": 2,
        "mediaType": "application/vnd.docker.distribution.manifest.v2+json",
        "config": {},
        "layers": [],
    }
    ecr.put_image(repositoryName=REPO, imageManifest=json.dumps(manifest), imageTag=tag)


class FakeCodeBuild:
    """Replays build states in order; records what was started."""

    def __init__(self, *states):
        self.states = list(states)
        self.started = []

    def start_build(self, **kwargs):
        self.started.append(kwargs)
        return {"build": {"id": "build:1"}}

    def batch_get_builds(self, ids):
        state = self.states.pop(0) if len(self.states) > 1 else self.states[0]
        return {"builds": [{"id": ids[0], **state}]}


def _build(codebuild, ecr, uri, remaining_ms=lambda: 900_000):
    return handler.build_image(
        codebuild,
        ecr,
        project="p",
        repository_name=REPO,
        repository_uri=uri,
        tag=TAG,
        remaining_ms=remaining_ms,
        sleep=lambda _: None,
    )


def test_image_exists_asks_ecr(aws):
    ecr, _ = aws
    assert not handler.image_exists(ecr, REPO, TAG)
    _push(ecr, TAG)
    assert handler.image_exists(ecr, REPO, TAG)


def test_existing_image_is_not_rebuilt(aws):
    ecr, uri = aws
    _push(ecr, TAG)
    codebuild = FakeCodeBuild({"buildStatus": "SUCCEEDED"})
    outcome = _build(codebuild, ecr, uri)
    assert outcome == handler.Outcome("SUCCESS", f"{uri}:{TAG} already exists", f"{uri}:{TAG}")
    assert codebuild.started == []


def test_missing_image_is_built_with_the_tag_and_waited_for(aws):
    ecr, uri = aws
    codebuild = FakeCodeBuild(
        {"buildStatus": "IN_PROGRESS"}, {"buildStatus": "IN_PROGRESS"}, {"buildStatus": "SUCCEEDED"}
    )
    outcome = _build(codebuild, ecr, uri)
    assert outcome.status == "SUCCESS" and outcome.image_uri == f"{uri}:{TAG}"
    (started,) = codebuild.started
    assert started["environmentVariablesOverride"] == [
        {"name": "IMAGE_TAG", "value": TAG, "type": "PLAINTEXT"}
    ]


def test_failed_build_reports_the_failing_phase(aws):
    ecr, uri = aws
    failed = {
        "buildStatus": "FAILED",
        "phases": [
            {"phaseType": "PRE_BUILD", "phaseStatus": "SUCCEEDED"},
            {
                "phaseType": "BUILD",
                "phaseStatus": "FAILED",
                "contexts": [{"message": "Error while executing command: docker build"}],
            },
        ],
    }
    outcome = _build(FakeCodeBuild(failed), ecr, uri)
    assert outcome.status == "FAILED"
    assert "BUILD: Error while executing command: docker build" in outcome.reason


def test_a_build_outliving_the_function_fails_before_lambda_times_out(aws):
    ecr, uri = aws
    outcome = _build(
        FakeCodeBuild({"buildStatus": "IN_PROGRESS"}),
        ecr,
        uri,
        remaining_ms=lambda: cfn_response.SAFETY_MARGIN_MS - 1,
    )
    assert outcome.status == "FAILED" and "still running" in outcome.reason


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


def _event(request_type, uri, url):
    return {
        "RequestType": request_type,
        "ResponseURL": url,
        "StackId": "stack",
        "RequestId": "r1",
        "LogicalResourceId": "ModelImage",
        "PhysicalResourceId": f"{uri}:{TAG}",
        "ResourceProperties": {
            "ProjectName": "p",
            "RepositoryName": REPO,
            "RepositoryUri": uri,
            "ImageTag": TAG,
        },
    }


class _Context:
    def get_remaining_time_in_millis(self):
        return 900_000


def test_handler_answers_cloudformation_over_http(aws, response_url, monkeypatch):
    ecr, uri = aws
    _push(ecr, TAG)
    monkeypatch.setenv("AWS_REGION", REGION)
    handler.handler(_event("Create", uri, response_url), _Context())
    (body,) = _Capture.bodies
    assert body["Status"] == "SUCCESS"
    assert body["PhysicalResourceId"] == f"{uri}:{TAG}"
    assert body["Data"] == {"ImageUri": f"{uri}:{TAG}"}


def test_handler_reports_an_error_as_failed_instead_of_hanging(aws, response_url, monkeypatch):
    _, uri = aws
    monkeypatch.setenv("AWS_REGION", REGION)
    event = _event("Update", uri, response_url)
    event["ResourceProperties"]["RepositoryName"] = "no-such-repository"
    handler.handler(event, _Context())
    (body,) = _Capture.bodies
    assert body["Status"] == "FAILED" and "RepositoryNotFound" in body["Reason"]


def test_delete_succeeds_without_touching_anything(aws, response_url, monkeypatch):
    _, uri = aws
    monkeypatch.setenv("AWS_REGION", REGION)
    handler.handler(_event("Delete", uri, response_url), _Context())
    (body,) = _Capture.bodies
    assert body["Status"] == "SUCCESS" and body["PhysicalResourceId"] == f"{uri}:{TAG}"
