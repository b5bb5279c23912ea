"""Custom resource: build the workshop's model image in CodeBuild during `cdk deploy`.

CloudFormation invokes this function on Create/Update/Delete of the ``ModelImage`` resource.
On Create/Update it starts the CodeBuild project with the image tag (the source's hash), waits
for the build, and answers CloudFormation with the image URI, so the image exists when the
deploy finishes. An image already in the repository under that tag is not rebuilt (tags are
immutable, and a retried deploy must not fail on it). Delete does nothing: the repository
empties itself on delete when the workshop is torn down.

The decisions are plain functions (tested directly and against moto); ``handler`` only wires
them to boto3 and, through ``cfn_response`` (shipped beside this package), to CloudFormation's
response URL. Standard library + boto3 only.
"""

from __future__ import annotations

import json
import logging
import os
import time
from dataclasses import dataclass
from typing import Any

import boto3
from cfn_response import out_of_time, response_body, send

LOG = logging.getLogger()
LOG.setLevel(logging.INFO)

POLL_SECONDS = 15


@dataclass(frozen=True)
class Outcome:
    status: str  # SUCCESS or FAILED, as CloudFormation expects
    reason: str
    image_uri: str = ""


def image_uri(repository_uri: str, tag: str) -> str:
    return f"{repository_uri}:{tag}"


def image_exists(ecr: Any, repository_name: str, tag: str) -> bool:
    try:
        ecr.describe_images(repositoryName=repository_name, imageIds=[{"imageTag": tag}])
    except ecr.exceptions.ImageNotFoundException:
        return False
    return True


def build_outcome(build: dict[str, Any], uri: str) -> Outcome | None:
    """None while the build runs; otherwise what to tell CloudFormation."""
    status = build["buildStatus"]
    if status == "IN_PROGRESS":
        return None
    if status == "SUCCEEDED":
        return Outcome("SUCCESS", f"built and pushed {uri}", uri)
    failed_phases = [
        f"{phase['phaseType']}: {ctx.get('message', '')}".strip()
        for phase in build.get("phases", [])
        if phase.get("phaseStatus") not in (None, "SUCCEEDED")
        for ctx in phase.get("contexts", [{}]) or [{}]
    ]
    detail = "; ".join(failed_phases) or "no phase detail"
    return Outcome("FAILED", f"image build {build['id']} ended {status} ({detail})")


def build_image(
    codebuild: Any,
    ecr: Any,
    *,
    project: str,
    repository_name: str,
    repository_uri: str,
    tag: str,
    remaining_ms,
    sleep=time.sleep,
) -> Outcome:
    """Ensure ``repository_uri:tag`` exists, building it if needed, within the time left."""
    uri = image_uri(repository_uri, tag)
    if image_exists(ecr, repository_name, tag):
        return Outcome("SUCCESS", f"{uri} already exists", uri)
    build_id = codebuild.start_build(
        projectName=project,
        environmentVariablesOverride=[{"name": "IMAGE_TAG", "value": tag, "type": "PLAINTEXT"}],
    )["build"]["id"]
    LOG.info(json.dumps({"event": "build-started", "build": build_id, "image": uri}))
    while True:
        (build,) = codebuild.batch_get_builds(ids=[build_id])["builds"]
        outcome = build_outcome(build, uri)
        if outcome is not None:
            return outcome
        if out_of_time(remaining_ms):
            return Outcome("FAILED", f"image build {build_id} still running; deploy again to wait")
        sleep(POLL_SECONDS)


def handle(event: dict[str, Any], remaining_ms, codebuild: Any, ecr: Any) -> tuple[Outcome, str]:
    properties = event["ResourceProperties"]
    tag = properties["ImageTag"]
    physical_id = image_uri(properties["RepositoryUri"], tag)
    if event["RequestType"] == "Delete":
        return Outcome("SUCCESS", "nothing to do: the repository empties itself"), event.get(
            "PhysicalResourceId", physical_id
        )
    try:
        outcome = build_image(
            codebuild,
            ecr,
            project=properties["ProjectName"],
            repository_name=properties["RepositoryName"],
            repository_uri=properties["RepositoryUri"],
            tag=tag,
            remaining_ms=remaining_ms,
        )
    except Exception as error:  # any error must still reach CloudFormation as FAILED
        LOG.exception("image build failed")
        outcome = Outcome("FAILED", f"{type(error).__name__}: {error}")
    return outcome, physical_id


def handler(event: dict[str, Any], context: Any) -> None:
    LOG.info(json.dumps({"event": "request", "type": event["RequestType"]}))
    region = os.environ.get("AWS_REGION")
    outcome, physical_id = handle(
        event,
        context.get_remaining_time_in_millis,
        boto3.client("codebuild", region_name=region),
        boto3.client("ecr", region_name=region),
    )
    LOG.info(json.dumps({"event": "response", "status": outcome.status, "reason": outcome.reason}))
    data = {"ImageUri": outcome.image_uri} if outcome.image_uri else {}
    body = response_body(
        event, status=outcome.status, reason=outcome.reason, physical_id=physical_id, data=data
    )
    send(event["ResponseURL"], body)
