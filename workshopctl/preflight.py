"""``workshopctl preflight`` (what ``make preflight`` runs): what the event needs against what the
account has, as one table with a verdict per line, weeks before the event.

The lines, in order:
  1. every service quota of ``quotas.yaml`` the config consumes (deploy, pipelines and labs at
     their peak): the need against the account's value. A per-instance-type quota missing from
     the region's list means the region does not offer that type for that use;
  2. the region offers each service the config uses (botocore's endpoint data) and, on an AL2023
     notebook platform, the notebook's instance family;
  3. the CDK bootstrap, the ``workshop`` cost-allocation tag (both read live only);
  4. the platforms of ``platforms.yaml`` inside their support dates (warning 90 days ahead).

Read-only unless asked: ``--request`` files an increase for each short quota
(RequestServiceQuotaIncrease), ``--fix`` activates the cost-allocation tag
(UpdateCostAllocationTagsStatus); both print what they did. ``--offline QUOTAS.json`` reads the
quota values from a file in the shape of ``aws service-quotas list-service-quotas`` output, so an
organiser can plan on paper. Exit code 1 when any line fails, 2 when it cannot run.

The checks are pure functions of data (the config, the quota answer, a bootstrap version, a tag
status, a date); the boto3 lookups that gather that data live apart, at the end of the module.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date
from pathlib import Path
from typing import Any

import boto3
from botocore.exceptions import BotoCoreError, ClientError

from workshop_spec import platforms
from workshop_spec.config import PROJECT_ROOT, WorkshopConfig, load_project_config
from workshopctl.account_checks import (
    MINIMUM_BOOTSTRAP_VERSION,
    AccountCheckFailed,
    bootstrap_version,
    caller_account,
)
from workshopctl.cli_options import add_account_options, context_overrides
from workshopctl.quotas import QuotaNeed, needs

CDK_OUT = PROJECT_ROOT / "cdk.out"
OK, WARN, FAIL, SKIP = "ok", "WARN", "FAIL", "skip"
# Cost Explorer is a global service answered in us-east-1 (aws partition).
COST_EXPLORER_REGION = "us-east-1"
# "ml.m5.xlarge for training job usage": a quota that exists per instance type and use.
_PER_INSTANCE_TYPE = re.compile(r"^(ml\.[a-z0-9]+\.[a-z0-9]+) for (.+?) usage$")
# What to say, per service, besides "request more", when a quota is short.
WORKAROUNDS = {"codebuild": "or deploy with `-c model_image.build=docker`"}


@dataclass(frozen=True)
class Line:
    """One row of the table. ``increase`` is (service, quota code, value) for ``--request``."""

    check: str
    need: str
    have: str
    verdict: str
    todo: str = ""
    increase: tuple[str, str, float] | None = None


@dataclass(frozen=True)
class QuotaAnswer:
    """The account's quotas in one region, as Service Quotas lists them.

    ``quotas`` are the ``Quotas`` entries of ListServiceQuotas (applied values) merged over
    ListAWSDefaultServiceQuotas (defaults), for each service the workshop uses; ``unreadable``
    names the services whose listing failed (a missing quota there proves nothing).
    """

    quotas: Sequence[Mapping[str, Any]]
    unreadable: Mapping[str, str] = field(default_factory=dict)

    @classmethod
    def from_document(cls, document: Mapping[str, Any]) -> QuotaAnswer:
        """From ``{"Quotas": [...]}``: one ListServiceQuotas answer, or several concatenated."""
        return cls(quotas=list(document.get("Quotas", [])))

    def find(self, service_code: str, quota_code: str | None, name: str) -> Mapping | None:
        """The quota by code where one is known, else by exact name, within its service."""
        for quota in self.quotas:
            if quota.get("ServiceCode") != service_code:
                continue
            if quota_code and quota.get("QuotaCode") == quota_code:
                return quota
            if not quota_code and quota.get("QuotaName") == name:
                return quota
        return None

    def region(self) -> str | None:
        """The region the answer is for, read from its quotas' ARNs."""
        for quota in self.quotas:
            parts = str(quota.get("QuotaArn", "")).split(":")
            if len(parts) > 3 and parts[3]:
                return parts[3]
        return None


# -- pure checks ------------------------------------------------------------------------------
def quota_line(need: QuotaNeed, answer: QuotaAnswer, region: str) -> Line:
    """The need of one quota against the account's value, with what to do when it is short."""
    check = need.quota_name
    if need.need <= 0:
        uncounted = "not counted" in need.why
        todo = "no cdk.out: reservations not counted (`make synth` first)" if uncounted else ""
        return Line(check, "0", "-", OK, todo)
    quota = answer.find(need.service_code, need.quota_code, need.quota_name)
    if quota is None:
        return _missing_quota_line(need, answer, region)
    value = float(quota["Value"])
    if value >= need.need:
        return Line(check, str(need.need), f"{value:g}", OK)
    code = need.quota_code or quota.get("QuotaCode")
    if quota.get("Adjustable") is False:
        todo = f"not adjustable: lower the config's need or use another region ({code})"
        return Line(check, str(need.need), f"{value:g}", FAIL, todo)
    todo = f"request >= {need.need} ({need.service_code} {code})"
    if need.service_code in WORKAROUNDS:
        todo += f", {WORKAROUNDS[need.service_code]}"
    increase = (need.service_code, code, float(need.need)) if code else None
    return Line(check, str(need.need), f"{value:g}", FAIL, todo, increase)


def _missing_quota_line(need: QuotaNeed, answer: QuotaAnswer, region: str) -> Line:
    """A quota the answer does not list: unreadable, not offered (per-type), or unknown."""
    check, amount = need.quota_name, str(need.need)
    if need.service_code in answer.unreadable:
        reason = answer.unreadable[need.service_code]
        return Line(check, amount, "unreadable", WARN, f"not checked: {reason}")
    per_type = _PER_INSTANCE_TYPE.match(need.quota_name)
    if per_type:
        # Service Quotas lists a per-type quota in every region that offers the type for that
        # use: its absence is how the region says "not offered".
        instance_type, use = per_type.groups()
        todo = f"{region} has no {use} quota for {instance_type}: choose another type or region"
        return Line(check, amount, f"not offered in {region}", FAIL, todo)
    todo = f"no such {need.service_code} quota in {region}: check it in the Service Quotas console"
    return Line(check, amount, "not listed", WARN, todo)


def services_used(config: WorkshopConfig) -> dict[str, str]:
    """The AWS services (botocore names) the config's stacks and labs call, with who calls it."""
    used = {
        "sagemaker": "notebooks, jobs, pipelines, endpoints",
        "comprehend": "module 4's sentiment lab",
        "glue": "the data lake's catalog and ETL",
        "athena": "the data lake's queries",
        "lambda": "the stacks' functions",
    }
    if config.model_image.build == "codebuild" and config.features.model_image:
        used["codebuild"] = "the model image's build"
    return used


def service_lines(
    services: Mapping[str, str], region: str, available_regions: Callable[[str], Iterable[str]]
) -> list[Line]:
    """One line per service: does the region offer it (per ``available_regions``)?"""
    lines = []
    for service, why in services.items():
        offered = region in set(available_regions(service))
        lines.append(
            Line(
                f"{region} offers {service} ({why})",
                "offered",
                "offered" if offered else "not offered",
                OK if offered else FAIL,
                "" if offered else f"choose a region with {service}, or drop what uses it",
            )
        )
    return lines


def notebook_family_line(config: WorkshopConfig, matrix: platforms.Matrix) -> Line | None:
    """The notebook's instance family against its platform's families (AL2023 drops some)."""
    if config.attendee_environment.environment != "notebook":
        return None
    platform = next(
        (
            p
            for p in matrix.of_kind("notebook-platform")
            if p.identifier == config.attendee_environment.platform
        ),
        None,
    )
    if platform is None:
        return None
    instance_type = config.instance_types.notebook
    family = ".".join(instance_type.split(".")[:2])  # ml.p3dn.24xlarge -> ml.p3dn
    refused = list(platform.implies.get("not_offered") or [])
    check = f"{platform.identifier} runs {instance_type}"
    if family in refused:
        return Line(
            check,
            "supported",
            f"{family} not supported",
            FAIL,
            f"{platform.identifier} does not support {', '.join(refused)}: choose another "
            "instance_types.notebook",
        )
    return Line(check, "supported", "supported", OK)


def bootstrap_line(version: int | None, account: str, region: str) -> Line:
    """The CDK bootstrap of the region: present and at least the version CDK v2 deploys into.

    A missing bootstrap fails the preflight although ``make deploy`` would run it: it creates
    IAM roles and a bucket, the step an organisation's SCPs most often refuse, so it is worth
    knowing weeks before the event.
    """
    check = f"CDK bootstrap in {account}/{region}"
    todo = f"`npx cdk bootstrap aws://{account}/{region}` (or `make deploy`, which runs it first)"
    if version is None:
        return Line(check, f"v{MINIMUM_BOOTSTRAP_VERSION}+", "none", FAIL, todo)
    if version < MINIMUM_BOOTSTRAP_VERSION:
        return Line(check, f"v{MINIMUM_BOOTSTRAP_VERSION}+", f"v{version}", FAIL, todo)
    return Line(check, f"v{MINIMUM_BOOTSTRAP_VERSION}+", f"v{version}", OK)


def tag_line(tag_key: str, status: str | None) -> Line:
    """The cost-allocation tag: Active, so Cost Explorer and the budget report per workshop.

    ``status`` is Cost Explorer's (Active/Inactive), or None when it does not know the key yet:
    a tag key appears there only once a tagged resource exists (after the first deploy).
    """
    check = f"cost-allocation tag '{tag_key}'"
    if status == "Active":
        return Line(check, "Active", "Active", OK)
    if status is None:
        return Line(
            check,
            "Active",
            "not seen yet",
            WARN,
            "Cost Explorer lists a tag after a resource carries it: after `make deploy`, run "
            "`make preflight PREFLIGHT_ARGS=--fix` (applies within 24 h)",
        )
    return Line(check, "Active", status, FAIL, "`--fix` activates it (applies within 24 h)")


def platform_lines(today: date, matrix: platforms.Matrix) -> list[Line]:
    """One line per platform in use: past its end fails, within 90 days warns."""
    lines = []
    ending = {p.key for p in matrix.ending_within(today, platforms.WARNING_DAYS)}
    for platform in matrix.in_use():
        end = platform.end_of_support
        check = f"platform {platform.key}"
        have = f"until {end.isoformat()}" if end else "no end published"
        need = f"supported {today.isoformat()}"
        if platform.is_retired(today):
            lines.append(Line(check, need, f"ended {end}", FAIL, f"port off it: {platform.page}"))
        elif platform.key in ending:
            days = (end - today).days if end else 0
            lines.append(Line(check, need, have, WARN, f"ends in {days} days: {platform.page}"))
        else:
            lines.append(Line(check, need, have, OK))
    return lines


def format_table(lines: Sequence[Line]) -> str:
    """The lines as an aligned table: check / need / have / verdict / what to do."""
    rows = [("check", "need", "have", "verdict", "what to do")]
    rows += [(line.check, line.need, line.have, line.verdict, line.todo) for line in lines]
    widths = [max(len(row[i]) for row in rows) for i in range(4)]
    text = [
        "  ".join(cell.ljust(width) for cell, width in zip(row[:4], widths, strict=True))
        + "  "
        + row[4]
        for row in rows
    ]
    return "\n".join(text_line.rstrip() for text_line in text)


def summary(lines: Sequence[Line]) -> str:
    counts = {verdict: sum(line.verdict == verdict for line in lines) for verdict in (FAIL, WARN)}
    if counts[FAIL]:
        return f"preflight failed: {counts[FAIL]} line(s) FAIL, {counts[WARN]} WARN"
    return f"preflight passed ({counts[WARN]} WARN)"


def exit_code(lines: Sequence[Line]) -> int:
    return 1 if any(line.verdict == FAIL for line in lines) else 0


@dataclass(frozen=True)
class Facts:
    """What the checks read about the account. Offline (``live`` False) only the quota answer
    is known; ``tag_read`` is False when Cost Explorer refused the lookup."""

    region: str
    answer: QuotaAnswer
    live: bool = False
    account: str | None = None
    bootstrap: int | None = None
    tag_status: str | None = None
    tag_read: bool = True


def preflight_lines(
    config: WorkshopConfig,
    facts: Facts,
    *,
    today: date,
    cloud_assembly: Path | None = None,
    available_regions: Callable[[str], Iterable[str]] | None = None,
    matrix: platforms.Matrix | None = None,
) -> list[Line]:
    """Every line of the table, from data only (tests feed the facts)."""
    matrix = matrix or platforms.matrix()
    available_regions = available_regions or botocore_regions
    lines = [quota_line(need, facts.answer, facts.region) for need in needs(config, cloud_assembly)]
    lines += service_lines(services_used(config), facts.region, available_regions)
    family = notebook_family_line(config, matrix)
    if family:
        lines.append(family)
    if not facts.live:
        lines.append(Line("CDK bootstrap", f"v{MINIMUM_BOOTSTRAP_VERSION}+", "-", SKIP, "offline"))
    else:
        lines.append(bootstrap_line(facts.bootstrap, facts.account or "?", facts.region))
    tag_key = next(iter(config.tags))
    if not (facts.live and facts.tag_read):
        todo = "Cost Explorer refused the lookup (see above)" if facts.live else "offline"
        lines.append(Line(f"cost-allocation tag '{tag_key}'", "Active", "-", SKIP, todo))
    else:
        lines.append(tag_line(tag_key, facts.tag_status))
    lines += platform_lines(today, matrix)
    return lines


# -- lookups (boto3) -------------------------------------------------------------------------
def botocore_regions(service: str, region: str | None = None) -> list[str]:
    """The regions botocore's bundled endpoint data lists for ``service``.

    This is botocore's view (as of the installed botocore), not a live answer: the live quota
    lookup confirms SageMaker per instance type, and a call to a service the region lacks fails.
    """
    partition = "aws-us-gov" if region and "-gov-" in region else "aws"
    return boto3.session.Session().get_available_regions(service, partition_name=partition)


def read_quota_answer(service_quotas: Any, service_codes: Iterable[str]) -> QuotaAnswer:
    """Every quota of these services: AWS's defaults, overlaid by the account's applied values."""
    quotas: dict[tuple[str, str], Mapping[str, Any]] = {}
    unreadable: dict[str, str] = {}
    for service in dict.fromkeys(service_codes):
        try:
            # Defaults first, applied values last: the account's value wins where both exist.
            for operation in ("list_aws_default_service_quotas", "list_service_quotas"):
                paginator = service_quotas.get_paginator(operation)
                for page in paginator.paginate(ServiceCode=service):
                    for quota in page.get("Quotas", []):
                        quotas[(service, quota["QuotaCode"])] = quota
        except (ClientError, BotoCoreError) as error:
            unreadable[service] = str(error)
    return QuotaAnswer(list(quotas.values()), unreadable)


def read_tag_status(cost_explorer: Any, tag_key: str) -> str | None:
    """Cost Explorer's status of the user-defined tag key, or None when it does not list it."""
    answer = cost_explorer.list_cost_allocation_tags(TagKeys=[tag_key], Type="UserDefined")
    for tag in answer.get("CostAllocationTags", []):
        if tag["TagKey"] == tag_key:
            return tag["Status"]
    return None


def request_increases(service_quotas: Any, lines: Sequence[Line]) -> list[str]:
    """``--request``: one RequestServiceQuotaIncrease per failing quota line; what happened."""
    done = []
    for line in lines:
        if line.verdict != FAIL or line.increase is None:
            continue
        service, code, value = line.increase
        try:
            answer = service_quotas.request_service_quota_increase(
                ServiceCode=service, QuotaCode=code, DesiredValue=value
            )
            change = answer["RequestedQuota"]
            done.append(
                f"requested {value:g} for '{line.check}' ({service} {code}): request "
                f"{change.get('Id', '?')}, status {change.get('Status', '?')}"
            )
        except ClientError as error:
            reason = error.response["Error"]["Code"]
            if reason == "ResourceAlreadyExistsException":
                done.append(f"'{line.check}' ({service} {code}): a request is already open")
            else:
                done.append(f"could not request '{line.check}' ({service} {code}): {error}")
    return done


def activate_tag(cost_explorer: Any, tag_key: str) -> str:
    """``--fix``: activate the cost-allocation tag; what happened."""
    answer = cost_explorer.update_cost_allocation_tags_status(
        CostAllocationTagsStatus=[{"TagKey": tag_key, "Status": "Active"}]
    )
    errors = answer.get("Errors", [])
    if errors:
        return f"could not activate the cost-allocation tag '{tag_key}': {errors[0].get('Message')}"
    return f"activated the cost-allocation tag '{tag_key}' (Cost Explorer applies it within 24 h)"


# -- the command ------------------------------------------------------------------------------
def add_parser(subparsers: Any) -> None:
    """Register ``preflight`` on ``workshopctl``'s subcommands."""
    preflight = subparsers.add_parser(
        "preflight",
        help="what the event needs against what the account has (quotas, region, bootstrap, "
        "cost tag, platforms)",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add_account_options(preflight)
    preflight.add_argument(
        "--offline",
        metavar="QUOTAS.json",
        type=Path,
        help='read quota values from this file ({"Quotas": [...]} as `aws service-quotas '
        "list-service-quotas` prints it) instead of the account; no credentials needed",
    )
    preflight.add_argument(
        "--request", action="store_true", help="file an increase for every short quota"
    )
    preflight.add_argument(
        "--fix", action="store_true", help="activate the workshop cost-allocation tag"
    )
    preflight.set_defaults(handler=run_preflight)


def run_preflight(
    args: argparse.Namespace,
    *,
    session: Any = None,
    today: date | None = None,
    cloud_assembly: Path | None = None,
) -> int:
    """``workshopctl preflight``; ``session``, ``today`` and ``cloud_assembly`` are for tests."""
    overrides = context_overrides(args)
    config = load_project_config(overrides)
    today = today or date.today()
    if cloud_assembly is None and CDK_OUT.exists():
        cloud_assembly = CDK_OUT
    if args.offline and (args.request or args.fix):
        print(
            "preflight: --request and --fix act on the account: not with --offline", file=sys.stderr
        )
        return 2
    try:
        if args.offline:
            facts = _offline_facts(args, config)
        else:
            session = session or boto3.Session(region_name=args.region or config.region)
            facts = _live_facts(args, config, session, cloud_assembly)
    except AccountCheckFailed as stop:
        print(f"preflight stopped: {stop}", file=sys.stderr)
        return 2
    lines = preflight_lines(config, facts, today=today, cloud_assembly=cloud_assembly)
    actions = []
    if args.request:
        service_quotas = session.client("service-quotas", region_name=facts.region)
        actions += request_increases(service_quotas, lines)
    if args.fix:
        tag_key = next(iter(config.tags))
        tag = next(line for line in lines if line.check == f"cost-allocation tag '{tag_key}'")
        if tag.verdict == FAIL:
            ce = session.client("ce", region_name=COST_EXPLORER_REGION)
            actions.append(activate_tag(ce, tag_key))
            if actions[-1].startswith("activated"):
                lines[lines.index(tag)] = replace(
                    tag, have="activated now", verdict=WARN, todo="applies within 24 h"
                )
        else:
            actions.append(f"cost-allocation tag '{tag_key}': nothing to fix ({tag.have})")
    source = f"quotas from {args.offline}" if args.offline else f"account {facts.account}"
    print(f"preflight for {len(config.attendee_names)} attendees in {facts.region} ({source})")
    print(format_table(lines))
    for action in actions:
        print(action)
    if args.request and not any(a.startswith("requested") for a in actions):
        print("--request: no quota to request")
    print(summary(lines))
    if any(line.verdict == FAIL and line.increase for line in lines):
        print(
            "quota increases take hours to days (some need a support case): request them "
            "weeks before the event (`make preflight PREFLIGHT_ARGS=--request`)"
        )
    return exit_code(lines)


def _offline_facts(args: argparse.Namespace, config: WorkshopConfig) -> Facts:
    try:
        answer = QuotaAnswer.from_document(json.loads(Path(args.offline).read_text()))
    except (OSError, ValueError) as error:
        raise AccountCheckFailed(f"cannot read {args.offline}: {error}") from None
    region = args.region or config.region or answer.region() or os.environ.get("AWS_REGION")
    if not region:
        raise AccountCheckFailed(
            "no region: pass --region, set `region` in the config or AWS_REGION"
        )
    return Facts(region=region, answer=answer)


def _live_facts(
    args: argparse.Namespace, config: WorkshopConfig, session: Any, cloud_assembly: Path | None
) -> Facts:
    region = args.region or config.region or session.region_name
    if not region:
        raise AccountCheckFailed(
            "no AWS region: set AWS_REGION, `region` in the config, or --region"
        )
    account = caller_account(session.client("sts", region_name=region))
    service_codes = [need.service_code for need in needs(config, cloud_assembly)]
    answer = read_quota_answer(session.client("service-quotas", region_name=region), service_codes)
    bootstrap = bootstrap_version(session.client("ssm", region_name=region))
    tag_key = next(iter(config.tags))
    ce = session.client("ce", region_name=COST_EXPLORER_REGION)
    try:
        tag_status, tag_read = read_tag_status(ce, tag_key), True
    except ClientError as error:
        print(f"could not read the cost-allocation tags: {error}", file=sys.stderr)
        tag_status, tag_read = None, False
    return Facts(region, answer, True, account, bootstrap, tag_status, tag_read)
