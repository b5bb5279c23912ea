"""``workshopctl janitor`` (what attendees left in AWS; ``--apply`` removes it) and
``workshopctl cost`` (an estimate per attendee-hour from the price table).

The janitor's logic is the Lambda function's (``lambdas/janitor``); this module only builds its
scope from the workshop config and prints the result.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import boto3
from botocore.exceptions import BotoCoreError, ClientError

from lambdas.janitor.aws import Clients
from lambdas.janitor.janitor import clean, discover
from lambdas.janitor.model import Report, Scope
from lambdas.janitor.prices import Prices, format_usd, load_prices, sum_known
from workshop_spec.config import WorkshopConfig, load_project_config
from workshop_spec.janitor_settings import stack_query_names, stack_table_names
from workshopctl.cli_options import add_region

# Training and tuning as an allowance: module 5 trains once (~0.1 instance-hour), module 6 tunes
# (~20 trials x ~4 min ≈ 1.3 instance-hours); over a ~6-hour workshop day that is ~0.25
# instance-hours of the training type per attendee-hour.
TRAINING_INSTANCE_HOURS_PER_ATTENDEE_HOUR = 0.25
SHARED_ENDPOINT_INSTANCES = 3  # the A/B endpoint's 2 variants + module 7's endpoint, 1 each
NOT_INCLUDED = (
    "not included: storage (S3, EBS volumes, ECR), data transfer and NAT per-GB processing, "
    "Athena per TB scanned, CloudWatch, KMS requests"
)


def add_parser(subparsers: Any) -> None:
    """Register ``janitor`` and ``cost`` on ``workshopctl``'s subcommands."""
    janitor = subparsers.add_parser(
        "janitor",
        help="list what attendees left in AWS (dry run); --apply removes it",
        description=(
            "Finds the resources attendees created in the workshop's scope (name prefix or "
            "workshop tag; --whole-account: every resource of the janitor's kinds) and prints "
            "them with their hourly cost. Deletes nothing unless --apply. Exit code: 0 when "
            "nothing in scope is left (or a dry run), 1 when something is left."
        ),
    )
    janitor.add_argument("--apply", action="store_true", help="delete (default: dry run)")
    janitor.add_argument(
        "--whole-account",
        action="store_true",
        help="every resource of the janitor's kinds, not just the workshop's (dedicated account)",
    )
    add_region(janitor)
    janitor.add_argument(
        "--bucket",
        action="append",
        default=[],
        dest="buckets",
        metavar="NAME",
        help="a workshop bucket whose attendee prefixes are cleaned (repeatable; default: the "
        "data-lake stack's bucket outputs)",
    )
    janitor.add_argument("--json", action="store_true", help="print the report as JSON")
    janitor.add_argument(
        "--if-credentials",
        action="store_true",
        help="without AWS credentials in the shell, say so and exit 0 (for `make down`)",
    )
    janitor.set_defaults(handler=run_janitor)

    cost = subparsers.add_parser(
        "cost", help="estimated cost per attendee-hour of the configured workshop"
    )
    cost.add_argument(
        "--network",
        choices=("vpc", "direct"),
        help="the attendee network mode (default: attendee_environment.network)",
    )
    cost.add_argument(
        "--training-instance-hours",
        type=float,
        default=TRAINING_INSTANCE_HOURS_PER_ATTENDEE_HOUR,
        help="training/tuning instance-hours per attendee-hour (default: %(default)s)",
    )
    cost.set_defaults(handler=run_cost)


# -- janitor -------------------------------------------------------------------------------------
def scope_for(config: WorkshopConfig, buckets: Iterable[str], *, whole_account: bool) -> Scope:
    """The janitor's scope for this workshop: the stack's queries and tables are kept."""
    return Scope(
        prefix=config.prefix,
        buckets=tuple(buckets),
        database=config.glue_database_name,
        workgroup=config.athena_workgroup_name,
        stack_query_names=stack_query_names(),
        stack_table_names=stack_table_names(),
        whole_account=whole_account,
    )


def data_lake_buckets(cloudformation: Any, prefix: str) -> list[str]:
    """The bucket names the data-lake stack outputs (``*BucketName``); [] if it is not deployed."""
    try:
        stacks = cloudformation.describe_stacks(StackName=f"{prefix}-data-lake")["Stacks"]
    except ClientError as error:
        if "does not exist" in str(error):
            return []
        raise
    return sorted(
        output["OutputValue"]
        for stack in stacks
        for output in stack.get("Outputs", [])
        if output["OutputKey"].endswith("BucketName")
    )


def janitor_exit_code(report: Report) -> int:
    """0: nothing in scope is left (a dry run that listed everything counts); 1 otherwise."""
    if report.applied:
        return 0 if report.complete else 1
    return 1 if report.failures else 0


def run_janitor(args: argparse.Namespace, clients: Clients | None = None) -> int:
    """``workshopctl janitor``: discover, then plan (dry run) or remove (--apply), and report.

    ``clients`` is for tests; by default the shell's credentials and the region are used.
    """
    config = load_project_config()
    if clients is None:
        session = boto3.Session(region_name=args.region or config.region)
        if getattr(args, "if_credentials", False) and session.get_credentials() is None:
            print("no AWS credentials in this shell: the account's janitor is skipped")
            return 0
        clients = Clients(session)
    session = clients.session
    try:
        account = session.client("sts").get_caller_identity()["Account"]
        buckets = args.buckets or data_lake_buckets(clients.get("cloudformation"), config.prefix)
    except (BotoCoreError, ClientError) as error:
        print(f"cannot reach AWS ({error}); set credentials and a region", file=sys.stderr)
        return 2
    scope = scope_for(config, buckets, whole_account=args.whole_account)
    what = (
        "whole account"
        if scope.whole_account
        else f"prefix {scope.name_prefix} / tag workshop={scope.prefix}"
    )
    out = sys.stderr if args.json else sys.stdout
    print(
        f"account {account}, region {session.region_name}: {what}; buckets: "
        f"{', '.join(scope.buckets) or 'none'}",
        file=out,
    )
    report = clean(discover(clients, scope), clients, apply=args.apply)
    if args.json:
        print(json.dumps(report.to_dict(), indent=2))
    elif report.outcomes:
        print(report.table())
    if not report.applied:
        print(f"dry run: {len(report.outcomes)} resources would be deleted", file=out)
    elif report.complete:
        print(f"done: {len(report.outcomes)} resources removed, nothing in scope is left", file=out)
    else:
        print(f"{len(report.left)} resources are left (see the table); run again", file=out)
    return janitor_exit_code(report)


# -- cost ----------------------------------------------------------------------------------------
@dataclass(frozen=True)
class CostLine:
    component: str
    item: str  # an instance type or a price-table item
    quantity: float  # units running during one workshop hour
    unit_usd: float | None

    @property
    def hourly_usd(self) -> float | None:
        return None if self.unit_usd is None else self.unit_usd * self.quantity


def network_mode(config: WorkshopConfig) -> str:
    """The config's attendee network mode: vpc (one NAT gateway) or direct."""
    return config.attendee_environment.network


def estimate(
    config: WorkshopConfig,
    prices: Prices,
    *,
    network: str | None = None,
    training_instance_hours: float = TRAINING_INSTANCE_HOURS_PER_ATTENDEE_HOUR,
) -> list[CostLine]:
    """What one workshop hour costs, line by line, for this config."""
    attendees = len(config.attendee_names)
    types = config.instance_types
    lines = [
        CostLine(
            "notebook instances (1 per attendee)",
            types.notebook,
            attendees,
            prices.hourly_usd(types.notebook),
        ),
        CostLine(
            "shared endpoints (A/B 2 variants + module 7, 1 instance each)",
            types.endpoint,
            SHARED_ENDPOINT_INSTANCES,
            prices.hourly_usd(types.endpoint),
        ),
    ]
    if (network or network_mode(config)) == "vpc":
        lines.append(
            CostLine(
                "NAT gateway (network: vpc)", "nat-gateway", 1, prices.hourly_usd("nat-gateway")
            )
        )
    lines.append(
        CostLine(
            f"training/tuning allowance ({training_instance_hours:g} instance-h per attendee-h)",
            types.training,
            attendees * training_instance_hours,
            prices.hourly_usd(types.training),
        )
    )
    return lines


def format_estimate(lines: list[CostLine], attendees: int, prices: Prices) -> str:
    """The estimate as a table, with the total per hour and per attendee-hour."""
    rows = [("component", "item", "quantity", "USD/h each", "USD/h")]
    rows += [
        (
            line.component,
            line.item,
            f"{line.quantity:g}",
            format_usd(line.unit_usd, 4),
            format_usd(line.hourly_usd),
        )
        for line in lines
    ]
    total, unknown = sum_known([line.hourly_usd for line in lines])
    bound = "at least " if unknown else ""
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    text = [
        "  ".join(
            cell.ljust(width) if i < 2 else cell.rjust(width)
            for i, (cell, width) in enumerate(zip(row, widths, strict=True))
        )
        for row in rows
    ]
    text += [
        f"total per workshop hour: {bound}{format_usd(total)} USD ({attendees} attendees)",
        f"per attendee-hour: {bound}{format_usd(total / attendees)} USD",
    ]
    if unknown:
        text.append(f"{unknown} item(s) have no price in the table (?): the total is a lower bound")
    text += [NOT_INCLUDED, f"prices: {prices.note} (lambdas/janitor/prices.json)"]
    return "\n".join(text)


def run_cost(args: argparse.Namespace) -> int:
    """``workshopctl cost``: print the estimate for the project's config."""
    config = load_project_config()
    prices = load_prices()
    lines = estimate(
        config, prices, network=args.network, training_instance_hours=args.training_instance_hours
    )
    print(format_estimate(lines, len(config.attendee_names), prices))
    return 0
