"""The janitor as a CloudFormation custom resource (no Provider framework in between).

CloudFormation calls this function directly and waits for an answer on the request's pre-signed
``ResponseURL``. ``handler.on_event`` does the work (Delete runs the janitor with apply and never
raises); this module only answers, so a stack deletion is never left waiting an hour for a
response that would never come.
"""

from __future__ import annotations

import json
import logging
import urllib.request
from collections.abc import Callable, Mapping
from typing import Any

from .handler import on_event

LOG = logging.getLogger()


def response_body(
    event: Mapping[str, Any], result: Mapping[str, Any], status: str, reason: str
) -> bytes:
    """The JSON document CloudFormation expects on the response URL."""
    return json.dumps(
        {
            "Status": status,
            "Reason": reason[:1000],
            "PhysicalResourceId": result.get("PhysicalResourceId")
            or event.get("PhysicalResourceId")
            or event["LogicalResourceId"],
            "StackId": event["StackId"],
            "RequestId": event["RequestId"],
            "LogicalResourceId": event["LogicalResourceId"],
            # Data is shown in the stack events; values must be strings for Fn::GetAtt.
            "Data": {key: str(value) for key, value in (result.get("Data") or {}).items()},
        }
    ).encode()


def send(url: str, body: bytes) -> None:
    request = urllib.request.Request(
        url, data=body, method="PUT", headers={"Content-Type": "", "Content-Length": str(len(body))}
    )
    with urllib.request.urlopen(request, timeout=30) as response:  # CloudFormation's URL
        response.read()


def handler(
    event: Mapping[str, Any],
    context: Any,
    *,
    work: Callable[[Mapping[str, Any], Any], Mapping[str, Any]] = on_event,
    answer: Callable[[str, bytes], None] = send,
) -> None:
    """Run ``work`` for the request and always answer CloudFormation.

    Delete answers SUCCESS even when the work failed: the janitor has logged what is left, and a
    failed Delete would only leave the stack in DELETE_FAILED with the same resources billing.
    """
    try:
        result, status, reason = work(event, context), "SUCCESS", "done"
    except Exception as error:  # answer no matter what, or CloudFormation waits an hour
        LOG.exception("teardown custom resource failed")
        result = {}
        status = "SUCCESS" if event.get("RequestType") == "Delete" else "FAILED"
        reason = f"{type(error).__name__}: {error}"
    answer(event["ResponseURL"], response_body(event, result, status, reason))
