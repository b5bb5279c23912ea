"""The workshop's A/B endpoint on moto, for the promotion and traffic-shift tests.

moto 5.2.5 covers model packages, models, endpoint configs, endpoints and
UpdateEndpointWeightsAndCapacities. It has no UpdateEndpoint at all, so ``UpdateEndpointGap``
routes that one call to a botocore Stubber, which validates the request against SageMaker's
service model and answers only when the test has allowed an update (an unexpected update
fails the test), and then applies the update to moto's endpoint with the retention semantics
SageMaker documents (``RetainAllVariantProperties`` keeps each variant's instance count and
weight unless ``ExcludeRetainedVariantProperties`` names them). Every other call is plain moto.
"""

from __future__ import annotations

import copy
from typing import Any

import boto3
from botocore.stub import Stubber
from moto.core import DEFAULT_ACCOUNT_ID
from moto.sagemaker.models import sagemaker_backends

REGION = "eu-west-1"
PREFIX = "mlws"
GROUP = "mlws-bank-marketing"
OTHER_GROUP = "another-team-models"
ENDPOINT = "mlws-bank-ab"
INITIAL_CONFIG = "mlws-bank-ab-initial"
CHAMPION_MODEL = "mlws-bank-workshop"
FIRST_CHALLENGER_MODEL = "mlws-bank-tuned"
ROLE = f"arn:aws:iam::{DEFAULT_ACCOUNT_ID}:role/mlws-sagemaker-execution"
XGBOOST_IMAGE = "141502667606.dkr.ecr.eu-west-1.amazonaws.com/sagemaker-xgboost:1.7-1"
KMS_KEY = f"arn:aws:kms:{REGION}:{DEFAULT_ACCOUNT_ID}:key/11111111-2222-3333-4444-555555555555"
DATA_CAPTURE = {
    "EnableCapture": True,
    "InitialSamplingPercentage": 20,
    "DestinationS3Uri": "s3://mlws-curated-bucket/data-capture/bank-ab",
    "KmsKeyId": KMS_KEY,
    "CaptureOptions": [{"CaptureMode": "Input"}, {"CaptureMode": "Output"}],
}
INSTANCE_TYPE = "ml.m5.large"


def moto_backend() -> Any:
    return sagemaker_backends[DEFAULT_ACCOUNT_ID][REGION]


def build_ab_endpoint(sagemaker: Any) -> None:
    """The endpoint as the ServingStack deploys it: champion 0.9, challenger 0.1."""
    for model, artifact in ((CHAMPION_MODEL, "workshop"), (FIRST_CHALLENGER_MODEL, "tuned")):
        sagemaker.create_model(
            ModelName=model,
            ExecutionRoleArn=ROLE,
            PrimaryContainer={
                "Image": XGBOOST_IMAGE,
                "ModelDataUrl": f"s3://mlws-curated-bucket/models/{artifact}/model.tar.gz",
            },
        )
    sagemaker.create_endpoint_config(
        EndpointConfigName=INITIAL_CONFIG,
        ProductionVariants=[
            {
                "VariantName": "variant-a",
                "ModelName": CHAMPION_MODEL,
                "InstanceType": INSTANCE_TYPE,
                "InitialInstanceCount": 1,
                "InitialVariantWeight": 0.9,
            },
            {
                "VariantName": "variant-b",
                "ModelName": FIRST_CHALLENGER_MODEL,
                "InstanceType": INSTANCE_TYPE,
                "InitialInstanceCount": 1,
                "InitialVariantWeight": 0.1,
            },
        ],
        DataCaptureConfig=DATA_CAPTURE,
        KmsKeyId=KMS_KEY,
        Tags=[{"Key": "workshop", "Value": PREFIX}],
    )
    sagemaker.create_endpoint(EndpointName=ENDPOINT, EndpointConfigName=INITIAL_CONFIG)


def autoscale(sagemaker: Any, counts: dict[str, int]) -> None:
    """What Application Auto Scaling does under load: raise instance counts, weights unchanged."""
    live = sagemaker.describe_endpoint(EndpointName=ENDPOINT)["ProductionVariants"]
    sagemaker.update_endpoint_weights_and_capacities(
        EndpointName=ENDPOINT,
        DesiredWeightsAndCapacities=[
            {
                "VariantName": v["VariantName"],
                "DesiredWeight": v["DesiredWeight"],
                "DesiredInstanceCount": counts.get(v["VariantName"], v["DesiredInstanceCount"]),
            }
            for v in live
        ],
    )


def set_status(endpoint: str, status: str) -> None:
    moto_backend().endpoints[endpoint].endpoint_status = status


def live_variants(sagemaker: Any) -> dict[str, dict[str, Any]]:
    described = sagemaker.describe_endpoint(EndpointName=ENDPOINT)["ProductionVariants"]
    return {v["VariantName"]: v for v in described}


class CallLog:
    """Every API call a client makes, with its parameters, in order."""

    def __init__(self, client: Any):
        self.calls: list[tuple[str, dict[str, Any]]] = []
        client.meta.events.register("provide-client-params.sagemaker.*", self._record)

    def _record(self, params: dict[str, Any], model: Any, **_: Any) -> None:
        self.calls.append((model.name, copy.deepcopy(params)))

    def names(self) -> list[str]:
        return [name for name, _ in self.calls]

    def of(self, operation: str) -> list[dict[str, Any]]:
        return [params for name, params in self.calls if name == operation]


def apply_update_endpoint(
    backend: Any,
    EndpointName: str,
    EndpointConfigName: str,
    RetainAllVariantProperties: bool = False,
    ExcludeRetainedVariantProperties: list | None = None,
    **_: Any,
) -> None:
    """UpdateEndpoint on moto's state, with SageMaker's documented retention semantics."""
    endpoint = backend.endpoints[EndpointName]
    config = backend.endpoint_configs[EndpointConfigName]
    before = {v["VariantName"]: v for v in endpoint.production_variants}
    overridden = {p["VariantPropertyType"] for p in ExcludeRetainedVariantProperties or []}
    variants = endpoint._process_production_variants(config.production_variants)
    for variant in variants:
        old = before.get(variant["VariantName"])
        if not (RetainAllVariantProperties and old):
            continue
        for prop, current in (
            ("DesiredInstanceCount", "CurrentInstanceCount"),
            ("DesiredWeight", "CurrentWeight"),
        ):
            if prop not in overridden:
                variant[prop] = variant[current] = old[prop]
    endpoint.production_variants = variants
    endpoint.endpoint_config_name = EndpointConfigName
    endpoint.data_capture_config = config.data_capture_config


class UpdateEndpointGap:
    """A SageMaker client: moto for everything, a Stubber + moto's state for UpdateEndpoint."""

    def __init__(self, moto_client: Any):
        self._moto = moto_client
        self._stubbed = boto3.client("sagemaker", region_name=REGION)
        self._stubber = Stubber(self._stubbed)
        self._stubber.activate()
        self.updates: list[dict[str, Any]] = []

    def allow_update(self) -> None:
        """Let the next UpdateEndpoint succeed (without this, it fails the test)."""
        arn = f"arn:aws:sagemaker:{REGION}:{DEFAULT_ACCOUNT_ID}:endpoint/{ENDPOINT}"
        self._stubber.add_response("update_endpoint", {"EndpointArn": arn})

    def fail_next_update(self, message: str) -> None:
        self._stubber.add_client_error("update_endpoint", "ThrottlingException", message)

    def update_endpoint(self, **kwargs: Any) -> dict[str, Any]:
        response = self._stubbed.update_endpoint(**kwargs)  # validated, answered or refused
        self.updates.append(copy.deepcopy(kwargs))
        apply_update_endpoint(moto_backend(), **kwargs)
        return response

    def __getattr__(self, name: str) -> Any:
        return getattr(self._moto, name)
