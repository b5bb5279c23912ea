"""Putting a newly approved model in as the A/B endpoint's challenger: the decisions, no AWS calls.

How the endpoint is updated, and why. UpdateEndpoint's retention switch applies to a property
type for every variant at once; there is no per-variant "retain". With
``RetainAllVariantProperties=False`` every variant would restart at its config's
``InitialInstanceCount``, throwing away the champion's autoscaled capacity in the middle of an
event; with ``True`` alone the old weights would stay and the new challenger would inherit
whatever share its predecessor had been shifted to. So the update retains everything (each
variant's instance count, as autoscaling left it) except ``DesiredWeight``, listed in
``ExcludeRetainedVariantProperties``, which comes from the new config: the challenger at the
configured small weight, the champion(s) sharing the rest. Only the challenger's model changes,
under its stable variant name; autoscaling allows a model change in place (only an instance type
change would need the scalable target deregistered first).

Idempotency: names derive from their inputs (model ``<prefix>-<group>-v<version>``, endpoint
config ``<endpoint>-v<version>-<digest of current config, model and weight>``), existing ones
are reused, and an approval whose model the challenger already serves changes nothing.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

APPROVED = "Approved"
EVENT_DETAIL_TYPE = "SageMaker Model Package State Change"
NAME_LIMIT = 63  # SageMaker model and endpoint-config names
# Fields of DescribeEndpointConfig that CreateEndpointConfig takes back unchanged.
CONFIG_FIELDS_KEPT = (
    "DataCaptureConfig",
    "KmsKeyId",
    "AsyncInferenceConfig",
    "ExplainerConfig",
    "ShadowProductionVariants",
    "ExecutionRoleArn",
    "VpcConfig",
    "EnableNetworkIsolation",
)
# Fields of a model package's inference container that a model's container definition takes.
CONTAINER_FIELDS = ("ContainerHostname", "Image", "ModelDataUrl", "ModelDataSource", "Environment")
WEIGHTS_FROM_NEW_CONFIG = [{"VariantPropertyType": "DesiredWeight"}]
ROLLBACK_BAKE_SECONDS = 600  # watch the rollback alarms this long before the old fleet goes


class SettingsError(ValueError):
    """The function's environment is unusable; the message names the variable."""


class EndpointNotReady(RuntimeError):
    """The endpoint is not InService (an update is running): retry later."""


class PromotionError(RuntimeError):
    """The endpoint or the registry is in a state promotion must not paper over."""


@dataclass(frozen=True)
class Settings:
    """What the function is told through its environment."""

    prefix: str
    model_package_group: str
    endpoint_name: str
    execution_role_arn: str
    challenger_variant: str = "variant-b"
    challenger_weight: float = 0.1
    rollback_alarms: tuple[str, ...] = ()

    @classmethod
    def from_env(cls, environ: Mapping[str, str]) -> Settings:
        """Read and check ``WORKSHOP_PREFIX``, ``MODEL_PACKAGE_GROUP``, ``ENDPOINT_NAME``,
        ``EXECUTION_ROLE_ARN``, ``CHALLENGER_VARIANT``, ``CHALLENGER_WEIGHT`` and the optional
        ``ROLLBACK_ALARMS`` (comma-separated CloudWatch alarm names)."""

        def required(name: str) -> str:
            value = environ.get(name, "").strip()
            if not value:
                raise SettingsError(f"{name} is not set")
            return value

        prefix = required("WORKSHOP_PREFIX")
        endpoint = required("ENDPOINT_NAME")
        if not endpoint.startswith(f"{prefix}-"):
            raise SettingsError(f"ENDPOINT_NAME={endpoint!r} does not start with '{prefix}-'")
        text = environ.get("CHALLENGER_WEIGHT", "0.1").strip()
        try:
            weight = float(text)
        except ValueError:
            raise SettingsError(f"CHALLENGER_WEIGHT={text!r} is not a number") from None
        if not (math.isfinite(weight) and 0 < weight < 1):
            raise SettingsError(f"CHALLENGER_WEIGHT={text!r} must be a share in (0, 1)")
        alarms = tuple(
            a.strip() for a in environ.get("ROLLBACK_ALARMS", "").split(",") if a.strip()
        )
        return cls(
            prefix=prefix,
            model_package_group=required("MODEL_PACKAGE_GROUP"),
            endpoint_name=endpoint,
            execution_role_arn=required("EXECUTION_ROLE_ARN"),
            challenger_variant=environ.get("CHALLENGER_VARIANT", "").strip() or "variant-b",
            challenger_weight=weight,
            rollback_alarms=alarms,
        )


def approved_package(event: object, settings: Settings) -> tuple[str | None, str]:
    """The model package ARN this event approves in the workshop's group, else None and why."""
    if not isinstance(event, Mapping) or event.get("detail-type") != EVENT_DETAIL_TYPE:
        kind = event.get("detail-type") if isinstance(event, Mapping) else type(event).__name__
        return None, f"not a model package state change ({kind!r})"
    detail = event.get("detail") or {}
    group = detail.get("ModelPackageGroupName")
    if group != settings.model_package_group:
        return None, f"model package group {group!r} is not {settings.model_package_group!r}"
    status = detail.get("ModelApprovalStatus")
    if status != APPROVED:
        return None, f"approval status is {status!r}, not {APPROVED!r}"
    arn = detail.get("ModelPackageArn") or next(iter(event.get("resources") or []), None)
    if not arn:
        return None, "the event names no model package"
    return arn, "approved"


def _digest(*parts: object) -> str:
    return hashlib.sha256(json.dumps(parts, sort_keys=True).encode()).hexdigest()


def _bounded(stem: str, suffix: str) -> str:
    """``stem + suffix`` within NAME_LIMIT; a too-long stem is cut and made unique by a hash."""
    if len(stem) + len(suffix) <= NAME_LIMIT:
        return stem + suffix
    keep = NAME_LIMIT - len(suffix) - 9
    return f"{stem[:keep].rstrip('-')}-{_digest(stem)[:8]}{suffix}"


def model_name(settings: Settings, group: str, version: int) -> str:
    """``<prefix>-<group>-v<version>``; a group already named ``<prefix>-...`` is not prefixed
    twice (``mlws-bank-v3``, not ``mlws-mlws-bank-v3``)."""
    stem = group if group.startswith(f"{settings.prefix}-") else f"{settings.prefix}-{group}"
    return _bounded(stem, f"-v{version}")


def endpoint_config_name(
    endpoint_name: str, current_config: str, model: str, version: int, weight: float
) -> str:
    """A new name for each (current config, model, weight): the same inputs give the same name,
    so a retry finds the config it already created."""
    return _bounded(endpoint_name, f"-v{version}-{_digest(current_config, model, weight)[:10]}")


def container_definitions(inference_specification: Mapping[str, Any]) -> dict[str, Any]:
    """CreateModel's container arguments from a model package's inference specification."""
    containers = [
        {field: container[field] for field in CONTAINER_FIELDS if field in container}
        for container in inference_specification.get("Containers", [])
    ]
    if not containers:
        raise PromotionError("the model package's inference specification has no containers")
    return (
        {"PrimaryContainer": containers[0]} if len(containers) == 1 else {"Containers": containers}
    )


def model_matches(description: Mapping[str, Any], definitions: Mapping[str, Any]) -> bool:
    """Whether an existing model runs the same images on the same artifacts."""

    def essence(containers: list[Mapping[str, Any]]) -> list[tuple]:
        return [
            (
                c.get("Image"),
                c.get("ModelDataUrl"),
                json.dumps(c.get("ModelDataSource"), sort_keys=True),
            )
            for c in containers
        ]

    def listed(source: Mapping[str, Any]) -> list[Mapping[str, Any]]:
        return (
            [source["PrimaryContainer"]]
            if source.get("PrimaryContainer")
            else list(source.get("Containers", []))
        )

    return essence(listed(description)) == essence(listed(definitions))


def variant_models(config: Mapping[str, Any]) -> dict[str, str]:
    """Variant name → model name, from a DescribeEndpointConfig response."""
    return {v["VariantName"]: v["ModelName"] for v in config.get("ProductionVariants", [])}


def challenger_weights(
    weights: Mapping[str, float], challenger: str, challenger_weight: float
) -> dict[str, float]:
    """The challenger at ``challenger_weight``; the champion(s) share the rest as they do now."""
    champions = {name: max(w, 0.0) for name, w in weights.items() if name != challenger}
    if not champions:
        raise PromotionError(f"no champion variant besides {challenger!r}")
    total = sum(champions.values())
    rest = 1.0 - challenger_weight
    new = {
        name: round(rest * (w / total if total > 0 else 1 / len(champions)), 6)
        for name, w in champions.items()
    }
    new[challenger] = challenger_weight
    return new


def challenger_config(
    current: Mapping[str, Any],
    live_weights: Mapping[str, float],
    settings: Settings,
    model: str,
    name: str,
    package_arn: str,
) -> dict[str, Any]:
    """CreateEndpointConfig arguments: ``current`` with the challenger serving ``model``.

    Every variant keeps its instance type, count and other settings, and the config keeps its
    data capture and KMS key. A config without the challenger variant gets one, shaped like
    the first champion.
    """
    variants = [dict(v) for v in current.get("ProductionVariants", [])]
    names = [v["VariantName"] for v in variants]
    challenger = settings.challenger_variant
    if challenger not in names:
        if not variants:
            raise PromotionError(f"endpoint config {current.get('EndpointConfigName')} is empty")
        variants.append({**variants[0], "VariantName": challenger})
    weights = challenger_weights(
        {
            v["VariantName"]: live_weights.get(v["VariantName"], v.get("InitialVariantWeight", 1.0))
            for v in variants
        },
        challenger,
        settings.challenger_weight,
    )
    for variant in variants:
        variant["InitialVariantWeight"] = weights[variant["VariantName"]]
        if variant["VariantName"] == challenger:
            variant["ModelName"] = model
    request: dict[str, Any] = {"EndpointConfigName": name, "ProductionVariants": variants}
    request.update({field: current[field] for field in CONFIG_FIELDS_KEPT if field in current})
    request["Tags"] = [
        {"Key": "workshop", "Value": settings.prefix},
        {"Key": "model-package", "Value": package_arn},
        {"Key": "replaces", "Value": str(current.get("EndpointConfigName", ""))},
    ]
    return request


def update_request(settings: Settings, config_name: str) -> dict[str, Any]:
    """UpdateEndpoint arguments: keep every variant's instance count, take weights from the
    new config (see the module docstring), and roll back on the alarms when there are any."""
    request: dict[str, Any] = {
        "EndpointName": settings.endpoint_name,
        "EndpointConfigName": config_name,
        "RetainAllVariantProperties": True,
        "ExcludeRetainedVariantProperties": WEIGHTS_FROM_NEW_CONFIG,
    }
    if settings.rollback_alarms:
        request["DeploymentConfig"] = {
            "BlueGreenUpdatePolicy": {
                "TrafficRoutingConfiguration": {
                    "Type": "ALL_AT_ONCE",
                    "WaitIntervalInSeconds": ROLLBACK_BAKE_SECONDS,
                },
            },
            "AutoRollbackConfiguration": {
                "Alarms": [{"AlarmName": alarm} for alarm in settings.rollback_alarms]
            },
        }
    return request
