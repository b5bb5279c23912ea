"""A workshop account on moto as attendees leave it, for the janitor tests.

moto 5.2.5 covers most of what the janitor calls. What it lacks is filled in here, per kind,
through the janitor's own client interface (``Clients(overrides={kind: client})``):

- ``SageMakerGaps`` wraps moto's SageMaker client and adds, on moto's own state:
  StopTrainingJob, StopTransformJob, StopHyperParameterTuningJob, StopPipelineExecution,
  DeleteModelPackage, DeleteModelPackageGroup, ListTags on model-package ARNs (moto cannot parse
  them); and, with its own small state because moto has no model of them at all: monitoring
  schedules and Studio apps, spaces and user profiles (domains stay moto's). Its Studio apps
  delete asynchronously like the real ones: "Deleting" for a few ListApps calls, then "Deleted".
- ``AthenaGaps`` adds DeleteNamedQuery on moto's Athena state.
- moto creates every job "Completed"; the seed marks some "InProgress" in moto's backend, as a
  running attendee job would be.

Every other call (listing, tags, endpoints, autoscaling, ECR, S3, Glue, Logs, notebooks, models,
pipelines) is plain moto.
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import boto3
from botocore.exceptions import ClientError
from moto.athena.models import athena_backends
from moto.core import DEFAULT_ACCOUNT_ID
from moto.sagemaker.models import sagemaker_backends

from lambdas.janitor.aws import Clients

REGION = "us-east-1"
PREFIX = "mlws"
OTHER = "otherws"  # another workshop in the same account: never touched
ROLE = f"arn:aws:iam::{DEFAULT_ACCOUNT_ID}:role/sagemaker-execution"
IMAGE = f"{DEFAULT_ACCOUNT_ID}.dkr.ecr.{REGION}.amazonaws.com/byom:latest"
WORKSHOP_TAGS = [{"Key": "workshop", "Value": PREFIX}]
STACK_TAGS = [*WORKSHOP_TAGS, {"Key": "aws:cloudformation:stack-name", "Value": "mlws-serving"}]
OTHER_TAGS = [{"Key": "workshop", "Value": OTHER}]
STACK_QUERY_NAMES = frozenset({"row-counts", "bike-demand-by-hour"})

# Kinds whose client is SageMakerGaps (moto lacks one of their calls) or AthenaGaps.
SAGEMAKER_GAP_KINDS = (
    "monitoring-schedule",
    "training-job",
    "transform-job",
    "tuning-job",
    "pipeline-execution",
    "model-package",
    "model-package-group",
    "studio-app",
    "studio-space",
    "user-profile",
)


def client_error(code: str, message: str, operation: str) -> ClientError:
    return ClientError({"Error": {"Code": code, "Message": message}}, operation)


class _Delegate:
    """Forwards every attribute it does not define to the wrapped client."""

    OWN_LISTS: frozenset[str] = frozenset()

    def __init__(self, client: Any) -> None:
        self._client = client

    def __getattr__(self, name: str) -> Any:
        return getattr(self._client, name)

    def can_paginate(self, operation: str) -> bool:
        return operation not in self.OWN_LISTS and self._client.can_paginate(operation)


class SageMakerGaps(_Delegate):
    # list_tags too: moto's paginator would bypass the override for the ARNs moto cannot parse.
    OWN_LISTS = frozenset(
        {"list_monitoring_schedules", "list_apps", "list_spaces", "list_user_profiles", "list_tags"}
    )

    def __init__(self, client: Any, *, app_delete_polls: int = 2) -> None:
        super().__init__(client)
        self._backend = sagemaker_backends[DEFAULT_ACCOUNT_ID][REGION]
        self.app_delete_polls = app_delete_polls
        self.schedules: dict[str, dict[str, Any]] = {}
        self.apps: dict[tuple[str, str, str, str], dict[str, Any]] = {}
        self.spaces: dict[tuple[str, str], dict[str, Any]] = {}
        self.profiles: dict[tuple[str, str], dict[str, Any]] = {}
        self.tags: dict[str, list[dict[str, str]]] = {}

    def _arn(self, kind: str, name: str) -> str:
        return f"arn:aws:sagemaker:{REGION}:{DEFAULT_ACCOUNT_ID}:{kind}/{name}"

    # -- stops moto lacks ----------------------------------------------------------------------
    def _stop(self, jobs: dict[str, Any], attribute: str, name: str, operation: str) -> dict:
        job = jobs.get(name)
        if job is None:
            raise client_error("ValidationException", f"Could not find job {name}", operation)
        status = getattr(job, attribute)
        if status != "InProgress":
            message = f"The request was rejected because the job is in status {status}."
            raise client_error("ValidationException", message, operation)
        setattr(job, attribute, "Stopped")
        return {}

    def stop_training_job(self, TrainingJobName: str) -> dict:
        jobs = self._backend.training_jobs
        return self._stop(jobs, "training_job_status", TrainingJobName, "StopTrainingJob")

    def stop_transform_job(self, TransformJobName: str) -> dict:
        jobs = self._backend.transform_jobs
        return self._stop(jobs, "transform_job_status", TransformJobName, "StopTransformJob")

    def stop_hyper_parameter_tuning_job(self, HyperParameterTuningJobName: str) -> dict:
        return self._stop(
            self._backend.hyper_parameter_tuning_jobs,
            "hyper_parameter_tuning_job_status",
            HyperParameterTuningJobName,
            "StopHyperParameterTuningJob",
        )

    def stop_pipeline_execution(self, PipelineExecutionArn: str, **_: Any) -> dict:
        for pipeline in self._backend.pipelines.values():
            execution = pipeline.pipeline_executions.get(PipelineExecutionArn)
            if execution is None:
                continue
            if execution.pipeline_execution_status != "Executing":
                message = f"Pipeline execution is {execution.pipeline_execution_status}"
                raise client_error("ValidationException", message, "StopPipelineExecution")
            execution.pipeline_execution_status = "Stopping"
            return {"PipelineExecutionArn": PipelineExecutionArn}
        raise client_error("ResourceNotFound", "Pipeline execution does not exist", "Stop")

    # -- the model registry's deletes ----------------------------------------------------------
    def delete_model_package(self, ModelPackageName: str) -> dict:
        if self._backend.model_packages.pop(ModelPackageName, None) is None:
            raise client_error("ValidationException", "Model package does not exist", "Delete")
        return {}

    def delete_model_package_group(self, ModelPackageGroupName: str) -> dict:
        if ModelPackageGroupName not in self._backend.model_package_groups:
            raise client_error("ValidationException", "Group does not exist", "Delete")
        if any(
            package.model_package_group_name == ModelPackageGroupName
            for package in self._backend.model_packages.values()
        ):
            raise client_error(
                "ConflictException", "Model package group has model packages", "Delete"
            )
        del self._backend.model_package_groups[ModelPackageGroupName]
        return {}

    def list_tags(self, ResourceArn: str, **kwargs: Any) -> dict:
        if ResourceArn in self.tags:
            return {"Tags": self.tags[ResourceArn]}
        if ":model-package/" in ResourceArn:
            package = self._backend.model_packages.get(ResourceArn)
            return {"Tags": list(package.tags or []) if package else []}
        return self._client.list_tags(ResourceArn=ResourceArn, **kwargs)

    # -- monitoring schedules (no moto model) --------------------------------------------------
    def create_monitoring_schedule(
        self, MonitoringScheduleName: str, EndpointName: str, Tags: list | None = None
    ) -> dict:
        arn = self._arn("monitoring-schedule", MonitoringScheduleName)
        self.schedules[MonitoringScheduleName] = {
            "MonitoringScheduleName": MonitoringScheduleName,
            "MonitoringScheduleArn": arn,
            "MonitoringScheduleStatus": "Scheduled",
            "EndpointName": EndpointName,
        }
        self.tags[arn] = list(Tags or [])
        return {"MonitoringScheduleArn": arn}

    def list_monitoring_schedules(self, **_: Any) -> dict:
        return {"MonitoringScheduleSummaries": [dict(s) for s in self.schedules.values()]}

    def delete_monitoring_schedule(self, MonitoringScheduleName: str) -> dict:
        if self.schedules.pop(MonitoringScheduleName, None) is None:
            raise client_error("ResourceNotFound", "Monitoring schedule not found", "Delete")
        return {}

    # -- Studio apps, spaces, user profiles (no moto model) -------------------------------------
    def create_app(
        self,
        DomainId: str,
        AppType: str,
        AppName: str,
        InstanceType: str,
        UserProfileName: str = "",
        SpaceName: str = "",
    ) -> dict:
        owner = SpaceName or UserProfileName
        self.apps[(DomainId, owner, AppType, AppName)] = {
            "DomainId": DomainId,
            "AppType": AppType,
            "AppName": AppName,
            "Status": "InService",
            "ResourceSpec": {"InstanceType": InstanceType},
            **({"SpaceName": SpaceName} if SpaceName else {"UserProfileName": UserProfileName}),
        }
        return {}

    def list_apps(
        self,
        DomainIdEquals: str,
        UserProfileNameEquals: str = "",
        SpaceNameEquals: str = "",
        **_: Any,
    ) -> dict:
        apps = []
        for app in self.apps.values():
            if app["Status"] == "Deleting":  # each look moves a deletion along
                app["_polls"] = app.get("_polls", 0) + 1
                if app["_polls"] >= self.app_delete_polls:
                    app["Status"] = "Deleted"
            if app["DomainId"] != DomainIdEquals:
                continue
            if UserProfileNameEquals and app.get("UserProfileName") != UserProfileNameEquals:
                continue
            if SpaceNameEquals and app.get("SpaceName") != SpaceNameEquals:
                continue
            apps.append({k: v for k, v in app.items() if not k.startswith("_")})
        return {"Apps": apps}

    def delete_app(self, DomainId: str, AppType: str, AppName: str, **owner: str) -> dict:
        key = (
            DomainId,
            owner.get("SpaceName") or owner.get("UserProfileName", ""),
            AppType,
            AppName,
        )
        app = self.apps.get(key)
        if app is None or app["Status"] == "Deleted":
            raise client_error("ResourceNotFound", "App does not exist", "DeleteApp")
        app["Status"] = "Deleting"
        return {}

    def _blocking_apps(self, domain: str, **owner: str) -> list[dict[str, Any]]:
        ((field_name, value),) = owner.items()
        return [
            app
            for app in self.apps.values()
            if app["DomainId"] == domain
            and app.get(field_name) == value
            and app["Status"] not in {"Deleted", "Failed"}
        ]

    def create_space(
        self, DomainId: str, SpaceName: str, OwnerUserProfileName: str, Tags: list | None = None
    ) -> dict:
        arn = self._arn("space", f"{DomainId}/{SpaceName}")
        self.spaces[(DomainId, SpaceName)] = {
            "DomainId": DomainId,
            "SpaceName": SpaceName,
            "SpaceArn": arn,
            "Status": "InService",
            "OwnershipSettingsSummary": {"OwnerUserProfileName": OwnerUserProfileName},
        }
        self.tags[arn] = list(Tags or [])
        return {"SpaceArn": arn}

    def list_spaces(self, DomainIdEquals: str, **_: Any) -> dict:
        spaces = [s for s in self.spaces.values() if s["DomainId"] == DomainIdEquals]
        return {"Spaces": [{k: v for k, v in s.items() if k != "SpaceArn"} for s in spaces]}

    def describe_space(self, DomainId: str, SpaceName: str) -> dict:
        space = self.spaces.get((DomainId, SpaceName))
        if space is None:
            raise client_error("ResourceNotFound", "Space does not exist", "DescribeSpace")
        return dict(space)

    def delete_space(self, DomainId: str, SpaceName: str) -> dict:
        if (DomainId, SpaceName) not in self.spaces:
            raise client_error("ResourceNotFound", "Space does not exist", "DeleteSpace")
        if self._blocking_apps(DomainId, SpaceName=SpaceName):
            raise client_error("ResourceInUse", "Space has apps that are not deleted", "Delete")
        del self.spaces[(DomainId, SpaceName)]
        return {}

    def create_user_profile(
        self, DomainId: str, UserProfileName: str, Tags: list | None = None
    ) -> dict:
        arn = self._arn("user-profile", f"{DomainId}/{UserProfileName}")
        self.profiles[(DomainId, UserProfileName)] = {
            "DomainId": DomainId,
            "UserProfileName": UserProfileName,
            "UserProfileArn": arn,
            "Status": "InService",
        }
        self.tags[arn] = list(Tags or [])
        return {"UserProfileArn": arn}

    def list_user_profiles(self, DomainIdEquals: str, **_: Any) -> dict:
        profiles = [p for p in self.profiles.values() if p["DomainId"] == DomainIdEquals]
        return {
            "UserProfiles": [
                {k: v for k, v in p.items() if k != "UserProfileArn"} for p in profiles
            ]
        }

    def describe_user_profile(self, DomainId: str, UserProfileName: str) -> dict:
        profile = self.profiles.get((DomainId, UserProfileName))
        if profile is None:
            raise client_error("ResourceNotFound", "User profile does not exist", "Describe")
        return dict(profile)

    def delete_user_profile(self, DomainId: str, UserProfileName: str) -> dict:
        if (DomainId, UserProfileName) not in self.profiles:
            raise client_error("ResourceNotFound", "User profile does not exist", "Delete")
        owned = [
            s
            for s in self.spaces.values()
            if s["OwnershipSettingsSummary"]["OwnerUserProfileName"] == UserProfileName
        ]
        if owned or self._blocking_apps(DomainId, UserProfileName=UserProfileName):
            raise client_error("ResourceInUse", "User profile has apps or spaces", "Delete")
        del self.profiles[(DomainId, UserProfileName)]
        return {}


class AthenaGaps(_Delegate):
    def delete_named_query(self, NamedQueryId: str) -> dict:
        backend = athena_backends[DEFAULT_ACCOUNT_ID][REGION]
        if backend.named_queries.pop(NamedQueryId, None) is None:
            raise client_error("InvalidRequestException", "Named query not found", "Delete")
        return {}


class FailOn(_Delegate):
    """The wrapped client, except that ``operation`` with ``match``'s arguments is refused."""

    def __init__(self, client: Any, operation: str, code: str, **match: str) -> None:
        super().__init__(client)
        self.operation, self.code, self.match = operation, code, match
        self.refused = 0

    def __getattr__(self, name: str) -> Any:
        real = getattr(self._client, name)
        if name != self.operation:
            return real

        def refuse_matching(**kwargs: Any) -> Any:
            if all(kwargs.get(key) == value for key, value in self.match.items()):
                self.refused += 1
                raise client_error(self.code, f"not allowed to call {name}", name)
            return real(**kwargs)

        return refuse_matching


# -- the world -----------------------------------------------------------------------------------
@dataclass
class World:
    """The seeded account: clients, and what the janitor must remove, stop and leave alone."""

    session: boto3.Session
    sagemaker: SageMakerGaps
    athena: AthenaGaps
    buckets: tuple[str, ...] = ()
    removed: set[str] = field(default_factory=set)  # inventory keys that must disappear
    stopped: set[str] = field(default_factory=set)  # inventory keys whose status must change
    kept: set[str] = field(default_factory=set)  # inventory keys that must stay as they are
    expected: set[tuple[str, str]] = field(default_factory=set)  # (kind, name) to be found
    seeded_in_scope: Counter = field(default_factory=Counter)
    seeded_out_of_scope: Counter = field(default_factory=Counter)

    def client(self, service: str) -> Any:
        return self.session.client(service, region_name=REGION)

    def clients(self, **overrides: Any) -> Clients:
        gaps: dict[str, Any] = {kind: self.sagemaker for kind in SAGEMAKER_GAP_KINDS}
        gaps["athena-named-query"] = self.athena
        return Clients(self.session, overrides={**gaps, **overrides})

    def in_scope(self, kind: str, name: str, *keys: str, stop: bool = False) -> None:
        self.expected.add((kind, name))
        (self.stopped if stop else self.removed).update(keys)
        self.seeded_in_scope[kind] += 1

    def out_of_scope(self, kind: str, *keys: str) -> None:
        self.kept.update(keys)
        self.seeded_out_of_scope[kind] += 1


def new_world() -> World:
    session = boto3.Session(region_name=REGION)
    return World(
        session=session,
        sagemaker=SageMakerGaps(session.client("sagemaker")),
        athena=AthenaGaps(session.client("athena")),
    )


def seed(world: World, parts: Iterable[str] | None = None) -> World:
    """Seed the account (or only ``parts`` of it, by name: "jobs", "studio", ...).

    Every seeded thing is registered in ``world`` as in scope (to remove or stop) or out of it.
    """
    wanted = set(SEED_PARTS if parts is None else parts)
    for name, seed_part in SEED_PARTS.items():
        if name in wanted:
            seed_part(world)
    return world


def _set_in_progress(jobs: dict[str, Any], attribute: str, name: str) -> None:
    setattr(jobs[name], attribute, "InProgress")


def _seed_jobs(world: World) -> None:
    sm, backend = world.sagemaker, sagemaker_backends[DEFAULT_ACCOUNT_ID][REGION]
    resource_config = {"InstanceType": "ml.m5.xlarge", "InstanceCount": 2, "VolumeSizeInGB": 5}

    def training(name: str, tags: list, running: bool) -> None:
        sm.create_training_job(
            TrainingJobName=name,
            AlgorithmSpecification={"TrainingImage": IMAGE, "TrainingInputMode": "File"},
            RoleArn=ROLE,
            OutputDataConfig={"S3OutputPath": "s3://out/"},
            ResourceConfig=resource_config,
            StoppingCondition={"MaxRuntimeInSeconds": 3600},
            Tags=tags,
        )
        if running:
            _set_in_progress(backend.training_jobs, "training_job_status", name)

    training("mlws-alice-train", [], running=True)
    world.in_scope("training-job", "mlws-alice-train", "training-job:mlws-alice-train", stop=True)
    training("bank-xgb-bob", WORKSHOP_TAGS, running=True)  # tagged, not prefixed
    world.in_scope("training-job", "bank-xgb-bob", "training-job:bank-xgb-bob", stop=True)
    training("mlws-alice-old", [], running=False)  # finished: nothing to stop
    world.out_of_scope("training-job", "training-job:mlws-alice-old")
    training("otherws-train", OTHER_TAGS, running=True)
    world.out_of_scope("training-job", "training-job:otherws-train")

    sm.create_processing_job(
        ProcessingJobName="mlws-alice-prep",
        ProcessingResources={
            "ClusterConfig": {
                "InstanceType": "ml.m5.large",
                "InstanceCount": 1,
                "VolumeSizeInGB": 5,
            }
        },
        AppSpecification={"ImageUri": IMAGE},
        RoleArn=ROLE,
        StoppingCondition={"MaxRuntimeInSeconds": 3600},
    )
    _set_in_progress(backend.processing_jobs, "processing_job_status", "mlws-alice-prep")
    world.in_scope("processing-job", "mlws-alice-prep", "processing-job:mlws-alice-prep", stop=True)

    for name, tags in (("mlws-bob-batch", []), ("otherws-batch", OTHER_TAGS)):
        sm.create_transform_job(
            TransformJobName=name,
            ModelName="any",
            TransformInput={
                "DataSource": {"S3DataSource": {"S3DataType": "S3Prefix", "S3Uri": "s3://in/"}}
            },
            TransformOutput={"S3OutputPath": "s3://out/"},
            TransformResources={"InstanceType": "ml.c5.xlarge", "InstanceCount": 1},
            Tags=tags,
        )
        _set_in_progress(backend.transform_jobs, "transform_job_status", name)
    world.in_scope("transform-job", "mlws-bob-batch", "transform-job:mlws-bob-batch", stop=True)
    world.out_of_scope("transform-job", "transform-job:otherws-batch")

    sm.create_hyper_parameter_tuning_job(
        HyperParameterTuningJobName="mlws-carol-hpo",
        Tags=[],  # moto's ListTags fails on a tuning job created without tags
        HyperParameterTuningJobConfig={
            "Strategy": "Bayesian",
            "ResourceLimits": {"MaxNumberOfTrainingJobs": 10, "MaxParallelTrainingJobs": 3},
        },
        TrainingJobDefinition={
            "AlgorithmSpecification": {"TrainingImage": IMAGE, "TrainingInputMode": "File"},
            "RoleArn": ROLE,
            "OutputDataConfig": {"S3OutputPath": "s3://out/"},
            "ResourceConfig": {
                "InstanceType": "ml.m5.xlarge",
                "InstanceCount": 1,
                "VolumeSizeInGB": 5,
            },
            "StoppingCondition": {"MaxRuntimeInSeconds": 3600},
        },
    )
    _set_in_progress(
        backend.hyper_parameter_tuning_jobs, "hyper_parameter_tuning_job_status", "mlws-carol-hpo"
    )
    world.in_scope("tuning-job", "mlws-carol-hpo", "tuning-job:mlws-carol-hpo", stop=True)


def _seed_pipelines(world: World) -> None:
    sm = world.sagemaker
    definition = json.dumps({"Version": "2020-12-01", "Steps": []})
    for name, tags in (
        ("mlws-train-pipeline", STACK_TAGS),  # the stack's: its run is stopped, it stays
        ("mlws-alice-pipeline", []),
        ("otherws-pipeline", OTHER_TAGS),
    ):
        sm.create_pipeline(
            PipelineName=name, PipelineDefinition=definition, RoleArn=ROLE, Tags=tags
        )
        arn = sm.start_pipeline_execution(PipelineName=name)["PipelineExecutionArn"]
        execution = sagemaker_backends[DEFAULT_ACCOUNT_ID][REGION].pipelines[name]
        execution.pipeline_executions[arn].pipeline_execution_status = "Executing"
        execution_name = f"{name}/{arn.rsplit('/', 1)[-1]}"
        if name.startswith(OTHER):
            world.out_of_scope("pipeline", f"pipeline:{name}")
            world.out_of_scope("pipeline-execution", f"pipeline-execution:{execution_name}")
            continue
        # Stopped; an attendee's pipeline then goes, and its executions with it.
        world.in_scope(
            "pipeline-execution",
            execution_name,
            f"pipeline-execution:{execution_name}",
            stop=tags is STACK_TAGS,
        )
        if tags is STACK_TAGS:
            world.out_of_scope("pipeline", f"pipeline:{name}")
        else:
            world.in_scope("pipeline", name, f"pipeline:{name}")


def _seed_hosting(world: World) -> None:
    sm = world.sagemaker
    autoscaling = world.client("application-autoscaling")

    def endpoint(name: str, variants: list[tuple[str, str, int]], tags: list) -> None:
        sm.create_model(
            ModelName=f"{name}-model",
            ExecutionRoleArn=ROLE,
            PrimaryContainer={"Image": IMAGE},
            Tags=tags,
        )
        sm.create_endpoint_config(
            EndpointConfigName=f"{name}-config",
            ProductionVariants=[
                {
                    "VariantName": variant,
                    "ModelName": f"{name}-model",
                    "InstanceType": instance_type,
                    "InitialInstanceCount": count,
                    "InitialVariantWeight": 1.0,
                }
                for variant, instance_type, count in variants
            ],
            Tags=tags,
        )
        sm.create_endpoint(EndpointName=name, EndpointConfigName=f"{name}-config", Tags=tags)
        for variant, _, count in variants:
            autoscaling.register_scalable_target(
                ServiceNamespace="sagemaker",
                ResourceId=f"endpoint/{name}/variant/{variant}",
                ScalableDimension="sagemaker:variant:DesiredInstanceCount",
                MinCapacity=count,
                MaxCapacity=4,
            )

    def keys(name: str, variants: list[tuple[str, str, int]]) -> dict[str, list[str]]:
        return {
            "endpoint": [
                f"endpoint:{name}",
                *(f"scalable-target:endpoint/{name}/variant/{v}" for v, _, _ in variants),
            ],
            "endpoint-config": [f"endpoint-config:{name}-config"],
            "model": [f"model:{name}-model"],
        }

    ab = [("variant-a", "ml.m5.large", 1), ("variant-b", "ml.m5.large", 1)]
    gpu = [("AllTraffic", "ml.g4dn.xlarge", 1)]
    unknown = [("AllTraffic", "ml.r5.large", 2)]  # not in the price table: cost "?"
    for name, variants, tags in (
        ("mlws-alice-ep", ab, []),
        ("carol-endpoint", gpu, WORKSHOP_TAGS),  # tagged, not prefixed
        ("mlws-bob-ep", unknown, []),
    ):
        endpoint(name, variants, tags)
        names = {"endpoint": name, "endpoint-config": f"{name}-config", "model": f"{name}-model"}
        for kind, kind_keys in keys(name, variants).items():
            world.in_scope(kind, names[kind], *kind_keys)

    endpoint("mlws-ab", ab, STACK_TAGS)  # the serving stack's: its stack deletes it
    endpoint("otherws-ep", gpu, OTHER_TAGS)
    for name, variants in (("mlws-ab", ab), ("otherws-ep", gpu)):
        for kind, kind_keys in keys(name, variants).items():
            world.out_of_scope(kind, *kind_keys)

    sm.create_monitoring_schedule(
        MonitoringScheduleName="mlws-alice-monitor", EndpointName="mlws-alice-ep"
    )
    world.in_scope(
        "monitoring-schedule", "mlws-alice-monitor", "monitoring-schedule:mlws-alice-monitor"
    )
    sm.create_monitoring_schedule(MonitoringScheduleName="quality-check", EndpointName="otherws-ep")
    world.out_of_scope("monitoring-schedule", "monitoring-schedule:quality-check")


def _seed_registry(world: World) -> None:
    sm = world.sagemaker
    for group, tags, versions in (
        ("mlws-alice-models", [], 2),
        ("mlws-bank-models", STACK_TAGS, 1),  # the stack's group; the pipeline's versions are not
        ("otherws-models", OTHER_TAGS, 1),
    ):
        sm.create_model_package_group(ModelPackageGroupName=group, Tags=tags)
        for _ in range(versions):
            arn = sm.create_model_package(
                ModelPackageGroupName=group,
                InferenceSpecification={
                    "Containers": [{"Image": IMAGE}],
                    "SupportedContentTypes": ["text/csv"],
                    "SupportedResponseMIMETypes": ["text/csv"],
                },
            )["ModelPackageArn"]
            version = arn.rsplit("/", 1)[-1]
            if group.startswith(OTHER):
                world.out_of_scope("model-package", f"model-package:{arn}")
            else:
                world.in_scope("model-package", f"{group}/{version}", f"model-package:{arn}")
        if group == "mlws-alice-models":
            world.in_scope("model-package-group", group, f"model-package-group:{group}")
        else:
            world.out_of_scope("model-package-group", f"model-package-group:{group}")


def _seed_studio(world: World) -> None:
    sm = world.sagemaker
    domains = {}
    for name, tags in (("mlws-studio", STACK_TAGS), ("otherws-studio", OTHER_TAGS)):
        domains[name] = sm.create_domain(
            DomainName=name,
            AuthMode="IAM",
            DefaultUserSettings={"ExecutionRole": ROLE},
            SubnetIds=["subnet-1"],
            VpcId="vpc-1",
            Tags=tags,
        )["DomainArn"].rsplit("/", 1)[-1]
        world.out_of_scope("studio-domain", f"studio-domain:{name}")
    mine, other = domains["mlws-studio"], domains["otherws-studio"]

    sm.create_user_profile(DomainId=mine, UserProfileName="attendee-01", Tags=STACK_TAGS)
    world.out_of_scope("user-profile", f"user-profile:{mine}/attendee-01")
    sm.create_user_profile(DomainId=mine, UserProfileName="alice-extra")  # made by an attendee
    world.in_scope("user-profile", f"{mine}/alice-extra", f"user-profile:{mine}/alice-extra")
    sm.create_space(DomainId=mine, SpaceName="alice-space", OwnerUserProfileName="alice-extra")
    world.in_scope("studio-space", f"{mine}/alice-space", f"studio-space:{mine}/alice-space")

    for owner_field, owner, app_type, app, instance_type in (
        ("UserProfileName", "attendee-01", "JupyterServer", "default", "system"),
        ("UserProfileName", "attendee-01", "KernelGateway", "datascience", "ml.t3.medium"),
        ("SpaceName", "alice-space", "JupyterLab", "default", "ml.m5.large"),
    ):
        sm.create_app(
            DomainId=mine,
            AppType=app_type,
            AppName=app,
            InstanceType=instance_type,
            **{owner_field: owner},
        )
        name = f"{mine}/{owner}/{app_type}/{app}"
        world.in_scope("studio-app", name, f"studio-app:{name}")

    sm.create_user_profile(DomainId=other, UserProfileName="eve", Tags=OTHER_TAGS)
    world.out_of_scope("user-profile", f"user-profile:{other}/eve")
    sm.create_app(
        DomainId=other,
        AppType="KernelGateway",
        AppName="eve-kernel",
        InstanceType="ml.t3.medium",
        UserProfileName="eve",
    )
    world.out_of_scope("studio-app", f"studio-app:{other}/eve/KernelGateway/eve-kernel")


def _seed_notebooks(world: World) -> None:
    sm = world.sagemaker
    for name, tags, running, scope in (
        ("mlws-alice-nb", [], True, True),
        ("mlws-bob-nb", [], False, True),
        ("attendee-07-scratch", WORKSHOP_TAGS, True, True),  # tagged, not prefixed
        ("mlws-attendee-01", STACK_TAGS, True, False),  # the attendee environment stack's
        ("otherws-nb", OTHER_TAGS, True, False),
    ):
        sm.create_notebook_instance(
            NotebookInstanceName=name, InstanceType="ml.t3.medium", RoleArn=ROLE, Tags=tags
        )
        if not running:
            sm.stop_notebook_instance(NotebookInstanceName=name)
        if scope:
            world.in_scope("notebook-instance", name, f"notebook-instance:{name}")
        else:
            world.out_of_scope("notebook-instance", f"notebook-instance:{name}")


def _seed_ecr(world: World) -> None:
    ecr = world.client("ecr")
    for repository, tags, images in (
        ("mlws-alice-images", [], 2),
        ("byom-models", [{"Key": "workshop", "Value": PREFIX}], 1),  # tagged workshop repo
        ("otherws-images", [{"Key": "workshop", "Value": OTHER}], 1),
        # The model-image stack's repository: the deployed image stays until its stack goes.
        ("mlws-model-image-repository", STACK_TAGS, 1),
    ):
        ecr.create_repository(repositoryName=repository, tags=tags)
        digests = []
        for number in range(images):
            layer = hashlib.sha256(f"{repository}-{number}".encode()).hexdigest()
            manifest = {  # moto derives the image digest from the layer digests
                "schemaVersion": 2,
                "mediaType": "application/vnd.docker.distribution.manifest.v2+json",
                "config": {},
                "layers": [{"digest": f"sha256:{layer}", "size": 1}],
            }
            answer = ecr.put_image(
                repositoryName=repository, imageManifest=json.dumps(manifest), imageTag=f"v{number}"
            )
            digests.append(answer["image"]["imageId"]["imageDigest"])
        keys = [f"ecr-image:{repository}@{digest}" for digest in digests]
        if repository.startswith(OTHER) or tags is STACK_TAGS:
            world.out_of_scope("ecr-images", *keys)
        else:
            world.in_scope("ecr-images", repository, *keys)


def _seed_s3(world: World) -> None:
    s3 = world.client("s3")
    bucket, other_bucket = "mlws-raw-0123", "otherws-raw-0123"
    world.buckets = (bucket,)
    for name in (bucket, other_bucket):
        s3.create_bucket(Bucket=name)
        s3.put_bucket_versioning(Bucket=name, VersioningConfiguration={"Status": "Enabled"})

    def put(name: str, key: str) -> list[str]:
        version = s3.put_object(Bucket=name, Key=key, Body=b"x")["VersionId"]
        return [f"s3:{name}/{key}#{version}"]

    def delete(name: str, key: str) -> list[str]:
        marker = s3.delete_object(Bucket=name, Key=key)["VersionId"]
        return [f"s3:{name}/{key}#{marker}"]

    alice = [
        *put(bucket, "attendees/alice/train.csv"),
        *put(bucket, "attendees/alice/train.csv"),  # a second version
        *delete(bucket, "attendees/alice/train.csv"),  # and a delete marker on top
        *put(bucket, "attendees/alice/model/model.tar.gz"),
    ]
    upload = s3.create_multipart_upload(Bucket=bucket, Key="attendees/alice/big.parquet")
    alice.append(f"s3-upload:{bucket}/attendees/alice/big.parquet#{upload['UploadId']}")
    world.in_scope("s3-objects", f"s3://{bucket}/attendees/alice/", *alice)
    bob = put(bucket, "attendees/bob/notes.txt")
    world.in_scope("s3-objects", f"s3://{bucket}/attendees/bob/", *bob)
    scratch = [*put(bucket, "scratch/tmp.parquet"), *delete(bucket, "scratch/tmp.parquet")]
    world.in_scope("s3-objects", f"s3://{bucket}/scratch/", *scratch)

    world.out_of_scope("s3-object", *put(bucket, "raw/bike/day.csv"))  # the stack's data
    world.out_of_scope("s3-object", *put(bucket, "attendees/README.txt"))  # nobody's folder
    world.out_of_scope("s3-object", *put(bucket, "attendeesX/alice/x.csv"))  # lookalike prefix
    world.out_of_scope(
        "s3-object", *put(other_bucket, "attendees/eve/x.csv")
    )  # not a workshop bucket


def _seed_glue(world: World) -> None:
    glue = world.client("glue")
    for database in ("mlws_datalake", "otherws_datalake"):
        glue.create_database(DatabaseInput={"Name": database})
    for database, table, parameters, scope in (
        ("mlws_datalake", "bike_day", {"workshop:owner": "stack"}, False),
        ("mlws_datalake", "bank_marketing", {}, False),  # the stack's, listed by name
        ("mlws_datalake", "alice_ctas", {}, True),
        ("mlws_datalake", "bob_features", {"classification": "parquet"}, True),
        ("otherws_datalake", "eve_table", {}, False),
    ):
        glue.create_table(
            DatabaseName=database, TableInput={"Name": table, "Parameters": parameters}
        )
        key = f"glue-table:{database}.{table}"
        if scope:
            world.in_scope("glue-table", f"{database}.{table}", key)
        else:
            world.out_of_scope("glue-table", key)


def _seed_athena(world: World) -> None:
    athena = world.athena
    athena.create_work_group(Name="mlws-workgroup")
    for workgroup, name, scope in (
        ("mlws-workgroup", "row-counts", False),  # the stack's
        ("mlws-workgroup", "bike-demand-by-hour", False),  # the stack's
        ("mlws-workgroup", "alice-top-10", True),
        ("mlws-workgroup", "bob-scratch", True),
        ("primary", "someone-elses", False),
    ):
        athena.create_named_query(
            Name=name, Database="mlws_datalake", QueryString="SELECT 1", WorkGroup=workgroup
        )
        key = f"athena-named-query:{workgroup}/{name}"
        if scope:
            world.in_scope("athena-named-query", f"{workgroup}/{name}", key)
        else:
            world.out_of_scope("athena-named-query", key)


def _seed_logs(world: World) -> None:
    logs = world.client("logs")
    endpoints = "/aws/sagemaker/Endpoints/"
    for group, tags, scope in (
        (f"{endpoints}mlws-alice-ep", {}, True),
        (f"{endpoints}carol-endpoint", {}, True),  # its endpoint is in scope by tag
        (f"{endpoints}mlws-ab", {"aws:cloudformation:stack-name": "mlws-serving"}, False),
        (f"{endpoints}otherws-ep", {}, False),
        ("/aws/lambda/mlws-janitor", {}, False),  # not SageMaker's
    ):
        logs.create_log_group(logGroupName=group, tags=tags)
        logs.create_log_stream(logGroupName=group, logStreamName="AllTraffic/i-0")
        if scope:
            world.in_scope(
                "log-group", group, f"log-group:{group}", f"log-stream:{group}:AllTraffic/i-0"
            )
        else:
            world.out_of_scope(
                "log-group", f"log-group:{group}", f"log-stream:{group}:AllTraffic/i-0"
            )

    shared = (
        (
            "/aws/sagemaker/TrainingJobs",
            "mlws-alice-train",
            ("algo-1-1700000000", "algo-2-1700000000"),
            True,
        ),
        ("/aws/sagemaker/TrainingJobs", "bank-xgb-bob", ("algo-1-1700000000",), True),  # tagged job
        ("/aws/sagemaker/TrainingJobs", "otherws-train", ("algo-1-1700000000",), False),
        ("/aws/sagemaker/NotebookInstances", "mlws-alice-nb", ("jupyter.log",), True),
        ("/aws/sagemaker/NotebookInstances", "otherws-nb", ("jupyter.log",), False),
    )
    for group in {row[0] for row in shared}:
        logs.create_log_group(logGroupName=group)
        world.out_of_scope("log-group", f"log-group:{group}")  # shared: only streams go
    for group, owner, suffixes, scope in shared:
        keys = []
        for suffix in suffixes:
            logs.create_log_stream(logGroupName=group, logStreamName=f"{owner}/{suffix}")
            keys.append(f"log-stream:{group}:{owner}/{suffix}")
        if scope:
            world.in_scope("log-streams", f"{group}:{owner}/*", *keys)
        else:
            world.out_of_scope("log-streams", *keys)


def _seed_glue_runs(world: World) -> None:
    """Glue's account-wide run logs: the workshop job's run streams go, another job's stay."""
    glue, logs = world.client("glue"), world.client("logs")
    runs: dict[str, str] = {}
    for job in ("mlws-reviews-etl", "otherws-etl"):
        glue.create_job(
            Name=job, Role="arn:aws:iam::123456789012:role/glue",
            Command={"Name": "glueetl", "ScriptLocation": "s3://scripts/etl.py"},
        )  # fmt: skip
        runs[job] = glue.start_job_run(JobName=job)["JobRunId"]
    for group in ("/aws-glue/jobs/output", "/aws-glue/jobs/error"):
        logs.create_log_group(logGroupName=group)
        world.out_of_scope("log-group", f"log-group:{group}")  # shared: only streams go
        for job, run_id in runs.items():
            keys = []
            for stream in (f"{run_id}-driver", f"{run_id}-1"):
                logs.create_log_stream(logGroupName=group, logStreamName=stream)
                keys.append(f"log-stream:{group}:{stream}")
            if job.startswith("mlws-"):
                world.in_scope("glue-run-logs", f"{group}:{job}", *keys)
            else:
                world.out_of_scope("glue-run-logs", *keys)


SEED_PARTS = {
    "jobs": _seed_jobs,
    "pipelines": _seed_pipelines,
    "hosting": _seed_hosting,
    "registry": _seed_registry,
    "studio": _seed_studio,
    "notebooks": _seed_notebooks,
    "ecr": _seed_ecr,
    "s3": _seed_s3,
    "glue": _seed_glue,
    "athena": _seed_athena,
    "logs": _seed_logs,
    "glue-runs": _seed_glue_runs,
}


# -- inventory: what exists, read without the janitor's code ---------------------------------------
def inventory(world: World) -> dict[str, str]:
    """Every seeded thing that still exists → its state (job status, object version, ...)."""
    sm, backend = world.sagemaker, sagemaker_backends[DEFAULT_ACCOUNT_ID][REGION]
    items: dict[str, str] = {}
    for name, job in backend.training_jobs.items():
        items[f"training-job:{name}"] = job.training_job_status
    for name, job in backend.processing_jobs.items():
        items[f"processing-job:{name}"] = job.processing_job_status
    for name, job in backend.transform_jobs.items():
        items[f"transform-job:{name}"] = job.transform_job_status
    for name, job in backend.hyper_parameter_tuning_jobs.items():
        items[f"tuning-job:{name}"] = job.hyper_parameter_tuning_job_status
    for name, pipeline in backend.pipelines.items():
        items[f"pipeline:{name}"] = ""
        for arn, execution in pipeline.pipeline_executions.items():
            key = f"pipeline-execution:{name}/{arn.rsplit('/', 1)[-1]}"
            items[key] = execution.pipeline_execution_status
    for name in backend.endpoints:
        items[f"endpoint:{name}"] = ""
    for name in backend.endpoint_configs:
        items[f"endpoint-config:{name}"] = ""
    for name in backend._models:
        items[f"model:{name}"] = ""
    for arn in backend.model_packages:
        items[f"model-package:{arn}"] = ""
    for name in backend.model_package_groups:
        items[f"model-package-group:{name}"] = ""
    for name, notebook in backend.notebook_instances.items():
        items[f"notebook-instance:{name}"] = notebook.status
    for domain in backend.domains.values():
        items[f"studio-domain:{domain.domain_name}"] = ""
    for name in sm.schedules:
        items[f"monitoring-schedule:{name}"] = ""
    for (domain, owner, app_type, app), spec in sm.apps.items():
        if spec["Status"] not in {"Deleting", "Deleted"}:
            items[f"studio-app:{domain}/{owner}/{app_type}/{app}"] = spec["Status"]
    for domain, name in sm.spaces:
        items[f"studio-space:{domain}/{name}"] = ""
    for domain, name in sm.profiles:
        items[f"user-profile:{domain}/{name}"] = ""
    autoscaling = world.client("application-autoscaling")
    for target in autoscaling.describe_scalable_targets(ServiceNamespace="sagemaker")[
        "ScalableTargets"
    ]:
        items[f"scalable-target:{target['ResourceId']}"] = ""
    ecr = world.client("ecr")
    for repository in ecr.describe_repositories()["repositories"]:
        name = repository["repositoryName"]
        for image in ecr.list_images(repositoryName=name)["imageIds"]:
            items[f"ecr-image:{name}@{image['imageDigest']}"] = ""
    s3 = world.client("s3")
    for bucket in s3.list_buckets()["Buckets"]:
        name = bucket["Name"]
        listed = s3.list_object_versions(Bucket=name)
        for item in [*listed.get("Versions", []), *listed.get("DeleteMarkers", [])]:
            items[f"s3:{name}/{item['Key']}#{item['VersionId']}"] = ""
        for upload in s3.list_multipart_uploads(Bucket=name).get("Uploads", []):
            items[f"s3-upload:{name}/{upload['Key']}#{upload['UploadId']}"] = ""
    glue = world.client("glue")
    for database in glue.get_databases()["DatabaseList"]:
        for table in glue.get_tables(DatabaseName=database["Name"])["TableList"]:
            items[f"glue-table:{database['Name']}.{table['Name']}"] = ""
    athena = world.athena
    for workgroup in ("mlws-workgroup", "primary"):
        for query_id in athena.list_named_queries(WorkGroup=workgroup)["NamedQueryIds"]:
            query = athena.get_named_query(NamedQueryId=query_id)["NamedQuery"]
            items[f"athena-named-query:{workgroup}/{query['Name']}"] = ""
    logs = world.client("logs")
    for group in logs.describe_log_groups()["logGroups"]:
        name = group["logGroupName"]
        items[f"log-group:{name}"] = ""
        for stream in logs.describe_log_streams(logGroupName=name)["logStreams"]:
            items[f"log-stream:{name}:{stream['logStreamName']}"] = ""
    return items
