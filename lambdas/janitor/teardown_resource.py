"""The janitor as a CloudFormation custom resource (no Provider framework in between).

CloudFormation calls this function directly and waits for an answer on the request's pre-signed
``ResponseURL``. ``handler.on_event`` does the work (Delete runs the janitor with apply and never
raises); this module only answers (through ``cfn_response``, shipped beside the package), so a
stack deletion is never left waiting an hour for a response that would never come.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from typing import Any

from cfn_response import response_body, send

from .handler import on_event

LOG = logging.getLogger()


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
    physical_id = (
        result.get("PhysicalResourceId")
        or event.get("PhysicalResourceId")
        or event["LogicalResourceId"]
    )
    # Data is shown in the stack events; values must be strings for Fn::GetAtt.
    data = {key: str(value) for key, value in (result.get("Data") or {}).items()}
    body = response_body(event, status=status, reason=reason, physical_id=physical_id, data=data)
    answer(event["ResponseURL"], body)
