"""Deletes a SageMaker Studio domain *with* its home EFS volume when its stack is deleted.

CloudFormation deletes a domain the way DeleteDomain does by default: the home EFS file system
(every attendee's files) stays behind, and bills. This custom resource depends on the domain and
the user profiles depend on it, so CloudFormation deletes it after the profiles and before the
domain; its Delete calls ``DeleteDomain`` with ``RetentionPolicy={"HomeEfsFileSystem": "Delete"}``
and waits until the domain is gone. CloudFormation's own delete of the domain then finds
nothing and succeeds. Create and Update do nothing. Every request is answered on its
``ResponseURL``; a Delete that fails is answered FAILED so the volume is never silently left.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping
from typing import Any

import boto3
from botocore.exceptions import ClientError
from cfn_response import response_body, send

LOG = logging.getLogger()
LOG.setLevel(logging.INFO)
POLL_SECONDS = 15


def domain_gone(sagemaker: Any, domain_id: str) -> bool:
    try:
        status = sagemaker.describe_domain(DomainId=domain_id)["Status"]
    except ClientError as error:
        if error.response["Error"]["Code"] in ("ResourceNotFound", "ValidationException"):
            return True
        raise
    if status == "Delete_Failed":
        raise RuntimeError(f"domain {domain_id} could not be deleted (Delete_Failed)")
    return False


def delete_domain_and_home(
    sagemaker: Any,
    domain_id: str,
    *,
    deadline: float,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
) -> str:
    """Delete the domain and its home EFS; wait until it is gone (idempotent)."""
    if domain_gone(sagemaker, domain_id):
        return "already gone"
    try:
        sagemaker.delete_domain(DomainId=domain_id, RetentionPolicy={"HomeEfsFileSystem": "Delete"})
    except ClientError as error:
        if error.response["Error"]["Code"] != "ResourceNotFound":
            raise
    while not domain_gone(sagemaker, domain_id):
        if clock() > deadline:
            raise TimeoutError(f"domain {domain_id} still deleting at the deadline")
        sleep(POLL_SECONDS)
    return "deleted with its home EFS"


def handler(
    event: Mapping[str, Any],
    context: Any,
    *,
    sagemaker: Any = None,
    answer: Callable[[str, bytes], None] = send,
) -> None:
    status, reason = "SUCCESS", "nothing to do"
    try:
        if event["RequestType"] == "Delete":
            remaining = context.get_remaining_time_in_millis() / 1000 if context else 600
            reason = delete_domain_and_home(
                sagemaker or boto3.client("sagemaker"),
                event["ResourceProperties"]["DomainId"],
                deadline=time.monotonic() + remaining - 60,
            )
    except Exception as error:
        LOG.exception("studio teardown failed")
        status, reason = "FAILED", f"{type(error).__name__}: {error}"
    LOG.info("%s: %s", status, reason)
    physical_id = (
        event.get("PhysicalResourceId") or f"studio-home-{event['ResourceProperties']['DomainId']}"
    )
    body = response_body(event, status=status, reason=reason, physical_id=physical_id)
    answer(event["ResponseURL"], body)
