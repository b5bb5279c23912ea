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
