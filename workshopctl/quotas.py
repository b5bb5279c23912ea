"""What the workshop needs of each AWS service quota, computed from the config and quotas.yaml.

``needs(config)`` answers "which quotas does this workshop consume, and how much of each"; the
deploy stops early on the ones ``cdk deploy`` itself consumes, and the organiser's preflight
lists them all. The quotas, their consumers and the rules live in ``quotas.yaml`` (data, each
entry citing its AWS page); this module only evaluates them.

Pure Python: no CDK, no boto3. The one figure that comes from the synthesized app (Lambda
reserved concurrency) is read from ``cdk.out`` when the caller passes it, never re-derived.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from workshop_spec.config import WorkshopConfig

QUOTAS_FILE = Path(__file__).with_name("quotas.yaml")
# Lambda keeps this many executions unreserved: reserving R needs an account quota of R + this.
LAMBDA_UNRESERVED_MINIMUM = 100
# The serving stack's endpoints: the A/B endpoint's two variants and the BYOM endpoint's one.
AB_ENDPOINT_VARIANTS = 2
BYOM_ENDPOINT_VARIANTS = 1


@dataclass(frozen=True)
class QuotaNeed:
    """How much of one quota the workshop needs.

    ``quota_code`` is None where no code is confirmed: look the quota up by ``quota_name``
    (ListServiceQuotas). ``need`` is the peak of every use; ``deploy_need`` the part that
    ``cdk deploy`` itself consumes (0: only pipeline runs and labs use it).
    """

    service_code: str
    quota_code: str | None
    quota_name: str
    need: int
    why: str
    deploy_need: int = 0
    doc: str = ""


@dataclass(frozen=True)
class NeedContext:
    """What a need rule may read: the config and, when given, the synthesized app."""

    config: WorkshopConfig
    cloud_assembly: Path | None


def needs(config: WorkshopConfig, cloud_assembly: Path | None = None) -> list[QuotaNeed]:
    """Every quota this workshop consumes, with the amount and why, in quotas.yaml's order.

    ``cloud_assembly`` (``cdk.out``) lets the Lambda entry count the functions' reserved
    concurrency; without it that entry says the reservations were not counted. Quotas with no
    use under this config (e.g. CodeBuild with ``model_image.build=docker``) are left out.
    """
    context = NeedContext(config, cloud_assembly)
    result = []
    for quota in load_quota_data():
        counted = [use for use in quota["uses"] if _applies(use.get("when") or {}, config)]
        if not counted:
            continue
        amounts = [(use, _amount(use["need"], context)) for use in counted]
        name = _fill(quota["quota_name"], config)
        result.append(
            QuotaNeed(
                service_code=quota["service_code"],
                quota_code=quota.get("quota_code") or (quota.get("codes_by_name") or {}).get(name),
                quota_name=name,
                need=sum(amount for _, amount in amounts),
                why="; ".join(_explain(use, amount, context) for use, amount in amounts),
                deploy_need=sum(amount for use, amount in amounts if use["at_deploy"]),
                doc=quota["doc"],
            )
        )
    return result


def load_quota_data(path: Path = QUOTAS_FILE) -> list[dict[str, Any]]:
    """The quota entries of quotas.yaml (see its header for the fields)."""
    return yaml.safe_load(path.read_text())["quotas"]


def reserved_concurrency_in(cloud_assembly: Path) -> int:
    """The sum of ReservedConcurrentExecutions over every Lambda function in ``cdk.out``."""
    total = 0
    for template_file in sorted(Path(cloud_assembly).glob("*.template.json")):
        resources = json.loads(template_file.read_text()).get("Resources", {})
        for resource in resources.values():
            if resource.get("Type") == "AWS::Lambda::Function":
                total += int(resource.get("Properties", {}).get("ReservedConcurrentExecutions", 0))
    return total


# -- evaluating the data file ------------------------------------------------------------------
def config_value(config: WorkshopConfig, dotted_key: str) -> Any:
    """The config's value at ``a.b.c`` (the same dotted keys as ``-c a.b.c=...``)."""
    value: Any = config
    for part in dotted_key.split("."):
        value = getattr(value, part)
    return value


def _applies(when: Mapping[str, Any], config: WorkshopConfig) -> bool:
    return all(config_value(config, key) == wanted for key, wanted in when.items())


def _fill(template: str, config: WorkshopConfig) -> str:
    # "{instance_types.notebook} for ..." → "ml.m5.xlarge for ..."
    for key in ("notebook", "processing", "training", "endpoint"):
        template = template.replace(
            f"{{instance_types.{key}}}", config_value(config, f"instance_types.{key}")
        )
    return template


def _amount(need: Mapping[str, Any], context: NeedContext) -> int:
    (kind, argument), *rest = need.items()
    if rest:
        raise ValueError(f"quotas.yaml: a need has one kind, not {list(need)}")
    config = context.config
    if kind == "fixed":
        return int(argument)
    if kind == "per_attendee":
        per = argument if isinstance(argument, int) else config_value(config, argument)
        return len(config.attendee_names) * int(per)
    if kind == "config":
        return int(config_value(config, argument))
    if kind == "rule":
        return RULES[argument](context)
    raise ValueError(f"quotas.yaml: unknown need kind {kind!r}")


def _explain(use: Mapping[str, Any], amount: int, context: NeedContext) -> str:
    why = " ".join(str(use["why"]).split())
    if use["need"].get("rule") == "lambda_reserved_concurrency" and context.cloud_assembly is None:
        why += " (no cloud assembly given: reservations not counted)"
    return f"{amount} for {' '.join(str(use['consumer']).split())}: {why}"


# -- rules too specific for the data file's need kinds -----------------------------------------
def _serving_instance_variants(config: WorkshopConfig) -> int:
    serverless = config.serving.byom_serverless  # a serverless variant has no instances
    return AB_ENDPOINT_VARIANTS + (0 if serverless else BYOM_ENDPOINT_VARIANTS)


def _serving_endpoint_initial_instances(context: NeedContext) -> int:
    serving = context.config.serving
    return _serving_instance_variants(context.config) * serving.initial_instance_count


def _serving_endpoint_scale_out(context: NeedContext) -> int:
    serving = context.config.serving
    extra = serving.max_instances - serving.initial_instance_count
    return _serving_instance_variants(context.config) * extra


def _lambda_reserved_concurrency(context: NeedContext) -> int:
    if context.cloud_assembly is None:
        return 0
    reserved = reserved_concurrency_in(context.cloud_assembly)
    return reserved + LAMBDA_UNRESERVED_MINIMUM if reserved else 0


RULES: dict[str, Callable[[NeedContext], int]] = {
    "serving_endpoint_initial_instances": _serving_endpoint_initial_instances,
    "serving_endpoint_scale_out": _serving_endpoint_scale_out,
    "lambda_reserved_concurrency": _lambda_reserved_concurrency,
}
