"""The one module that reads moto's in-process state directly (what no API call answers
cheaply, e.g. a resource's tags for an IAM condition) or changes what moto cannot be asked to
change (an endpoint's status while its servers start). Pinned to moto's version in
requirements-dev.txt; tests/emulator covers each reader and writer."""

from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import Any

SCALABLE_TARGET = ":scalable-target/"


def _sagemaker(account: str, region: str):
    from moto.sagemaker.models import sagemaker_backends

    return sagemaker_backends[account][region]


def _autoscaling(account: str, region: str):
    from moto.applicationautoscaling.models import applicationautoscaling_backends

    return applicationautoscaling_backends[account][region]


def tags_of(arn: str, account: str, region: str) -> Mapping[str, str]:
    """Tags of a SageMaker resource, an ECR repository or an Application Auto Scaling target;
    {} otherwise (or when it is gone)."""
    if arn.startswith("arn:aws:sagemaker:"):
        backend = _sagemaker(account, region)
        package = backend.model_packages.get(arn)
        if package is not None:  # moto's list_tags cannot parse a versioned package's ARN
            return {tag["Key"]: tag["Value"] for tag in package.tags or []}
        try:
            return {tag["Key"]: tag["Value"] for tag in backend.list_tags(arn, None, None)[0]}
        except Exception:  # not (or no longer) there: no tags
            return {}
    if arn.startswith("arn:aws:ecr:") and ":repository/" in arn:
        from moto.ecr.models import ecr_backends

        try:
            found = ecr_backends[account][region].list_tags_for_resource(arn)
        except Exception:  # not (or no longer) there
            return {}
        return {tag["Key"]: tag["Value"] for tag in found.get("tags", [])}
    if arn.startswith("arn:aws:application-autoscaling:") and SCALABLE_TARGET in arn:
        target = _scalable_target(arn.partition(SCALABLE_TARGET)[2], account, region)
        return dict(getattr(target, "emulated_tags", {})) if target else {}
    return {}


def _workgroup_name(workgroup) -> str:
    return getattr(workgroup, "name", None) or str(workgroup or "primary")


def names_from_state(
    service: str, operation: str, params: Mapping, account: str, region: str
) -> list[dict]:
    """ARN variables a request names only by an id the service minted: one dict per resource
    (Athena's query executions and named queries belong to a workgroup; a model package created
    in a group is ``<group>/<the next version>``, the version the registry will give it)."""
    if service == "sagemaker" and operation == "CreateModelPackage":
        return _next_model_package(params, account, region)
    if service != "athena":
        return []
    from moto.athena.models import athena_backends

    backend = athena_backends[account][region]
    ids = [
        params[k] for k in ("QueryExecutionId", "NamedQueryId") if isinstance(params.get(k), str)
    ]
    ids += [i for k in ("QueryExecutionIds", "NamedQueryIds") for i in params.get(k) or []]
    found = []
    for identifier in ids:
        owner = backend.executions.get(identifier) or backend.named_queries.get(identifier)
        if owner is not None:
            found.append({"WorkGroupName": _workgroup_name(owner.workgroup)})
    return [dict(t) for t in {tuple(d.items()) for d in found}]


def _next_model_package(params: Mapping, account: str, region: str) -> list[dict]:
    group = params.get("ModelPackageGroupName")
    if not isinstance(group, str) or "/" in group or ":" in group:
        return []  # an unversioned package (its own name), or a group named by ARN

    return [{"ModelPackageName": f"{group}/{_last_version(group, account, region) + 1}"}]


# The highest version each group ever issued (by account, region, group): SageMaker never gives
# a deleted package's version again ("Model groups and versions": versions increase by one per
# registration), while moto numbers a new package len(group) + 1.
_issued_versions: dict[tuple[str, str, str], int] = {}


def _last_version(group: str, account: str, region: str) -> int:
    from moto.sagemaker.models import sagemaker_backends

    packages = sagemaker_backends[account][region].model_packages.values()
    versions = [p.model_package_version or 0 for p in packages
                if p.model_package_group_name == group]  # fmt: skip
    return max([*versions, _issued_versions.get((account, region, group), 0)])


def forget_issued_versions() -> None:
    """With moto's state reset, no version was ever issued."""
    _issued_versions.clear()


def never_reused_version(arn: str, account: str, region: str) -> str:
    """The ARN of the package moto just registered as ``arn``, renumbered past every version
    its group ever issued when moto reused a deleted package's version."""
    packages = _sagemaker(account, region).model_packages
    package = packages.get(arn)
    if package is None or not package.model_package_version:
        return arn
    group = package.model_package_group_name
    key = (account, region, group)
    issued = _issued_versions.get(key, 0)
    if package.model_package_version > issued:
        _issued_versions[key] = package.model_package_version
        return arn
    version = issued + 1
    renumbered = f"{arn.rsplit('/', 1)[0]}/{version}"
    del packages[arn]
    package.model_package_version, package.arn = version, renumbered
    packages[renumbered] = package
    _issued_versions[key] = version
    return renumbered


def named_queries(ids: list[str], account: str, region: str) -> tuple[list[dict], list[str]]:
    """BatchGetNamedQuery's answer (moto stores named queries but has no batch read)."""
    from moto.athena.models import athena_backends

    backend = athena_backends[account][region]
    found, missing = [], []
    for identifier in ids:
        query = backend.named_queries.get(identifier)
        if query is None:
            missing.append(identifier)
            continue
        found.append(
            {
                "Name": query.name,
                "Description": query.description,
                "Database": query.database,
                "QueryString": query.query_string,
                "NamedQueryId": query.id,
                "WorkGroup": _workgroup_name(query.workgroup),
            }
        )
    return found, missing


# -- Application Auto Scaling -------------------------------------------------------------------
def _scalable_target(identifier: str, account: str, region: str):
    """A target by its ARN's id or by its resource id (the gate fills the ARN from the request's
    ``ResourceId``, the only name of the target a request carries)."""
    for targets in _autoscaling(account, region).targets.values():
        for target in targets.values():
            if identifier in (target.arn.partition(SCALABLE_TARGET)[2], target.resource_id):
                return target
    return None


def tag_scalable_target(
    account: str, region: str, resource_id: str, dimension: str, tags: Mapping[str, str]
) -> None:
    """Keep a target's tags (moto 5.2 drops RegisterScalableTarget's ``Tags``)."""
    target = _autoscaling(account, region).targets.get(dimension, {}).get(resource_id)
    if target is not None:
        target.emulated_tags = {**getattr(target, "emulated_tags", {}), **tags}


# -- SageMaker hosting --------------------------------------------------------------------------
def model(account: str, region: str, name: str) -> dict[str, Any] | None:
    """CreateModel's request as moto keeps it: ExecutionRoleArn, PrimaryContainer, Containers."""
    found = _sagemaker(account, region)._models.get(name)
    if found is None:
        return None
    return {
        "ModelName": found.model_name,
        "ModelArn": found.arn,
        "ExecutionRoleArn": found.execution_role_arn,
        "PrimaryContainer": dict(found.primary_container or {}),
        "Containers": list(found.containers or []),
    }


def endpoint_config(account: str, region: str, name: str) -> dict[str, Any] | None:
    """CreateEndpointConfig's request as moto keeps it."""
    found = _sagemaker(account, region).endpoint_configs.get(name)
    if found is None:
        return None
    return {
        "EndpointConfigName": found.endpoint_config_name,
        "ProductionVariants": [dict(v) for v in found.production_variants],
        "DataCaptureConfig": dict(found.data_capture_config or {}),
        "KmsKeyId": found.kms_key_id,
    }


def endpoint_status(account: str, region: str, name: str) -> str | None:
    found = _sagemaker(account, region).endpoints.get(name)
    return found.endpoint_status if found is not None else None


_KEEP: Any = object()


def set_endpoint(
    account: str,
    region: str,
    name: str,
    *,
    status: str = _KEEP,
    failure_reason: str | None = _KEEP,
    variants: list[dict[str, Any]] = _KEEP,
    config_name: str = _KEEP,
    capture_summary: dict[str, Any] | None = _KEEP,
) -> None:
    """Change what DescribeEndpoint answers (only the arguments given)."""
    found = _sagemaker(account, region).endpoints.get(name)
    if found is None:
        return
    if status is not _KEEP:
        found.endpoint_status = status
    if failure_reason is not _KEEP:
        found.failure_reason = failure_reason
    if variants is not _KEEP:
        found.production_variants = variants
    if config_name is not _KEEP:
        found.endpoint_config_name = config_name
    if capture_summary is not _KEEP:
        # DescribeEndpoint's DataCaptureConfig is a DataCaptureConfigSummary, not the config.
        found.data_capture_config = capture_summary
    found.last_modified_time = _now()


def set_transform_job(
    account: str,
    region: str,
    name: str,
    *,
    status: str,
    failure_reason: str | None = None,
    started: bool = False,
    ended: bool = False,
) -> None:
    """Change what DescribeTransformJob answers: status, failure reason, start and end time."""
    found = _sagemaker(account, region).transform_jobs.get(name)
    if found is None:
        return
    found.transform_job_status = status
    found.failure_reason = failure_reason
    now = _now()
    if started:
        found.transform_start_time = now
        found.transform_end_time = None
    if ended:
        found.transform_end_time = now
    found.last_modified_time = now


def _now() -> datetime.datetime:
    from moto.core.utils import utcnow

    return utcnow()


def endpoint(account: str, region: str, name: str) -> dict[str, Any] | None:
    """What DescribeEndpoint answers now (its variants as copies, to change and set back)."""
    found = _sagemaker(account, region).endpoints.get(name)
    if found is None:
        return None
    return {
        "EndpointName": found.endpoint_name,
        "EndpointConfigName": found.endpoint_config_name,
        "EndpointStatus": found.endpoint_status,
        "ProductionVariants": [dict(v) for v in found.production_variants or []],
    }


def transform_job_exists(account: str, region: str, name: str) -> bool:
    return name in _sagemaker(account, region).transform_jobs


def model_package_tags(arn: str, account: str, region: str) -> list[dict] | None:
    """A registered model package's tags (None: no such package)."""
    package = _sagemaker(account, region).model_packages.get(arn)
    return None if package is None else list(package.tags or [])


def delete_model_package(name_or_arn: str, account: str, region: str) -> bool:
    """Forget a model package given by ARN or (unversioned) name; False if there is none."""
    packages = _sagemaker(account, region).model_packages
    for arn, package in list(packages.items()):
        if name_or_arn in (arn, package.model_package_name):
            if package.model_package_version:
                key = (account, region, package.model_package_group_name)
                last = max(_issued_versions.get(key, 0), package.model_package_version)
                _issued_versions[key] = last
            del packages[arn]
            return True
    return False


def event_pattern_matches(pattern: str, event: Mapping) -> bool:
    """Whether an EventBridge event pattern (JSON text) matches ``event``: moto's matcher of
    EventBridge's content filtering (exact values, prefix, anything-but, numeric, exists)."""
    from moto.events.models import EventPattern

    return EventPattern.load(pattern).matches_event(dict(event))
