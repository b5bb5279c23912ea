"""``workshopctl destroy`` (what ``make destroy`` runs): tear the workshop down and prove it.

  1. ``janitor --apply``: what attendees created, which CloudFormation cannot see;
  2. ``cdk destroy --all --force``: every stack, dependants first; then each stack's wall time;
  3. ``residue``: what remains that the workshop made or caused (read-only).

Every step runs even when an earlier one failed (the residue scan is most useful then). Exit
code: 0 only when all three succeed and nothing remains; otherwise the first failing step's
(the janitor's 1, the CLI's, the residue's 1 or 2). Safe to run again.
"""

from __future__ import annotations

import argparse
import time
from datetime import UTC, datetime
from typing import Any

import boto3

from lambdas.janitor.aws import Clients
from workshop_spec.config import load_project_config
from workshopctl import janitor_cli, residue
from workshopctl.cdk_cli import Runner, destroy_command, run_in_project
from workshopctl.cli_options import add_account_options
from workshopctl.stack_timings import report as stack_times


def add_parser(subparsers: Any) -> None:
    """Register ``destroy`` on ``workshopctl``'s subcommands."""
    parser = subparsers.add_parser(
        "destroy",
        help="janitor --apply, cdk destroy --all, then the residue scan",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add_account_options(parser, cdk_verb="destroy")
    parser.set_defaults(handler=run_destroy)


def run_destroy(
    args: argparse.Namespace,
    *,
    clients: Clients | None = None,
    runner: Runner = run_in_project,
) -> int:
    """The three steps; ``clients`` and ``runner`` are for tests."""
    config = load_project_config()
    clients = clients or Clients(boto3.Session(region_name=args.region or config.region))
    region = args.region or config.region or clients.session.region_name
    codes = []

    print("== 1/3 janitor --apply", flush=True)
    janitor_args = argparse.Namespace(
        apply=True,
        whole_account=False,
        region=region,
        buckets=[],
        json=False,
        if_credentials=False,
    )
    codes.append(janitor_cli.run_janitor(janitor_args, clients))

    print("== 2/3 cdk destroy --all --force", flush=True)
    since, started = datetime.now(UTC), time.monotonic()
    environment = {"AWS_REGION": region, "AWS_DEFAULT_REGION": region} if region else {}
    codes.append(runner(destroy_command(context=args.context), environment))
    wall = time.monotonic() - started
    print(stack_times(clients.session, region, config.prefix, since, "destroy", wall), flush=True)

    print("== 3/3 residue scan", flush=True)
    residue_args = argparse.Namespace(
        region=region, cdk_out=str(residue.CDK_OUT), domain_id=[], json=False
    )
    codes.append(residue.run_residue(residue_args, clients))
    return next((code for code in codes if code), 0)
