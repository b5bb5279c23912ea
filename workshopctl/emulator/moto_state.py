"""The one module that reads moto's in-process state directly (what no API call answers
cheaply, e.g. a resource's tags for an IAM condition). Pinned to moto's version in
requirements-dev.txt; tests/emulator covers each reader."""

from __future__ import annotations

from collections.abc import Mapping


def tags_of(arn: str, account: str, region: str) -> Mapping[str, str]:
    """Tags of a SageMaker resource or an Application Auto Scaling target; {} otherwise."""
    from moto.sagemaker.models import sagemaker_backends

    if arn.startswith("arn:aws:sagemaker:"):
        backend = sagemaker_backends[account][region]
        try:
            return {tag["Key"]: tag["Value"] for tag in backend.list_tags(arn, None, None)[0]}
        except Exception:  # not (or no longer) there: no tags
            return {}
    return {}


def _workgroup_name(workgroup) -> str:
    return getattr(workgroup, "name", None) or str(workgroup or "primary")


def names_from_state(service: str, params: Mapping, account: str, region: str) -> list[dict]:
    """ARN variables a request names only by an id the service minted: one dict per resource
    (Athena's query executions and named queries belong to a workgroup)."""
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
