"""Lambda entry point: move traffic between the A/B endpoint's production variants.

Invoked with a request (forms in ``traffic_shift.weights``), e.g.
``{"endpoint": "mlws-bank-ab", "weights": {"variant-a": 0.5, "variant-b": 0.5}}``. It validates
the request, reads the endpoint, and calls UpdateEndpointWeightsAndCapacities with weights only
(instance counts stay with autoscaling), and only when the split of the traffic changes.

Environment:
    WORKSHOP_PREFIX  only endpoints named ``<prefix>-...`` are accepted
    MAX_STEP         optional default for the request's ``max_step`` (a share in (0, 1])

Returns ``{"endpoint", "action": "shifted" | "unchanged", "shares_before", "shares_after"}``.
Raises InvalidShiftRequest (its ``field`` names the bad input; nothing was changed) and
EndpointNotReady (the endpoint is not InService: try again once it is).
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Mapping
from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

from .weights import InvalidShiftRequest, parse_request, plan_shift, shares

LOG = logging.getLogger(__name__)
LOG.setLevel(logging.INFO)


class EndpointNotReady(RuntimeError):
    """The endpoint is not InService (for example Updating): retry once it is."""


def endpoint_weights(description: Mapping[str, Any]) -> dict[str, float]:
    """Variant name → weight, from a DescribeEndpoint response."""
    return {
        variant["VariantName"]: float(variant.get("DesiredWeight", variant.get("CurrentWeight", 0)))
        for variant in description.get("ProductionVariants", [])
    }


def _not_found(error: ClientError) -> bool:
    details = error.response.get("Error", {})
    return details.get("Code") == "ValidationException" and "Could not find" in str(
        details.get("Message", "")
    )


def _rounded(weights: Mapping[str, float]) -> dict[str, float]:
    return {name: round(share, 4) for name, share in shares(weights).items()}


def shift_traffic(
    sagemaker: Any, event: object, prefix: str, default_max_step: float | None = None
) -> dict[str, Any]:
    """Apply one request to its endpoint through ``sagemaker`` (a boto3 SageMaker client)."""
    request = parse_request(event, prefix, default_max_step)
    try:
        endpoint = sagemaker.describe_endpoint(EndpointName=request.endpoint)
    except ClientError as error:
        if _not_found(error):
            raise InvalidShiftRequest(
                "endpoint", f"no endpoint named {request.endpoint!r}"
            ) from None
        raise
    status = endpoint["EndpointStatus"]
    if status != "InService":
        raise EndpointNotReady(
            f"{request.endpoint} is {status}; its weights can change only when it is InService"
        )
    plan = plan_shift(request, endpoint_weights(endpoint))
    result = {
        "endpoint": request.endpoint,
        "shares_before": _rounded(plan.before),
        "shares_after": _rounded(plan.after),
    }
    if plan.unchanged:
        return {**result, "action": "unchanged"}
    sagemaker.update_endpoint_weights_and_capacities(
        EndpointName=request.endpoint, DesiredWeightsAndCapacities=plan.desired_weights()
    )
    return {**result, "action": "shifted"}


def _default_max_step(environ: Mapping[str, str]) -> float | None:
    text = environ.get("MAX_STEP", "").strip()
    if not text:
        return None
    try:
        return float(text)
    except ValueError:
        raise ValueError(f"MAX_STEP={text!r} is not a number") from None


_CLIENT: Any = None


def _sagemaker() -> Any:
    global _CLIENT
    if _CLIENT is None:  # one client per execution environment, created on first use
        _CLIENT = boto3.client("sagemaker", config=Config(retries={"mode": "standard"}))
    return _CLIENT


def handler(event: object, context: object) -> dict[str, Any]:
    """Lambda entry point (``traffic_shift.handler.handler``)."""
    result = shift_traffic(
        _sagemaker(), event, os.environ["WORKSHOP_PREFIX"], _default_max_step(os.environ)
    )
    LOG.info(json.dumps(result))
    return result
