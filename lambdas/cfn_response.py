"""Answering CloudFormation from a custom resource's function (no Provider framework between).

CloudFormation invokes the function and then waits, up to an hour, for an answer on the
request's pre-signed ``ResponseURL``. A function that dies without answering (an exception, or
Lambda's own timeout) leaves the deploy hanging that long, so the deploy-time functions that
start a job and wait for it (image_build, glue_run) answer every request, errors included, and
stop waiting ``SAFETY_MARGIN_MS`` before Lambda would stop them.

A module of ``lambdas/`` beside the packages that import it: ``packaged_function(shared=...)``
puts it at the root of their asset (``/var/task``), where Lambda's ``sys.path`` finds it.
Standard library only.
"""

from __future__ import annotations

import json
import urllib.request
from collections.abc import Callable, Mapping
from typing import Any

# Time kept back from Lambda's timeout to answer (one poll interval, the PUT, some slack).
SAFETY_MARGIN_MS = 60_000
REASON_LIMIT = 3000  # CloudFormation shows the reason in the stack events; keep it readable


def out_of_time(remaining_ms: Callable[[], int]) -> bool:
    """True once waiting longer would risk Lambda's timeout before the answer is sent."""
    return remaining_ms() < SAFETY_MARGIN_MS


def response_body(
    event: Mapping[str, Any],
    *,
    status: str,
    reason: str,
    physical_id: str,
    data: Mapping[str, str] | None = None,
) -> bytes:
    """The JSON document CloudFormation expects at the response URL (SUCCESS or FAILED)."""
    return json.dumps(
        {
            "Status": status,
            "Reason": reason[:REASON_LIMIT],
            "PhysicalResourceId": physical_id,
            "StackId": event["StackId"],
            "RequestId": event["RequestId"],
            "LogicalResourceId": event["LogicalResourceId"],
            "Data": dict(data or {}),  # Fn::GetAtt reads these: string values only
        }
    ).encode()


def send(url: str, body: bytes) -> None:
    """PUT ``body`` to the pre-signed URL (an empty Content-Type, as the URL was signed)."""
    request = urllib.request.Request(
        url, data=body, method="PUT", headers={"Content-Type": "", "Content-Length": str(len(body))}
    )
    with urllib.request.urlopen(request, timeout=30) as response:  # CloudFormation's URL
        response.read()
