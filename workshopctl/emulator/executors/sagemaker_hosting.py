"""SageMaker hosting in the emulated account: endpoints served by local model servers, batch
transform jobs, data capture.

moto keeps the records (models, endpoint configs, endpoints, transform jobs) and answers their
Describe, List and most Delete calls; the executors here do what SageMaker does behind them, as
the SageMaker API reference describes it (each executor's docstring starts with its page):

* CreateModel first checks that the model's role can read its model data, as SageMaker does;
* CreateEndpoint answers at once with the endpoint ``Creating``; one local server process per
  production variant starts (the model read from S3 *as the model's ExecutionRoleArn*, so the
  synthesized policies decide), then the endpoint is ``InService``, or ``Failed`` with the reason;
* InvokeEndpoint (sagemaker-runtime) picks a variant at random by the current weights (seeded,
  so a rehearsal is repeatable), or the ``TargetVariant``; loads a multi-model endpoint's
  ``TargetModel`` on first use; answers a container's 4xx/5xx as ``ModelError``;
* UpdateEndpointWeightsAndCapacities changes the split in place; UpdateEndpoint starts the new
  config's servers while the old ones serve, then swaps (blue/green), in the stages its
  DeploymentConfig asks for (all at once, canary, linear; each baked while its rollback alarms
  are watched, rolled back when one is in ALARM: :mod:`workshopctl.emulator.deployment_guardrails`);
  DeleteEndpoint stops them;
* CreateTransformJob runs the model's server over every input object and writes
  ``<object>.out`` under the output path;
* every request a variant's model answers adds to the endpoint's per-minute invocation metrics
  in CloudWatch (``AWS/SageMaker``: Invocations, errors, ModelLatency, OverheadLatency,
  InvocationsPerInstance; :mod:`workshopctl.emulator.service_metrics`);
* an endpoint config's DataCaptureConfig writes sampled requests and answers as JSON lines
  where SageMaker does: ``<uri>/<endpoint>/<variant>/yyyy/mm/dd/hh/<name>.jsonl``.

Which server runs a model is decided by its image as for pipeline jobs
(:func:`workshopctl.local.pipeline_jobs.image_kind`): the built-in XGBoost image → the XGBoost
stand-in, an image of one of the assembly's ECR repositories → the workshop container's
``serve`` (:mod:`workshopctl.local.model_servers`), from the image's own pushed files when it
was pushed through the emulated ECR (:mod:`workshopctl.emulator.executors.ecr_images`), else
from training_code/byom_scikit. One process stands for all of a variant's
instances: counts are recorded and described, not multiplied. Status changes that are only
bookkeeping on one machine (new weights) are done when the call returns; those with work (a
server to start) are observable, as in AWS. Every process stops with its endpoint or job, and
all of them when the account stops.
"""

from __future__ import annotations

import contextlib
import itertools
import json
import logging
import random
import shutil
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from botocore.exceptions import ClientError

from training_code.contract import unpack_model
from workshopctl.emulator import moto_state
from workshopctl.emulator.data_capture import DataCapture
from workshopctl.emulator.deployment_guardrails import (
    Guardrails,
    InvalidDeploymentConfig,
    guardrails_of,
)
from workshopctl.emulator.executors.ecr_images import pushed_program
from workshopctl.emulator.server import Reply, ServiceError
from workshopctl.emulator.service_metrics import ENDPOINT_NAMESPACE, Series
from workshopctl.local.ab_router import WeightedChoice
from workshopctl.local.model_servers import ModelServer, ServerFailed
from workshopctl.local.pipeline_jobs import JobFailed, image_kind
from workshopctl.local.pipeline_models import transform_records

ROUTING_SEED = 1729  # the local target's router seed: the same split in every rehearsal
ALARM_POLL_SECONDS = 0.2  # how often a baking period reads its rollback alarms
SERVING_STATUSES = ("InService", "Updating", "RollingBack")  # an endpoint answers in these
MAX_PAYLOAD_BYTES = 6 * 1024 * 1024  # InvokeEndpoint's Body limit
DEFAULT_TRANSFORM_PAYLOAD_MB = 6  # CreateTransformJob's MaxPayloadInMB default
CAPTURE_FLUSH_SECONDS = 1.0  # captured records wait at most this long before their object
DRAIN_SECONDS = 60.0  # an old fleet finishes its in-flight requests (the invocation limit)
INVOKED_VARIANT = "x-Amzn-Invoked-Production-Variant"
CUSTOM_ATTRIBUTES = "X-Amzn-SageMaker-Custom-Attributes"

logger = logging.getLogger(__name__)


class Unservable(Exception):
    """Why an endpoint or a job could not start (its FailureReason)."""


# -- what runs ----------------------------------------------------------------------------------
@dataclass
class LiveVariant:
    """A production variant's server and what it serves."""

    name: str
    model_name: str
    role_arn: str
    image: str
    server: ModelServer
    models_prefix: str | None = None  # a multi-model variant: where its archives are
    loaded: set[str] = field(default_factory=set)
    load_lock: threading.Lock = field(default_factory=threading.Lock)


@dataclass
class LiveEndpoint:
    """An endpoint's running fleet: its variants' servers, the weights between them."""

    name: str
    config_name: str
    variants: dict[str, LiveVariant]
    choice: WeightedChoice
    capture: DataCapture | None = None
    in_flight: int = 0
    condition: threading.Condition = field(default_factory=threading.Condition)

    def enter(self) -> None:
        with self.condition:
            self.in_flight += 1

    def leave(self) -> None:
        with self.condition:
            self.in_flight -= 1
            self.condition.notify_all()

    def drain(self, timeout: float = DRAIN_SECONDS) -> None:
        """Wait until no request is in flight (an old fleet, after a swap)."""
        with self.condition:
            self.condition.wait_for(lambda: self.in_flight == 0, timeout)

    def stop(self) -> None:
        _stop_servers(self.variants.values())


def _stop_servers(variants: Iterable[LiveVariant]) -> None:
    """Stop each variant's server and drop its model files (its log stays, as CloudWatch keeps
    an endpoint's logs after the endpoint is gone)."""
    for variant in variants:
        variant.server.stop()
        for folder in ("model", "models", "tmp"):
            shutil.rmtree(variant.server.opt_ml / folder, ignore_errors=True)


# -- the executors ------------------------------------------------------------------------------
class Hosting:
    """The hosting executors of one emulated account, and every server they run."""

    def __init__(self, account) -> None:
        self.account = account
        self.account_id = account.assembly.account
        self.region = account.assembly.region
        self.root = Path(account.workdir) / "hosting"
        self.repositories = tuple(
            f"{self.account_id}.dkr.ecr.{self.region}.amazonaws.com/{repository.name}"
            for repository in account.assembly.resources("AWS::ECR::Repository")
        )
        self._lock = threading.RLock()
        self._live: dict[str, LiveEndpoint] = {}
        # Endpoint → (the CreateEndpoint call's usage, when, [(instance type, count)]).
        self._billing: dict[str, tuple[dict, float, list[tuple[str, int]]]] = {}
        self._work: set[threading.Thread] = set()
        self._stopping = threading.Event()
        self._generation = itertools.count(1)
        self._clients: dict[tuple[str, str], Any] = {}
        self._flusher: threading.Thread | None = None
        # Endpoint → (its green fleet, the share of requests it takes) during a staged update.
        self._green: dict[str, tuple[LiveEndpoint, float]] = {}
        self._green_choice = random.Random(f"{ROUTING_SEED}:green")

    def install(self) -> None:
        for service, operation, executor in (
            ("sagemaker", "CreateModel", self.create_model),
            ("sagemaker", "DescribeModel", _without_empty("VpcConfig", "Containers")),
            (
                "sagemaker",
                "DescribeEndpointConfig",
                _without_empty(
                    "DataCaptureConfig",
                    "AsyncInferenceConfig",
                    "ExplainerConfig",
                    "ShadowProductionVariants",
                    "VpcConfig",
                ),
            ),
            ("sagemaker", "DescribeEndpoint", _without_empty("DataCaptureConfig")),
            ("sagemaker", "CreateEndpoint", self.create_endpoint),
            ("sagemaker", "UpdateEndpoint", self.update_endpoint),
            ("sagemaker", "UpdateEndpointWeightsAndCapacities", self.update_weights),
            ("sagemaker", "DeleteEndpoint", self.delete_endpoint),
            ("sagemaker-runtime", "InvokeEndpoint", self.invoke_endpoint),
            ("sagemaker", "CreateTransformJob", self.create_transform_job),
        ):
            self.account.execute(service, operation, _guarded(executor))
        self.account.on_stop(self.stop)

    # -- CreateModel ------------------------------------------------------------------------
    def create_model(self, call, forward) -> Reply:
        """CreateModel, after the check SageMaker makes: a model whose role cannot read its model
        data is refused ("Could not access model data at ..."); a multi-model prefix is read
        on invocation.
        https://docs.aws.amazon.com/sagemaker/latest/APIReference/API_CreateModel.html"""
        params = call.params
        containers = [params.get("PrimaryContainer") or {}, *(params.get("Containers") or [])]
        role = params.get("ExecutionRoleArn")
        for container in containers:
            url = container.get("ModelDataUrl")
            if url and role and container.get("Mode", "SingleModel") == "SingleModel":
                bucket, key = _split_s3(url)
                try:
                    self._s3(f"model {params.get('ModelName')}", role, keep=False).head_object(
                        Bucket=bucket, Key=key
                    )
                except (ClientError, KeyError) as error:
                    raise ServiceError(
                        "ValidationException",
                        f"Could not access model data at {url}. Please ensure that the role "
                        f'"{role}" exists and that its trust relationship policy allows the '
                        'action "sts:AssumeRole" for the service principal '
                        '"sagemaker.amazonaws.com". Also ensure that the role has "s3:GetObject" '
                        f"permissions and that the object is located in {self.region}. "
                        f"({_reason(error)})",
                    ) from None
        return forward(call)

    # -- CreateEndpoint ---------------------------------------------------------------------
    def create_endpoint(self, call, forward) -> Reply:
        """CreateEndpoint: answers with the endpoint ``Creating``; the variants' servers start in
        the background, then the endpoint is ``InService`` (or ``Failed`` with a
        FailureReason). A second endpoint of the same name is refused.
        https://docs.aws.amazon.com/sagemaker/latest/APIReference/API_CreateEndpoint.html"""
        name = call.params["EndpointName"]
        config_name = call.params["EndpointConfigName"]
        if moto_state.endpoint_status(self.account_id, self.region, name) is not None:
            raise ServiceError(
                "ValidationException",
                f'Cannot create already existing endpoint "{self._arn("endpoint", name)}".',
            )
        config = moto_state.endpoint_config(self.account_id, self.region, config_name)
        if config is None:
            raise ServiceError(
                "ValidationException",
                self._missing_config(config_name),
            )
        reply = forward(call)
        if reply.status != 200:
            return reply
        # The rehearsal's bill: the variants' instances, from now until DeleteEndpoint.
        billed = [
            (spec["InstanceType"], int(spec.get("InitialInstanceCount", 1)))
            for spec in config["ProductionVariants"]
            if "InstanceType" in spec
        ]
        with self._lock:
            self._billing[name] = (call.usage, time.time(), billed)
        variants = [
            _variant_summary(spec, _initial(spec), current=False)
            for spec in config["ProductionVariants"]
        ]
        capture = DataCapture.of(name, config, ROUTING_SEED)
        moto_state.set_endpoint(
            self.account_id, self.region, name, status="Creating", failure_reason=None,
            variants=variants, capture_summary=capture.summary() if capture else None,
        )  # fmt: skip
        self._spawn(f"create {name}", self._bring_up, name, config)
        return reply

    def _bring_up(self, name: str, config: dict[str, Any]) -> None:
        properties = _initial_properties(config)
        try:
            live = self._start_fleet(name, config, properties)
        except Unservable as failure:
            moto_state.set_endpoint(
                self.account_id, self.region, name, status="Failed", failure_reason=str(failure)
            )
            return
        with self._lock:
            gone = moto_state.endpoint_status(self.account_id, self.region, name) is None
            if not (gone or self._stopping.is_set()):
                self._live[name] = live
        if gone or self._stopping.is_set():  # deleted (or the account stopped) meanwhile
            live.stop()
            return
        moto_state.set_endpoint(
            self.account_id, self.region, name, status="InService", failure_reason=None,
            variants=self._summaries(live, config, properties),
        )  # fmt: skip

    def _start_fleet(
        self, name: str, config: Mapping[str, Any], properties: Mapping[str, tuple[float, int]]
    ) -> LiveEndpoint:
        """Every variant's server started, then all waited for; none left running on failure."""
        generation = next(self._generation)
        started: dict[str, LiveVariant] = {}
        try:
            for spec in config["ProductionVariants"]:
                started[spec["VariantName"]] = self._start_variant(name, spec, generation)
            for variant in started.values():
                try:
                    variant.server.wait_until_ready()
                except ServerFailed as failure:
                    raise Unservable(
                        f"The primary container for production variant {variant.name} did not "
                        f"pass the ping health check: {failure}"
                    ) from None
            weights = {variant: weight for variant, (weight, _) in properties.items()}
            try:
                choice = WeightedChoice(weights, f"{ROUTING_SEED}:{name}")
            except ValueError as error:
                raise Unservable(str(error)) from None
        except BaseException:
            _stop_servers(started.values())
            raise
        return LiveEndpoint(
            name,
            config["EndpointConfigName"],
            started,
            choice,
            DataCapture.of(name, config, ROUTING_SEED),
        )

    def _start_variant(
        self, endpoint: str, spec: Mapping[str, Any], generation: int
    ) -> LiveVariant:
        variant = spec["VariantName"]
        model = moto_state.model(self.account_id, self.region, spec["ModelName"])
        if model is None:
            raise Unservable(f'Could not find model "{self._arn("model", spec["ModelName"])}".')
        container = model["PrimaryContainer"] or (model["Containers"] or [{}])[0]
        kind = self._kind(container.get("Image", ""))
        role = model["ExecutionRoleArn"]
        opt_ml = self.root / "endpoints" / endpoint / f"{variant}-{generation}"
        shutil.rmtree(opt_ml, ignore_errors=True)
        opt_ml.mkdir(parents=True)
        multi_model = container.get("Mode") == "MultiModel"
        if multi_model and kind != "byom":
            raise Unservable(f"{container['Image']} does not serve multi-model endpoints here")
        if not multi_model:
            self._fetch_model(
                f"endpoint {endpoint}", role, container["ModelDataUrl"], opt_ml / "model"
            )
        # Mode MultiModel: SageMaker tells the container with SAGEMAKER_MULTI_MODEL=true
        # (https://docs.aws.amazon.com/sagemaker/latest/dg/build-multi-model-build-container.html).
        server = ModelServer.start(
            kind, opt_ml, environment=container.get("Environment") or {}, multi_model=multi_model,
            program=self._pushed_program(kind, container["Image"]),
        )  # fmt: skip
        return LiveVariant(
            variant, spec["ModelName"], role, container["Image"], server,
            models_prefix=container["ModelDataUrl"] if multi_model else None,
        )  # fmt: skip

    def _kind(self, image: str) -> str:
        repository = image.split("@")[0]
        if ":" in repository.rsplit("/", 1)[-1]:
            repository = repository.rsplit(":", 1)[0]
        try:
            kind = image_kind(image, image if repository in self.repositories else None)
        except JobFailed as error:
            raise Unservable(str(error)) from None
        if kind == "sklearn":  # script mode serving (model_fn in the model's code): unused here
            raise Unservable(
                f"{image}: the SageMaker scikit-learn image's serving stack (script mode) has no "
                "local stand-in; no workshop endpoint or transform uses it"
            )
        return kind

    def _pushed_program(self, kind: str, image: str) -> Path | None:
        """The pushed image's own programs, when it was pushed through this account's ECR
        (Module 7's attendee build): what it serves is what was pushed."""
        return pushed_program(self.account, image) if kind == "byom" else None

    def _fetch_model(self, label: str, role: str, url: str, folder: Path) -> Path:
        """What SageMaker puts in /opt/ml/model: the archive, read as the model's role, unpacked."""
        bucket, key = _split_s3(url)
        try:
            body = self._s3(label, role).get_object(Bucket=bucket, Key=key)["Body"].read()
        except (ClientError, KeyError) as error:
            raise Unservable(
                f"Failed to download model data (bucket: {bucket}, key: {key}) as {role}: "
                f"{_reason(error)}. Ensure the model's execution role may s3:GetObject it."
            ) from None
        folder.parent.mkdir(parents=True, exist_ok=True)
        archive = folder.parent / f"{folder.name}.tar.gz"
        archive.write_bytes(body)
        try:
            unpack_model(archive, folder)
        except Exception as error:
            raise Unservable(f"{url} is not a model.tar.gz archive: {error}") from None
        finally:
            archive.unlink(missing_ok=True)
        return folder

    @staticmethod
    def _summaries(
        live: LiveEndpoint, config: Mapping[str, Any], properties: Mapping[str, tuple[float, int]]
    ) -> list[dict[str, Any]]:
        """DescribeEndpoint's ProductionVariants once the fleet serves, with its images."""
        summaries = []
        for spec in config["ProductionVariants"]:
            name = spec["VariantName"]
            summary = _variant_summary(spec, properties[name], current=True)
            image = live.variants[name].image
            summary["DeployedImages"] = [{"SpecifiedImage": image, "ResolvedImage": image}]
            summaries.append(summary)
        return summaries

    def _described_variants(self, name: str) -> list[dict[str, Any]]:
        described = moto_state.endpoint(self.account_id, self.region, name)
        return list((described or {}).get("ProductionVariants") or [])

    # -- UpdateEndpointWeightsAndCapacities -------------------------------------------------
    def update_weights(self, call, forward) -> Reply:
        """UpdateEndpointWeightsAndCapacities: new weights and instance counts for named
        variants, without a redeploy. On one machine the router takes the weights at once, so
        the endpoint is back ``InService`` when the call returns.
        https://docs.aws.amazon.com/sagemaker/latest/APIReference/API_UpdateEndpointWeightsAndCapacities.html"""
        name = call.params["EndpointName"]
        live = self._in_service(name, "update")
        desired = call.params.get("DesiredWeightsAndCapacities") or []
        names = [item.get("VariantName") for item in desired]
        if len(set(names)) != len(names):
            raise ServiceError("ValidationException", f"The variant names {names} are not unique.")
        unknown = [n for n in names if n not in live.variants]
        if unknown:
            raise ServiceError(
                "ValidationException",
                f'The variant name(s) "{", ".join(unknown)}" is/are not present within endpoint '
                f'configuration "{live.config_name}".',
            )
        weights = live.choice.weights
        counts = {
            v["VariantName"]: v.get("CurrentInstanceCount") for v in self._described_variants(name)
        }
        for item in desired:
            if "DesiredWeight" in item:
                weights[item["VariantName"]] = float(item["DesiredWeight"])
            if "DesiredInstanceCount" in item:
                counts[item["VariantName"]] = int(item["DesiredInstanceCount"])
        if any(w < 0 for w in weights.values()) or sum(weights.values()) <= 0:
            raise ServiceError(
                "ValidationException", f"Weights must be >= 0 and not all 0: {weights}"
            )
        moto_state.set_endpoint(self.account_id, self.region, name, status="Updating")
        live.choice.set_weights(weights)
        variants = self._described_variants(name)
        for variant in variants:
            variant_name = variant["VariantName"]
            variant["CurrentWeight"] = variant["DesiredWeight"] = weights[variant_name]
            if counts.get(variant_name) is not None and "CurrentServerlessConfig" not in variant:
                variant["CurrentInstanceCount"] = variant["DesiredInstanceCount"] = counts[
                    variant_name
                ]
        moto_state.set_endpoint(
            self.account_id, self.region, name, status="InService", variants=variants
        )
        return Reply.of_json({"EndpointArn": self._arn("endpoint", name)})

    # -- UpdateEndpoint ---------------------------------------------------------------------
    def update_endpoint(self, call, forward) -> Reply:
        """UpdateEndpoint: the endpoint moves to a new config while it keeps serving
        (blue/green): ``Updating`` while the new servers start, then traffic swaps to them and
        the old ones stop once their requests are answered. With RetainAllVariantProperties,
        variants keep their current weights and instance counts (but for the properties
        ExcludeRetainedVariantProperties names). A failed update leaves the old fleet serving,
        ``InService`` with the FailureReason.
        https://docs.aws.amazon.com/sagemaker/latest/APIReference/API_UpdateEndpoint.html"""
        name = call.params["EndpointName"]
        self._in_service(name, "update")
        deployment = call.params.get("DeploymentConfig")
        config = moto_state.endpoint_config(
            self.account_id, self.region, call.params["EndpointConfigName"]
        )
        if config is None:
            raise ServiceError(
                "ValidationException",
                self._missing_config(call.params["EndpointConfigName"]),
            )
        properties = _initial_properties(config)
        if call.params.get("RetainAllVariantProperties"):
            excluded = {
                p["VariantPropertyType"]
                for p in call.params.get("ExcludeRetainedVariantProperties") or []
            }
            for current in self._described_variants(name):
                variant = current["VariantName"]
                if variant in properties:
                    weight, count = properties[variant]
                    if "DesiredWeight" not in excluded:
                        weight = current.get("CurrentWeight", weight)
                    if "DesiredInstanceCount" not in excluded:
                        count = current.get("CurrentInstanceCount", count)
                    properties[variant] = (weight, count)
        try:
            guardrails = guardrails_of(deployment, sum(count for _, count in properties.values()))
        except InvalidDeploymentConfig as invalid:
            raise ServiceError("ValidationException", f"DeploymentConfig: {invalid}") from None
        moto_state.set_endpoint(
            self.account_id, self.region, name, status="Updating", failure_reason=None
        )
        self._spawn(f"update {name}", self._swap, name, config, properties, guardrails)
        return Reply.of_json({"EndpointArn": self._arn("endpoint", name)})

    def _swap(
        self,
        name: str,
        config: dict[str, Any],
        properties: dict[str, tuple[float, int]],
        guardrails: Guardrails | None = None,
    ) -> None:
        try:
            new = self._start_fleet(name, config, properties)
        except Unservable as failure:
            moto_state.set_endpoint(
                self.account_id, self.region, name, status="InService",
                failure_reason=f"Update to {config['EndpointConfigName']} failed: {failure}",
            )  # fmt: skip
            return
        if guardrails is not None:
            tripped = self._shift_in_stages(name, new, guardrails)
            if tripped is not None:
                self._roll_back(name, new, config, tripped)
                return
        with self._lock:
            self._green.pop(name, None)
            old = self._live.get(name)
            if old is None or self._stopping.is_set():  # deleted meanwhile
                new.stop()
                return
            self._live[name] = new
        moto_state.set_endpoint(
            self.account_id, self.region, name, status="InService", failure_reason=None,
            variants=self._summaries(new, config, properties),
            config_name=config["EndpointConfigName"],
            capture_summary=new.capture.summary() if new.capture else None,
        )  # fmt: skip
        self._retire(old)

    def _shift_in_stages(self, name: str, new: LiveEndpoint, guardrails: Guardrails) -> str | None:
        """Each stage's share of the requests to the green fleet, then its baking period;
        the first rollback alarm found in ALARM (None: the green fleet may take everything)."""
        for stage in guardrails.stages:
            with self._lock:
                if self._stopping.is_set() or name not in self._live:
                    return None  # deleted or stopping: the swap's own checks end it
                self._green[name] = (new, stage.share)
            deadline = time.monotonic() + stage.bake_seconds
            while True:
                tripped = self._alarm_in_alarm(name, guardrails.alarms)
                if tripped is not None:
                    return tripped
                if time.monotonic() >= deadline or self._stopping.wait(ALARM_POLL_SECONDS):
                    break
        return None

    def _alarm_in_alarm(self, name: str, alarms: tuple[str, ...]) -> str | None:
        """The first of ``alarms`` whose state is ALARM (CloudWatch DescribeAlarms)."""
        if not alarms:
            return None
        cloudwatch = self.account.client("cloudwatch", label=f"endpoint {name} guardrails")
        described = cloudwatch.describe_alarms(AlarmNames=list(alarms))["MetricAlarms"]
        return next((a["AlarmName"] for a in described if a["StateValue"] == "ALARM"), None)

    def _roll_back(self, name: str, new: LiveEndpoint, config: dict[str, Any], alarm: str) -> None:
        """All traffic back to the blue fleet; the green one drains and stops; the endpoint
        stays on its old configuration, InService, saying why."""
        moto_state.set_endpoint(self.account_id, self.region, name, status="RollingBack")
        with self._lock:
            self._green.pop(name, None)
        new.drain()
        self._flush(new, force=True)
        new.stop()
        moto_state.set_endpoint(
            self.account_id, self.region, name, status="InService",
            failure_reason=f"Update to {config['EndpointConfigName']} rolled back: alarm "
            f"{alarm} is in ALARM",
        )  # fmt: skip

    def _retire(self, old: LiveEndpoint) -> None:
        old.drain()
        self._flush(old, force=True)
        old.stop()

    # -- DeleteEndpoint ---------------------------------------------------------------------
    def delete_endpoint(self, call, forward) -> Reply:
        """DeleteEndpoint: the endpoint's servers stop (after their in-flight requests) and its
        record goes; its config and models stay.
        https://docs.aws.amazon.com/sagemaker/latest/APIReference/API_DeleteEndpoint.html"""
        reply = forward(call)
        if reply.status == 200:
            with self._lock:
                live = self._live.pop(call.params["EndpointName"], None)
                billing = self._billing.pop(call.params["EndpointName"], None)
            if billing is not None:
                usage, since, instances = billing
                usage.setdefault("instance_seconds", []).extend(
                    {"type": kind, "seconds": (time.time() - since) * count}
                    for kind, count in instances
                )
            if live is not None:
                self._retire(live)
            self._forget_clients(f"endpoint {call.params['EndpointName']}")
        return reply

    # -- InvokeEndpoint ---------------------------------------------------------------------
    def invoke_endpoint(self, call, forward) -> Reply:
        """InvokeEndpoint: the body (at most 6 MB) to one variant's container with its
        Content-Type, Accept and CustomAttributes; the answer with the variant that gave it
        (``x-Amzn-Invoked-Production-Variant``). A container's 4xx or 5xx is ``ModelError``
        (HTTP 424) with the container's status and message.
        https://docs.aws.amazon.com/sagemaker/latest/APIReference/API_runtime_InvokeEndpoint.html"""
        name, headers = call.params["EndpointName"], call.headers
        received = time.perf_counter()
        if len(call.body) > MAX_PAYLOAD_BYTES:
            raise ServiceError(
                "ValidationError",
                f"Request body of {len(call.body)} bytes is above {MAX_PAYLOAD_BYTES}",
            )
        target_model = headers.get("x-amzn-sagemaker-target-model")
        forwarded = {"Content-Type": headers.get("content-type", "application/octet-stream")}
        for header in ("Accept", CUSTOM_ATTRIBUTES, "X-Amzn-SageMaker-Target-Model"):
            if headers.get(header.lower()):
                forwarded[header] = headers[header.lower()]
        with self._serving(name) as live:
            variant = self._variant(live, headers.get("x-amzn-sagemaker-target-variant"))
            if (variant.models_prefix is not None) != bool(target_model):
                raise ServiceError(
                    "ValidationError",
                    f"{name} is a multi-model endpoint: send a TargetModel"
                    if variant.models_prefix is not None
                    else f"{name} is not a multi-model endpoint: send no TargetModel",
                )
            if target_model:
                self._ensure_loaded(name, variant, target_model)
            try:
                sent = time.perf_counter()
                status, body, content_type = variant.server.invoke(
                    call.body, forwarded, target_model
                )
                model_seconds = time.perf_counter() - sent
            except OSError as error:
                raise ServiceError(
                    "InternalDependencyException",
                    f"variant {variant.name} of {name} did not answer: {error}",
                    530,
                ) from None
        self._invocation_metrics(
            name, variant.name, status, model_seconds, time.perf_counter() - received
        )
        if not 200 <= status < 300:
            return self._model_error(name, status, body)
        if live.capture is not None:
            live.capture.record(
                variant.name,
                (call.body, forwarded["Content-Type"]),
                (body, content_type),
                headers.get("x-amzn-sagemaker-inference-id"),
            )
            self._start_flusher()
        return Reply(200, [("Content-Type", content_type), (INVOKED_VARIANT, variant.name)], body)

    def _invocation_metrics(
        self, endpoint: str, variant: str, status: int, model_seconds: float, seconds: float
    ) -> None:
        """The AWS/SageMaker invocation metrics of one request the model answered, per minute
        with the dimensions EndpointName and VariantName ("SageMaker AI endpoint invocation
        metrics", https://docs.aws.amazon.com/sagemaker/latest/dg/monitoring-cloudwatch.html):
        Invocations (1 per request), Invocation4XXErrors/5XXErrors (1 when the model answered
        a 4xx/5xx, else 0), ModelLatency (the container's time, microseconds), OverheadLatency
        (the rest of the time SageMaker held the request, microseconds), InvocationsPerInstance
        (1 / the variant's current instance count: what target tracking scales on)."""
        dimensions = (("EndpointName", endpoint), ("VariantName", variant))
        now, metrics = time.time(), self.account.metrics

        def add(metric: str, value: float, unit: str = "None") -> None:
            metrics.add(Series(ENDPOINT_NAMESPACE, metric, dimensions, unit), value, now)

        add("Invocations", 1)
        add("Invocation4XXErrors", 1 if 400 <= status < 500 else 0)
        add("Invocation5XXErrors", 1 if status >= 500 else 0)
        add("ModelLatency", model_seconds * 1e6, "Microseconds")
        add("OverheadLatency", max(0.0, seconds - model_seconds) * 1e6, "Microseconds")
        add("InvocationsPerInstance", 1 / self._instance_count(endpoint, variant))

    def _instance_count(self, endpoint: str, variant: str) -> int:
        described = moto_state.endpoint(self.account_id, self.region, endpoint) or {}
        for summary in described.get("ProductionVariants", []):
            if summary.get("VariantName") == variant:
                return max(1, int(summary.get("CurrentInstanceCount") or 1))
        return 1

    @contextlib.contextmanager
    def _serving(self, name: str) -> Iterator[LiveEndpoint]:
        """The fleet serving ``name``, counted in flight until the request is answered (taken
        under the lock a swap replaces fleets under, so an old fleet drains every request it
        was given before it stops)."""
        status = moto_state.endpoint_status(self.account_id, self.region, name)
        if status is None:
            raise ServiceError(
                "ValidationError", f"Endpoint {name} of account {self.account_id} not found."
            )
        with self._lock:
            live = self._live.get(name)
            green = self._green.get(name)
            # A staged update's green fleet takes its stage's share of the requests.
            if green is not None and self._green_choice.random() < green[1]:
                live = green[0]
            if live is None or status not in SERVING_STATUSES:
                raise ServiceError(
                    "ValidationError",
                    f"Endpoint {name} of account {self.account_id} is {status}, not InService",
                )
            live.enter()
        try:
            yield live
        finally:
            live.leave()

    @staticmethod
    def _variant(live: LiveEndpoint, target: str | None) -> LiveVariant:
        """The TargetVariant, else a draw by the current weights."""
        if target is not None and target not in live.variants:
            raise ServiceError(
                "ValidationError",
                f'Variant "{target}" is not present within endpoint "{live.name}"; it has '
                f"{', '.join(live.variants)}",
            )
        return live.variants[target or live.choice.choose()]

    def _ensure_loaded(self, endpoint: str, variant: LiveVariant, target: str) -> None:
        """A multi-model endpoint loads ``<ModelDataUrl><TargetModel>`` on its first invocation
        (read as the model's role) through the container's load API."""
        with variant.load_lock:
            if target in variant.loaded:
                return
            url = f"{variant.models_prefix}{target}"
            folder = (
                variant.server.opt_ml / "models" / f"{len(variant.loaded)}-{uuid.uuid4().hex[:8]}"
            )
            try:
                self._fetch_model(f"endpoint {endpoint}", variant.role_arn, url, folder)
            except Unservable as failure:
                raise ServiceError("ValidationError", str(failure)) from None
            status, message = variant.server.load_model(target, folder)
            if status not in (200, 409):  # 409: loaded already (by an earlier request)
                raise ServiceError(
                    "ModelError" if status != 507 else "ServiceUnavailable",
                    f"loading {target} answered {status}: {message}",
                    424 if status != 507 else 503,
                )
            variant.loaded.add(target)

    def _model_error(self, endpoint: str, status: int, body: bytes) -> Reply:
        kind = "client" if status < 500 else "server"
        original = body.decode(errors="replace").strip()
        group = f"/aws/sagemaker/Endpoints/{endpoint}"
        document = {
            "message": f'Received {kind} error ({status}) from primary with message "{original}". '
            f"See the log group {group} in account {self.account_id} for more information.",
            "OriginalStatusCode": status,
            "OriginalMessage": original,
            "LogStreamArn": f"arn:aws:logs:{self.region}:{self.account_id}:log-group:{group}",
        }
        headers = [("Content-Type", "application/json"), ("x-amzn-ErrorType", "ModelError")]
        return Reply(424, headers, json.dumps(document).encode())

    def _in_service(self, name: str, verb: str) -> LiveEndpoint:
        status = moto_state.endpoint_status(self.account_id, self.region, name)
        if status is None:
            raise ServiceError(
                "ValidationException", f'Could not find endpoint "{self._arn("endpoint", name)}".'
            )
        with self._lock:
            live = self._live.get(name)
        if status != "InService" or live is None:
            raise ServiceError(
                "ValidationException",
                f'Cannot {verb} in-progress endpoint "{self._arn("endpoint", name)}".',
            )
        return live

    # -- CreateTransformJob -----------------------------------------------------------------
    def create_transform_job(self, call, forward) -> Reply:
        """CreateTransformJob: ``InProgress`` at once; the model's server runs over every
        object under the input prefix (read as the model's role), ``SplitType`` Line,
        ``BatchStrategy`` MultiRecord (lines up to ``MaxPayloadInMB`` per request) or
        SingleRecord, ``AssembleWith`` Line or None, DataProcessing filters; each object's
        answers go to ``<output path>/<object name>.out``; then ``Completed`` or ``Failed``.

        https://docs.aws.amazon.com/sagemaker/latest/APIReference/API_CreateTransformJob.html"""
        params = call.params
        name = params["TransformJobName"]
        if moto_state.transform_job_exists(self.account_id, self.region, name):
            raise ServiceError(
                "ValidationException",
                "Job name must be unique within an AWS account and region, and a job with this "
                "name already exists",
            )
        model = moto_state.model(self.account_id, self.region, params["ModelName"])
        if model is None:
            raise ServiceError(
                "ValidationException",
                f'Could not find model "{self._arn("model", params["ModelName"])}".',
            )
        reply = forward(call)
        if reply.status != 200:
            return reply
        moto_state.set_transform_job(
            self.account_id, self.region, name, status="InProgress", started=True
        )
        self._spawn(f"transform {name}", self._transform, name, dict(params), model)
        return reply

    def _transform(self, name: str, params: dict[str, Any], model: dict[str, Any]) -> None:
        try:
            records = self._run_transform(name, params, model)
        except (Unservable, JobFailed, ServerFailed, ClientError, OSError) as failure:
            moto_state.set_transform_job(
                self.account_id, self.region, name, status="Failed",
                failure_reason=_reason(failure)[:1024], ended=True,
            )  # fmt: skip
            return
        finally:
            self._forget_clients(f"transform job {name}")
        status = "Stopped" if self._stopping.is_set() else "Completed"
        moto_state.set_transform_job(self.account_id, self.region, name, status=status, ended=True)
        logger.info("transform job %s: %s records", name, records)

    def _run_transform(self, name: str, params: dict[str, Any], model: dict[str, Any]) -> int:
        """The job's work, as its model's role; the number of records answered."""
        container = model["PrimaryContainer"] or (model["Containers"] or [{}])[0]
        if container.get("Mode") == "MultiModel":
            raise Unservable("a multi-model model cannot run a batch transform job")
        kind = self._kind(container.get("Image", ""))
        s3 = self._s3(f"transform job {name}", model["ExecutionRoleArn"])
        bucket, keys, base = self._transform_inputs(s3, params["TransformInput"])
        out_bucket, out_prefix = _split_s3(params["TransformOutput"]["S3OutputPath"])
        out_prefix = out_prefix.rstrip("/") + "/" if out_prefix else ""
        opt_ml = self.root / "transform-jobs" / name
        shutil.rmtree(opt_ml, ignore_errors=True)
        opt_ml.mkdir(parents=True)
        records = 0
        try:
            self._fetch_model(
                f"transform job {name}", model["ExecutionRoleArn"], container["ModelDataUrl"],
                opt_ml / "model",
            )  # fmt: skip
            environment = {
                **(container.get("Environment") or {}),
                **(params.get("Environment") or {}),
            }
            program = self._pushed_program(kind, container["Image"])
            server = ModelServer.start(kind, opt_ml, environment=environment, program=program)
            try:
                server.wait_until_ready()
                for key in keys:
                    if self._stopping.is_set():
                        break
                    body = s3.get_object(Bucket=bucket, Key=key)["Body"].read()
                    answer, count = self._transform_object(server, body, params)
                    # <output path>/<the key below the input's folder>.out
                    output = f"{out_prefix}{key[len(base) :]}.out"
                    s3.put_object(Bucket=out_bucket, Key=output, Body=answer)
                    records += count
            finally:
                server.stop()
        finally:
            shutil.rmtree(opt_ml, ignore_errors=True)
        return records

    @staticmethod
    def _transform_inputs(s3, source: Mapping[str, Any]) -> tuple[str, list[str], str]:
        """The input objects (bucket, keys) of an S3Prefix data source, and the folder part of
        its prefix that output names leave out."""
        data = source["DataSource"]["S3DataSource"]
        if data.get("S3DataType", "S3Prefix") != "S3Prefix":
            raise Unservable(f"S3DataType {data['S3DataType']}: only S3Prefix runs here")
        if source.get("CompressionType", "None") != "None":
            raise Unservable("compressed input does not run here")
        bucket, prefix = _split_s3(data["S3Uri"])
        keys = [
            item["Key"]
            for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix)
            for item in page.get("Contents", [])
            if not item["Key"].endswith("/")
        ]
        if not keys:
            raise Unservable(
                f'No S3 objects found under S3 URL "{data["S3Uri"]}" given in input data source.'
            )
        return bucket, keys, prefix[: prefix.rfind("/") + 1]

    def _transform_object(
        self, server: ModelServer, body: bytes, params: Mapping[str, Any]
    ) -> tuple[bytes, int]:
        source, output = params["TransformInput"], params["TransformOutput"]
        headers = {"Content-Type": source.get("ContentType") or "application/octet-stream"}
        if output.get("Accept"):
            headers["Accept"] = output["Accept"]
        answers: list[bytes] = []

        def predict(records: list[str]) -> list[str]:
            status, answer, _ = server.invoke(("\n".join(records) + "\n").encode(), headers)
            if not 200 <= status < 300:
                raise JobFailed(
                    f"the model server answered {status}: {answer.decode(errors='replace')[:300]}"
                )
            answers.append(answer)
            return answer.decode().splitlines()

        if source.get("SplitType", "None") != "Line":  # the whole object is one record
            status, answer, _ = server.invoke(body, headers)
            if not 200 <= status < 300:
                raise JobFailed(f"the model server answered {status}: {answer[:300]!r}")
            return answer, 1
        single = params.get("BatchStrategy") == "SingleRecord"
        per_request = (
            (lambda batch: [line for r in batch for line in predict([r])]) if single else predict
        )
        max_payload = (
            int(params.get("MaxPayloadInMB") or DEFAULT_TRANSFORM_PAYLOAD_MB) * 1024 * 1024
        )
        lines = transform_records(
            body.decode().splitlines(), per_request, params.get("DataProcessing") or {}, max_payload
        )
        if output.get("AssembleWith", "None") == "Line":
            return ("\n".join(lines) + "\n").encode(), len(lines)
        if params.get("DataProcessing"):  # filtered or joined records: one per line
            return "\n".join(lines).encode(), len(lines)
        return b"".join(answers), len(lines)  # AssembleWith None: the answers as they came

    # -- data capture -----------------------------------------------------------------------
    def _start_flusher(self) -> None:
        with self._lock:
            if self._flusher is None and not self._stopping.is_set():
                self._flusher = threading.Thread(
                    target=self._flush_loop, name="data-capture", daemon=True
                )
                self._flusher.start()

    def _flush_loop(self) -> None:
        while not self._stopping.wait(CAPTURE_FLUSH_SECONDS):
            with self._lock:
                endpoints = list(self._live.values())
            for endpoint in endpoints:
                self._flush(endpoint, force=False)

    def _flush(self, endpoint: LiveEndpoint, force: bool) -> None:
        """Write the captured records due, each variant's as its model's role."""
        if endpoint.capture is None:
            return
        bucket, prefix = _split_s3(endpoint.capture.destination + "/")
        for variant, key, body in endpoint.capture.take(None if force else CAPTURE_FLUSH_SECONDS):
            role = endpoint.variants[variant].role_arn
            try:
                self._s3(f"endpoint {endpoint.name}", role).put_object(
                    Bucket=bucket, Key=prefix + key, Body=body
                )
            except ClientError as error:  # SageMaker drops what it cannot write, and logs it
                logger.warning("data capture of %s not written: %s", endpoint.name, _reason(error))

    # -- plumbing ---------------------------------------------------------------------------
    def _spawn(self, what: str, work: Callable[..., None], *args: Any) -> None:
        def run() -> None:
            try:
                work(*args)
            except Exception:
                logger.exception("hosting: %s failed", what)
            finally:
                with self._lock:
                    self._work.discard(thread)

        thread = threading.Thread(target=run, name=f"hosting {what}", daemon=True)
        with self._lock:
            self._work.add(thread)
        thread.start()

    def _s3(self, label: str, role_arn: str, keep: bool = True):
        """An S3 client acting as ``role_arn``: what SageMaker reads and writes for a model
        (kept for the endpoint or job named in ``label`` until it goes)."""
        if not keep:
            return self.account.client("s3", label=label, role_arn=role_arn)
        with self._lock:
            if (label, role_arn) not in self._clients:
                self._clients[(label, role_arn)] = self.account.client(
                    "s3", label=label, role_arn=role_arn
                )
            return self._clients[(label, role_arn)]

    def _forget_clients(self, label: str) -> None:
        with self._lock:
            for key in [key for key in self._clients if key[0] == label]:
                del self._clients[key]

    def _missing_config(self, name: str) -> str:
        return f'Could not find endpoint configuration "{self._arn("endpoint-config", name)}".'

    def _arn(self, kind: str, name: str) -> str:
        return f"arn:aws:sagemaker:{self.region}:{self.account_id}:{kind}/{name.lower()}"

    def stop(self) -> None:
        """Stop every server: in-flight starts and jobs finish first (a job stops between
        requests), captured records are written, then every endpoint's processes stop."""
        self._stopping.set()
        with self._lock:
            work = list(self._work)
        for thread in work:
            thread.join(timeout=120)
        if self._flusher is not None:
            self._flusher.join(timeout=5)
            self._flusher = None
        with self._lock:
            live = list(self._live.values())
            self._live.clear()
        for endpoint in live:
            self._flush(endpoint, force=True)
            endpoint.stop()
        self._stopping.clear()


# -- shapes -------------------------------------------------------------------------------------
def _initial(spec: Mapping[str, Any]) -> tuple[float, int]:
    """A production variant's initial weight (default 1.0) and instance count."""
    return float(spec.get("InitialVariantWeight", 1.0)), int(spec.get("InitialInstanceCount") or 1)


def _initial_properties(config: Mapping[str, Any]) -> dict[str, tuple[float, int]]:
    return {spec["VariantName"]: _initial(spec) for spec in config["ProductionVariants"]}


def _variant_summary(
    spec: Mapping[str, Any], properties: tuple[float, int], *, current: bool
) -> dict[str, Any]:
    """DescribeEndpoint's ProductionVariantSummary (Current* once the variant serves)."""
    weight, count = properties
    summary: dict[str, Any] = {"VariantName": spec["VariantName"], "DesiredWeight": weight}
    if current:
        summary["CurrentWeight"] = weight
    if "ServerlessConfig" in spec:
        summary["DesiredServerlessConfig"] = spec["ServerlessConfig"]
        if current:
            summary["CurrentServerlessConfig"] = spec["ServerlessConfig"]
    else:
        summary["DesiredInstanceCount"] = count
        if current:
            summary["CurrentInstanceCount"] = count
    return summary


def _split_s3(uri: str) -> tuple[str, str]:
    if not uri.startswith("s3://"):
        raise Unservable(f"not an s3:// URI: {uri}")
    bucket, _, key = uri[len("s3://") :].partition("/")
    return bucket, key


def _reason(error: BaseException) -> str:
    if isinstance(error, ClientError):
        detail = error.response.get("Error", {})
        return f"{detail.get('Code', 'Error')}: {detail.get('Message', '')}".strip()
    return str(error) or type(error).__name__


def _guarded(executor: Callable[[Any, Any], Reply]) -> Callable[[Any, Any], Reply]:
    """An executor whose own failure is answered as the service's InternalFailure (logged
    with its traceback), never as the web server's HTML page."""

    def run(call, forward) -> Reply:
        try:
            return executor(call, forward)
        except ServiceError:
            raise
        except Exception as error:
            logger.exception("%s %s failed in the emulator", call.service, call.operation)
            raise ServiceError("InternalFailure", f"emulator: {_reason(error)}", 500) from None

    return run


def _no_monitoring_schedules(call, forward) -> Reply:
    """ListMonitoringSchedules (moto has none). The emulator cannot create a monitoring
    schedule (CreateMonitoringSchedule is not emulated), so the true answer is an empty list."""
    return Reply.of_json({"MonitoringScheduleSummaries": []})


def _without_empty(*optional: str):
    """A Describe* answer as SageMaker gives it: an optional member that was never set is absent
    (DescribeModel's ``VpcConfig`` and ``Containers``, DescribeEndpointConfig's
    ``DataCaptureConfig`` ...), where moto answers an empty object or list, which the SDK v3's
    typed resources refuse (a ``DataCaptureConfig`` needs its destination and options).
    https://docs.aws.amazon.com/sagemaker/latest/APIReference/API_DescribeModel.html,
    API_DescribeEndpointConfig.html, API_DescribeEndpoint.html"""

    def describe(call, forward) -> Reply:
        reply = forward(call)
        if reply.status != 200:
            return reply
        described = reply.json()
        for member in optional:
            if member in described and not described[member]:
                del described[member]
        return Reply.of_json(described)

    return describe


def install(account) -> None:
    Hosting(account).install()
    account.execute("sagemaker", "ListMonitoringSchedules", _no_monitoring_schedules)
