"""An hourly census of the workshop's endpoints, published as CloudWatch metrics.

SageMaker publishes per-endpoint metrics but no count of endpoints in service, and a forgotten
endpoint is the most expensive thing a workshop leaves behind. The guardrails stack alarms on:

    <namespace> EndpointsInService   endpoints in service in the workshop's scope (stack-owned too)
    <namespace> EndpointInstances    their instances, summed over variants; its Sum over a day of
                                     hourly samples is the day's endpoint instance-hours

Scope as the janitor's: names starting with ``<prefix>-`` or the tag ``workshop=<prefix>``.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import boto3

NAMESPACE = "Workshop"


@dataclass(frozen=True)
class Census:
    endpoints: tuple[str, ...]
    instances: int

    def metric_data(self, prefix: str) -> list[dict[str, Any]]:
        dimensions = [{"Name": "Workshop", "Value": prefix}]
        return [
            {"MetricName": "EndpointsInService", "Dimensions": dimensions,
             "Value": len(self.endpoints), "Unit": "Count"},
            {"MetricName": "EndpointInstances", "Dimensions": dimensions,
             "Value": self.instances, "Unit": "Count"},
        ]  # fmt: skip


def in_scope(sagemaker: Any, endpoint: Mapping[str, Any], prefix: str) -> bool:
    if endpoint["EndpointName"].startswith(f"{prefix}-"):
        return True
    tags = sagemaker.list_tags(ResourceArn=endpoint["EndpointArn"]).get("Tags", [])
    return {"Key": "workshop", "Value": prefix} in tags


def take_census(sagemaker: Any, prefix: str) -> Census:
    """Endpoints in service in scope and their current instance count."""
    names, instances = [], 0
    for page in sagemaker.get_paginator("list_endpoints").paginate(StatusEquals="InService"):
        for endpoint in page["Endpoints"]:
            if not in_scope(sagemaker, endpoint, prefix):
                continue
            described = sagemaker.describe_endpoint(EndpointName=endpoint["EndpointName"])
            names.append(endpoint["EndpointName"])
            instances += sum(
                variant.get("CurrentInstanceCount", 0)
                for variant in described.get("ProductionVariants", [])
            )
    return Census(tuple(sorted(names)), instances)


def handler(event: Any, context: Any, *, session: Any = None) -> dict[str, Any]:
    """Scheduled hourly: count, publish, and return what was counted."""
    prefix = os.environ["WORKSHOP_PREFIX"]
    session = session or boto3.Session()
    census = take_census(session.client("sagemaker"), prefix)
    session.client("cloudwatch").put_metric_data(
        Namespace=NAMESPACE, MetricData=census.metric_data(prefix)
    )
    return {"endpoints": list(census.endpoints), "instances": census.instances}
