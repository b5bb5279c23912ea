"""SageMaker kinds: jobs, pipelines, hosting, the model registry, Studio, notebook instances.

Each kind is a pair of plain functions (find in scope, remove one) bundled in a :class:`Kind`.
Removal order is decided in ``janitor.py``; functions here only assume what must already have
happened before them (a space waits for its apps, a profile for its apps and spaces).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import ClientError

from .aws import Calls, Discovery, Removal, error_code, is_not_found
from .model import DELETED, GONE, PENDING, STOPPED, Kind, Resource, owned_by_stack

SAGEMAKER = "sagemaker"
AUTOSCALING = "application-autoscaling"
# Studio apps in these states hold nothing and block nothing.
FINISHED_APP_STATES = frozenset({"Deleted", "Failed"})
NOTEBOOK_RUNNING_STATES = frozenset({"InService", "Pending", "Updating"})


def _tags(calls: Calls, client: Any, arn: str) -> dict[str, str]:
    return {
        tag["Key"]: tag["Value"]
        for tag in calls.pages(client, "list_tags", "Tags", ResourceArn=arn)
    }


# -- in-progress jobs: stopped whoever started them (a stack's pipeline run included) ----------
@dataclass(frozen=True)
class _Job:
    kind: str
    noun: str  # TrainingJob, ProcessingJob, ...: the API's names are built from it
    list_key: str
    instances: Callable[[dict[str, Any]], tuple[str | None, int]]

    @property
    def name_field(self) -> str:
        return f"{self.noun}Name"

    @property
    def status_field(self) -> str:
        return f"{self.noun}Status"


def _snake(noun: str) -> str:
    return "".join(f"_{c.lower()}" if c.isupper() else c for c in noun).lstrip("_")


def _job_kind(job: _Job) -> Kind:
    snake = _snake(job.noun)  # training_job, hyper_parameter_tuning_job, ...

    def discover(d: Discovery, sm: Any) -> Iterator[Resource]:
        summaries = d.pages(sm, f"list_{snake}s", job.list_key, StatusEquals="InProgress")
        for summary in summaries:
            name, arn = summary[job.name_field], summary[f"{job.noun}Arn"]
            reason = d.scope.reason(name, _tags(d, sm, arn))
            if reason is None:
                continue
            described = d.call(getattr(sm, f"describe_{snake}"), **{job.name_field: name})
            tuning_arn = described.get("TuningJobArn", "")
            if tuning_arn and tuning_arn.rsplit("/", 1)[-1] in d.found:
                continue  # stopping its tuning job stops it; listing it too would count it twice
            d.found.add(name)
            instance_type, count = job.instances(described)
            yield Resource(
                job.kind,
                name,
                reason,
                arn=arn,
                state="InProgress",
                instance_type=instance_type,
                instance_count=count,
                hourly_usd=d.hourly(instance_type, count),
            )

    def remove(r: Removal, sm: Any, resource: Resource) -> tuple[str, str]:
        try:
            r.call(getattr(sm, f"stop_{snake}"), **{job.name_field: resource.name})
        except ClientError as error:
            if is_not_found(error) or error_code(error) != "ValidationException":
                raise
            # Refused because it is no longer running (it finished or is already stopping)?
            described = r.call(getattr(sm, f"describe_{snake}"), **{job.name_field: resource.name})
            status = described.get(job.status_field, "")
            if status == "InProgress":
                raise
            return GONE, f"already {status}"
        return STOPPED, ""

    return Kind(job.kind, SAGEMAKER, "stop", discover, remove)


def _resource_config(config: dict[str, Any] | None, parallel: int = 1) -> tuple[str | None, int]:
    config = config or {}
    return config.get("InstanceType"), int(config.get("InstanceCount", 1)) * parallel


def _tuning_instances(described: dict[str, Any]) -> tuple[str | None, int]:
    definition = described.get("TrainingJobDefinition") or next(
        iter(described.get("TrainingJobDefinitions") or []), {}
    )
    limits = described.get("HyperParameterTuningJobConfig", {}).get("ResourceLimits", {})
    return _resource_config(
        definition.get("ResourceConfig"), int(limits.get("MaxParallelTrainingJobs", 1))
    )


TUNING_JOB = _job_kind(
    _Job(
        "tuning-job",
        "HyperParameterTuningJob",
        "HyperParameterTuningJobSummaries",
        _tuning_instances,
    )
)
TRAINING_JOB = _job_kind(
    _Job(
        "training-job",
        "TrainingJob",
        "TrainingJobSummaries",
        lambda described: _resource_config(described.get("ResourceConfig")),
    )
)
PROCESSING_JOB = _job_kind(
    _Job(
        "processing-job",
        "ProcessingJob",
        "ProcessingJobSummaries",
        lambda described: _resource_config(
            described.get("ProcessingResources", {}).get("ClusterConfig")
        ),
    )
)
TRANSFORM_JOB = _job_kind(
    _Job(
        "transform-job",
        "TransformJob",
        "TransformJobSummaries",
        lambda described: _resource_config(described.get("TransformResources")),
    )
)


# -- pipelines and their executions -------------------------------------------------------------
def _pipelines(d: Discovery, sm: Any) -> list[tuple[dict[str, Any], dict[str, str]]]:
    return d.memo(
        "pipelines",
        lambda: [
            (item, _tags(d, sm, item["PipelineArn"]))
            for item in d.pages(sm, "list_pipelines", "PipelineSummaries")
        ],
    )


def _discover_executions(d: Discovery, sm: Any) -> Iterator[Resource]:
    for pipeline, tags in _pipelines(d, sm):
        name = pipeline["PipelineName"]
        reason = d.scope.reason(name, tags)  # a stack's pipeline too: its runs cost money
        if reason is None:
            continue
        executions = d.pages(
            sm, "list_pipeline_executions", "PipelineExecutionSummaries", PipelineName=name
        )
        for execution in executions:
            if execution.get("PipelineExecutionStatus") != "Executing":
                continue
            arn = execution["PipelineExecutionArn"]
            yield Resource(
                "pipeline-execution",
                f"{name}/{arn.rsplit('/', 1)[-1]}",
                f"pipeline {name}: {reason}",
                arn=arn,
                state="Executing",
            )


def _stop_execution(r: Removal, sm: Any, resource: Resource) -> tuple[str, str]:
    try:
        r.call(sm.stop_pipeline_execution, PipelineExecutionArn=resource.arn)
    except ClientError as error:
        if is_not_found(error) or error_code(error) != "ValidationException":
            raise
        described = r.call(sm.describe_pipeline_execution, PipelineExecutionArn=resource.arn)
        status = described.get("PipelineExecutionStatus", "")
        if status == "Executing":
            raise
        return GONE, f"already {status}"
    return STOPPED, ""


def _discover_pipelines(d: Discovery, sm: Any) -> Iterator[Resource]:
    for pipeline, tags in _pipelines(d, sm):
        name = pipeline["PipelineName"]
        reason = d.scope.reason(name, tags)
        if reason and not owned_by_stack(tags):
            yield Resource("pipeline", name, reason, arn=pipeline["PipelineArn"])


def _delete_pipeline(r: Removal, sm: Any, resource: Resource) -> tuple[str, str]:
    r.call(sm.delete_pipeline, PipelineName=resource.name)
    return DELETED, ""


PIPELINE_EXECUTION = Kind(
    "pipeline-execution", SAGEMAKER, "stop", _discover_executions, _stop_execution
)
PIPELINE = Kind("pipeline", SAGEMAKER, "delete", _discover_pipelines, _delete_pipeline)


# -- hosting: monitoring schedules → endpoints → endpoint configs → models ----------------------
def _discover_schedules(d: Discovery, sm: Any) -> Iterator[Resource]:
    for item in d.pages(sm, "list_monitoring_schedules", "MonitoringScheduleSummaries"):
        name, arn = item["MonitoringScheduleName"], item["MonitoringScheduleArn"]
        tags = _tags(d, sm, arn)
        if owned_by_stack(tags):
            continue
        endpoint = item.get("EndpointName") or ""
        reason = d.scope.reason(name, tags)
        if reason is None and endpoint and d.scope.reason(endpoint):
            reason = f"monitors endpoint {endpoint}"
        if reason:
            yield Resource(
                "monitoring-schedule",
                name,
                reason,
                arn=arn,
                state=item.get("MonitoringScheduleStatus", ""),
            )


def _delete_schedule(r: Removal, sm: Any, resource: Resource) -> tuple[str, str]:
    r.call(sm.delete_monitoring_schedule, MonitoringScheduleName=resource.name)
    return DELETED, ""


def _endpoint_instances(d: Discovery, sm: Any, name: str) -> tuple[str | None, int, float | None]:
    """(instance types, instance count, hourly cost) of an endpoint's production variants."""
    described = d.call(sm.describe_endpoint, EndpointName=name)
    configured: dict[str, dict[str, Any]] = {}
    try:
        config = d.call(
            sm.describe_endpoint_config, EndpointConfigName=described["EndpointConfigName"]
        )
        configured = {v["VariantName"]: v for v in config.get("ProductionVariants", [])}
    except ClientError as error:
        if not is_not_found(error):
            raise
    types: list[str] = []
    count = 0
    cost: float | None = 0.0
    for variant in described.get("ProductionVariants", []):
        if "CurrentServerlessConfig" in variant:
            continue  # billed per request, not per hour
        spec = configured.get(variant["VariantName"], {})
        instance_type = spec.get("InstanceType")
        variant_count = int(
            variant.get("CurrentInstanceCount", spec.get("InitialInstanceCount", 0))
        )
        count += variant_count
        if instance_type and instance_type not in types:
            types.append(instance_type)
        variant_cost = d.hourly(instance_type, variant_count)
        cost = None if cost is None or variant_cost is None else cost + variant_cost
    return ",".join(types) or None, count, cost


def _discover_endpoints(d: Discovery, sm: Any) -> Iterator[Resource]:
    for item in d.pages(sm, "list_endpoints", "Endpoints"):
        name, arn, status = item["EndpointName"], item["EndpointArn"], item["EndpointStatus"]
        if status == "Deleting":
            continue
        tags = _tags(d, sm, arn)
        reason = d.scope.reason(name, tags)
        if reason is None or owned_by_stack(tags):
            continue
        d.found.add(name)
        instance_type, count, cost = _endpoint_instances(d, sm, name)
        yield Resource(
            "endpoint",
            name,
            reason,
            arn=arn,
            state=status,
            instance_type=instance_type,
            instance_count=count,
            hourly_usd=cost,
        )


def _delete_endpoint(r: Removal, sm: Any, resource: Resource) -> tuple[str, str]:
    # A scalable target outlives its endpoint and keeps scaling policies and alarms around.
    autoscaling = r.clients.get(AUTOSCALING)
    variant_prefix = f"endpoint/{resource.name}/variant/"
    targets = [
        target
        for target in r.pages(
            autoscaling,
            "describe_scalable_targets",
            "ScalableTargets",
            ServiceNamespace="sagemaker",
        )
        if target["ResourceId"].startswith(variant_prefix)
    ]
    for target in targets:
        try:
            r.call(
                autoscaling.deregister_scalable_target,
                ServiceNamespace="sagemaker",
                ResourceId=target["ResourceId"],
                ScalableDimension=target["ScalableDimension"],
            )
        except ClientError as error:
            if not is_not_found(error):
                raise
    r.call(sm.delete_endpoint, EndpointName=resource.name)
    detail = f"deregistered {len(targets)} scalable target(s)" if targets else ""
    return DELETED, detail


def _simple_kind(kind: str, noun: str, list_key: str) -> Kind:
    """A SageMaker kind listed by ``list_<noun>s`` and deleted by name, unless a stack owns it."""
    snake = _snake(noun)

    def discover(d: Discovery, sm: Any) -> Iterator[Resource]:
        for item in d.pages(sm, f"list_{snake}s", list_key):
            name, arn = item[f"{noun}Name"], item[f"{noun}Arn"]
            tags = _tags(d, sm, arn)
            reason = d.scope.reason(name, tags)
            if reason and not owned_by_stack(tags):
                yield Resource(kind, name, reason, arn=arn)

    def remove(r: Removal, sm: Any, resource: Resource) -> tuple[str, str]:
        r.call(getattr(sm, f"delete_{snake}"), **{f"{noun}Name": resource.name})
        return DELETED, ""

    return Kind(kind, SAGEMAKER, "delete", discover, remove)


MONITORING_SCHEDULE = Kind(
    "monitoring-schedule", SAGEMAKER, "delete", _discover_schedules, _delete_schedule
)
ENDPOINT = Kind("endpoint", SAGEMAKER, "delete", _discover_endpoints, _delete_endpoint)
ENDPOINT_CONFIG = _simple_kind("endpoint-config", "EndpointConfig", "EndpointConfigs")
MODEL = _simple_kind("model", "Model", "Models")


# -- model registry: packages, then their groups ------------------------------------------------
def _package_groups(d: Discovery, sm: Any) -> list[tuple[dict[str, Any], dict[str, str]]]:
    return d.memo(
        "model-package-groups",
        lambda: [
            (item, _tags(d, sm, item["ModelPackageGroupArn"]))
            for item in d.pages(sm, "list_model_package_groups", "ModelPackageGroupSummaryList")
        ],
    )


def _discover_packages(d: Discovery, sm: Any) -> Iterator[Resource]:
    # A stack's group is in scope by name; the versions a pipeline registered in it are not the
    # stack's, and the group cannot be deleted while they exist.
    for group, group_tags in _package_groups(d, sm):
        group_name = group["ModelPackageGroupName"]
        reason = d.scope.reason(group_name, group_tags)
        if reason is None:
            continue
        packages = d.pages(
            sm,
            "list_model_packages",
            "ModelPackageSummaryList",
            ModelPackageGroupName=group_name,
        )
        for package in packages:
            if package.get("ModelPackageStatus") == "Deleting":
                continue
            arn = package["ModelPackageArn"]
            if owned_by_stack(_tags(d, sm, arn)):
                continue
            version = package.get("ModelPackageVersion", arn.rsplit("/", 1)[-1])
            yield Resource(
                "model-package",
                f"{group_name}/{version}",
                f"group {group_name}: {reason}",
                arn=arn,
                state=package.get("ModelApprovalStatus", ""),
            )


def _delete_package(r: Removal, sm: Any, resource: Resource) -> tuple[str, str]:
    r.call(sm.delete_model_package, ModelPackageName=resource.arn)
    return DELETED, ""


def _discover_groups(d: Discovery, sm: Any) -> Iterator[Resource]:
    for group, tags in _package_groups(d, sm):
        name = group["ModelPackageGroupName"]
        reason = d.scope.reason(name, tags)
        if (
            reason
            and not owned_by_stack(tags)
            and group.get("ModelPackageGroupStatus") != "Deleting"
        ):
            yield Resource("model-package-group", name, reason, arn=group["ModelPackageGroupArn"])


def _delete_group(r: Removal, sm: Any, resource: Resource) -> tuple[str, str]:
    r.call(sm.delete_model_package_group, ModelPackageGroupName=resource.name)
    return DELETED, ""


MODEL_PACKAGE = Kind("model-package", SAGEMAKER, "delete", _discover_packages, _delete_package)
MODEL_PACKAGE_GROUP = Kind(
    "model-package-group", SAGEMAKER, "delete", _discover_groups, _delete_group
)


# -- Studio: apps → spaces → user profiles (the domain is a stack's) ----------------------------
def _domains(d: Discovery, sm: Any) -> list[tuple[str, str, str | None]]:
    """(domain id, domain name, why its contents are in scope or None)."""

    def listing() -> list[tuple[str, str, str | None]]:
        domains = []
        for item in d.pages(sm, "list_domains", "Domains"):
            reason = d.scope.reason(item["DomainName"], _tags(d, sm, item["DomainArn"]))
            domains.append(
                (
                    item["DomainId"],
                    item["DomainName"],
                    reason and f"domain {item['DomainName']}: {reason}",
                )
            )
        return domains

    return d.memo("domains", listing)


def _owner(app: dict[str, Any]) -> tuple[str, str]:
    """("UserProfileName" or "SpaceName", its value): the argument DeleteApp needs."""
    if app.get("SpaceName"):
        return "SpaceName", app["SpaceName"]
    return "UserProfileName", app.get("UserProfileName", "")


def _discover_apps(d: Discovery, sm: Any) -> Iterator[Resource]:
    for domain_id, _, domain_reason in _domains(d, sm):
        for app in d.pages(sm, "list_apps", "Apps", DomainIdEquals=domain_id):
            if app.get("Status") in {"Deleted", "Deleting"}:
                continue
            owner_field, owner = _owner(app)
            reason = domain_reason or d.scope.reason(owner)
            if reason is None:
                continue
            instance_type = app.get("ResourceSpec", {}).get("InstanceType")
            yield Resource(
                "studio-app",
                f"{domain_id}/{owner}/{app['AppType']}/{app['AppName']}",
                reason,
                state=app.get("Status", ""),
                instance_type=instance_type,
                instance_count=1 if instance_type else 0,
                hourly_usd=d.hourly(instance_type, 1) if instance_type else 0.0,
                ids={
                    "DomainId": domain_id,
                    "AppType": app["AppType"],
                    "AppName": app["AppName"],
                    owner_field: owner,
                },
            )


def _delete_app(r: Removal, sm: Any, resource: Resource) -> tuple[str, str]:
    r.call(sm.delete_app, **resource.ids)
    return DELETED, "deletion started"


def _unfinished_apps(calls: Calls, sm: Any, domain_id: str, **owner: str) -> list[dict[str, Any]]:
    apps = calls.pages(sm, "list_apps", "Apps", DomainIdEquals=domain_id, **owner)
    return [app for app in apps if app.get("Status") not in FINISHED_APP_STATES]


def _discover_domain_members(
    d: Discovery, sm: Any, kind: str, noun: str, member: str
) -> Iterator[Resource]:
    """A domain's spaces or user profiles (``noun`` "Space" / "UserProfile"), in scope and not
    the stacks' own; ``member`` is the SageMaker API's snake-case name of the noun."""
    name_key = f"{noun}Name"
    for domain_id, _, domain_reason in _domains(d, sm):
        for item in d.pages(sm, f"list_{member}s", f"{noun}s", DomainIdEquals=domain_id):
            if item.get("Status") == "Deleting":
                continue
            name = item[name_key]
            described = d.call(
                getattr(sm, f"describe_{member}"), DomainId=domain_id, **{name_key: name}
            )
            arn = described.get(f"{noun}Arn", "")
            tags = _tags(d, sm, arn) if arn else {}
            reason = domain_reason or d.scope.reason(name, tags)
            if reason and not owned_by_stack(tags):
                yield Resource(
                    kind,
                    f"{domain_id}/{name}",
                    reason,
                    arn=arn,
                    state=item.get("Status", ""),
                    ids={"DomainId": domain_id, name_key: name},
                )


def _discover_spaces(d: Discovery, sm: Any) -> Iterator[Resource]:
    return _discover_domain_members(d, sm, "studio-space", "Space", "space")


def _delete_space(r: Removal, sm: Any, resource: Resource) -> tuple[str, str]:
    domain_id, name = resource.ids["DomainId"], resource.ids["SpaceName"]
    if not r.wait_until(lambda: not _unfinished_apps(r, sm, domain_id, SpaceNameEquals=name)):
        return PENDING, "its apps are still being deleted; the next run deletes it"
    r.call(sm.delete_space, DomainId=domain_id, SpaceName=name)
    return DELETED, ""


def _discover_profiles(d: Discovery, sm: Any) -> Iterator[Resource]:
    return _discover_domain_members(d, sm, "user-profile", "UserProfile", "user_profile")


def _owned_spaces(calls: Calls, sm: Any, domain_id: str, profile: str) -> list[dict[str, Any]]:
    spaces = calls.pages(sm, "list_spaces", "Spaces", DomainIdEquals=domain_id)
    return [
        space
        for space in spaces
        if space.get("OwnershipSettingsSummary", {}).get("OwnerUserProfileName") == profile
    ]


def _delete_profile(r: Removal, sm: Any, resource: Resource) -> tuple[str, str]:
    domain_id, name = resource.ids["DomainId"], resource.ids["UserProfileName"]

    def unblocked() -> bool:
        return not _unfinished_apps(
            r, sm, domain_id, UserProfileNameEquals=name
        ) and not _owned_spaces(r, sm, domain_id, name)

    if not r.wait_until(unblocked):
        return PENDING, "its apps or spaces are still being deleted; the next run deletes it"
    r.call(sm.delete_user_profile, DomainId=domain_id, UserProfileName=name)
    return DELETED, ""


STUDIO_APP = Kind("studio-app", SAGEMAKER, "delete", _discover_apps, _delete_app)
STUDIO_SPACE = Kind("studio-space", SAGEMAKER, "delete", _discover_spaces, _delete_space)
USER_PROFILE = Kind("user-profile", SAGEMAKER, "delete", _discover_profiles, _delete_profile)


# -- notebook instances: stop, wait (bounded), delete --------------------------------------------
def _discover_notebooks(d: Discovery, sm: Any) -> Iterator[Resource]:
    for item in d.pages(sm, "list_notebook_instances", "NotebookInstances"):
        name, arn = item["NotebookInstanceName"], item["NotebookInstanceArn"]
        status = item.get("NotebookInstanceStatus", "")
        if status == "Deleting":
            continue
        tags = _tags(d, sm, arn)
        reason = d.scope.reason(name, tags)
        if reason is None or owned_by_stack(tags):
            continue
        d.found.add(name)
        instance_type = item.get("InstanceType")
        running = 1 if status in NOTEBOOK_RUNNING_STATES else 0
        yield Resource(
            "notebook-instance",
            name,
            reason,
            arn=arn,
            state=status,
            instance_type=instance_type,
            instance_count=running,
            hourly_usd=d.hourly(instance_type, running) if running else 0.0,
        )


def _delete_notebook(r: Removal, sm: Any, resource: Resource) -> tuple[str, str]:
    def status() -> str:
        described = r.call(sm.describe_notebook_instance, NotebookInstanceName=resource.name)
        return described["NotebookInstanceStatus"]

    current = status()
    if current == "Deleting":
        return GONE, "already deleting"
    if current == "Stopping":
        return PENDING, "stopping; the next run deletes it"
    if current in {"Pending", "Updating"}:
        return PENDING, f"{current}: it can be stopped once InService; the next run does it"
    if current == "InService":
        r.call(sm.stop_notebook_instance, NotebookInstanceName=resource.name)
        if not r.wait_until(lambda: status() in {"Stopped", "Failed"}):
            return PENDING, "stop requested; the next run deletes it"
    r.call(sm.delete_notebook_instance, NotebookInstanceName=resource.name)
    return DELETED, ""


NOTEBOOK_INSTANCE = Kind(
    "notebook-instance", SAGEMAKER, "stop, then delete", _discover_notebooks, _delete_notebook
)
