"""Lambda entry point: an approved model package becomes the A/B endpoint's challenger.

Triggered by EventBridge ("SageMaker Model Package State Change", approval in the workshop's
group). Steps, each safe to repeat: read the package from the registry (the source of truth: an
event may arrive late or twice), create the model from its inference specification, create a new
endpoint config that keeps the champion and puts the model in the challenger variant at the
small weight, and update the endpoint (retention choices explained in ``promotion.promotion``).

Environment: see ``Settings.from_env``. Returns ``{"action": "ignored" | "unchanged" |
"promoted", ...}``; raises EndpointNotReady while the endpoint is updating, so Lambda's
asynchronous retries try again later.
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

from .promotion import (
    APPROVED,
    EndpointNotReady,
    PromotionError,
    Settings,
    approved_package,
    challenger_config,
    container_definitions,
    endpoint_config_name,
    model_matches,
    model_name,
    update_request,
    variant_models,
)

LOG = logging.getLogger(__name__)
LOG.setLevel(logging.INFO)


def _not_found(error: ClientError) -> bool:
    details = error.response.get("Error", {})
    return details.get("Code") == "ValidationException" and "Could not find" in str(
        details.get("Message", "")
    )


def _describe_or_none(call: Any, **kwargs: Any) -> dict[str, Any] | None:
    try:
        return call(**kwargs)
    except ClientError as error:
        if _not_found(error):
            return None
        raise


def _live_weights(endpoint: Mapping[str, Any]) -> dict[str, float]:
    return {
        v["VariantName"]: float(v.get("DesiredWeight", v.get("CurrentWeight", 0.0)))
        for v in endpoint.get("ProductionVariants", [])
    }


def _ensure_model(sagemaker: Any, settings: Settings, name: str, package: Mapping) -> bool:
    """Create the model unless it exists; True when created. A same-named model that runs
    something else is an error, not something to reuse."""
    definitions = container_definitions(package["InferenceSpecification"])
    existing = _describe_or_none(sagemaker.describe_model, ModelName=name)
    if existing is not None:
        if not model_matches(existing, definitions):
            raise PromotionError(f"model {name} exists but serves other images or artifacts")
        return False
    sagemaker.create_model(
        ModelName=name,
        ExecutionRoleArn=settings.execution_role_arn,
        Tags=[
            {"Key": "workshop", "Value": settings.prefix},
            {"Key": "model-package", "Value": package["ModelPackageArn"]},
        ],
        **definitions,
    )
    return True


def _already_deploying(sagemaker: Any, endpoint: Mapping, challenger: str, model: str) -> bool:
    """Whether an update in flight already puts ``model`` in the challenger variant."""
    pending = (endpoint.get("PendingDeploymentSummary") or {}).get("EndpointConfigName")
    if not pending or pending == endpoint.get("EndpointConfigName"):
        return False
    config = sagemaker.describe_endpoint_config(EndpointConfigName=pending)
    return variant_models(config).get(challenger) == model


def promote(sagemaker: Any, settings: Settings, event: object) -> dict[str, Any]:
    """Handle one EventBridge event with ``sagemaker`` (a boto3 SageMaker client)."""
    package_arn, reason = approved_package(event, settings)
    if package_arn is None:
        return {"action": "ignored", "reason": reason}
    package = sagemaker.describe_model_package(ModelPackageName=package_arn)
    if (
        package.get("ModelPackageGroupName") != settings.model_package_group
        or package.get("ModelApprovalStatus") != APPROVED
    ):
        status = package.get("ModelApprovalStatus")
        return {"action": "ignored", "reason": f"{package_arn} is {status} in the registry now"}
    version = int(package["ModelPackageVersion"])
    model = model_name(settings, settings.model_package_group, version)
    challenger = settings.challenger_variant
    result = {"endpoint": settings.endpoint_name, "model": model, "model_package": package_arn}

    endpoint = sagemaker.describe_endpoint(EndpointName=settings.endpoint_name)
    current = sagemaker.describe_endpoint_config(EndpointConfigName=endpoint["EndpointConfigName"])
    serving = variant_models(current)
    if model in serving.values():
        variant = next(v for v, m in serving.items() if m == model)
        return {**result, "action": "unchanged", "reason": f"{model} already serves {variant}"}
    if _already_deploying(sagemaker, endpoint, challenger, model):
        return {**result, "action": "unchanged", "reason": f"an update to {model} is running"}
    if endpoint["EndpointStatus"] != "InService":
        raise EndpointNotReady(
            f"{settings.endpoint_name} is {endpoint['EndpointStatus']}; retry once InService"
        )

    created_model = _ensure_model(sagemaker, settings, model, package)
    name = endpoint_config_name(
        settings.endpoint_name,
        current["EndpointConfigName"],
        model,
        version,
        settings.challenger_weight,
    )
    request = challenger_config(
        current, _live_weights(endpoint), settings, model, name, package_arn
    )
    created_config = (
        _describe_or_none(sagemaker.describe_endpoint_config, EndpointConfigName=name) is None
    )
    if created_config:
        sagemaker.create_endpoint_config(**request)
    sagemaker.update_endpoint(**update_request(settings, name))
    return {
        **result,
        "action": "promoted",
        "variant": challenger,
        "replaced_model": serving.get(challenger),
        "endpoint_config": name,
        "previous_endpoint_config": current["EndpointConfigName"],
        "weights": {
            v["VariantName"]: v["InitialVariantWeight"] for v in request["ProductionVariants"]
        },
        "created": {"model": created_model, "endpoint_config": created_config},
    }


_CLIENT: Any = None


def _sagemaker() -> Any:
    global _CLIENT
    if _CLIENT is None:  # one client per execution environment, created on first use
        _CLIENT = boto3.client("sagemaker", config=Config(retries={"mode": "standard"}))
    return _CLIENT


def handler(event: object, context: object) -> dict[str, Any]:
    """Lambda entry point (``promotion.handler.handler``)."""
    result = promote(_sagemaker(), Settings.from_env(os.environ), event)
    LOG.info(json.dumps(result, default=str))
    return result
