"""``workshopctl deploy`` (what ``make deploy`` runs): stand the workshop up in the account of
the shell's credentials, on a fresh account too.

In order, and stopping with one line at the first thing the account cannot pass:
  1. the caller's credentials (STS) and the region;
  2. the quotas ``cdk deploy`` itself consumes (quotas.yaml, ``at_deploy``), before anything
     changes in the account: a deploy that would roll back after twenty minutes stops here;
  3. the CDK bootstrap: ``cdk bootstrap`` only when the region has none (or one too old);
  4. ``cdk deploy --all --concurrency N``: stacks in parallel where the dependency graph allows.
"""

from __future__ import annotations

import argparse
import sys
import time
from datetime import UTC, datetime
from typing import Any

import boto3

from workshop_spec.config import PROJECT_ROOT, WorkshopConfig, load_project_config
from workshopctl.account_checks import (
    AccountCheckFailed,
    caller_account,
    needs_bootstrap,
    quota_value,
)
from workshopctl.cdk_cli import (
    APPROVAL_LEVELS,
    Runner,
    bootstrap_command,
    deploy_command,
    run_in_project,
    stack_concurrency,
)
from workshopctl.cli_options import add_account_options, context_overrides
from workshopctl.quotas import QuotaNeed, needs
from workshopctl.stack_timings import report as stack_times

CDK_OUT = PROJECT_ROOT / "cdk.out"
# What to say, per service, besides "request more", when a quota blocks the deploy.
WORKAROUNDS = {
    "codebuild": "or deploy with `-c model_image.build=docker` (builds the image with the local "
    "Docker, no CodeBuild)",
}


def add_parser(subparsers: Any) -> None:
    """Register ``deploy`` on ``workshopctl``'s subcommands."""
    deploy = subparsers.add_parser(
        "deploy",
        help="deploy every stack into the account of the shell's credentials",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add_account_options(deploy)
    deploy.add_argument(
        "--require-approval",
        choices=APPROVAL_LEVELS,
        default="broadening",
        help="when the CDK CLI asks before deploying (default: %(default)s, i.e. when IAM or "
        "security groups widen)",
    )
    deploy.add_argument(
        "--concurrency",
        type=int,
        help="stacks deployed at once (default: the widest level of the dependency graph in "
        "cdk.out)",
    )
    deploy.set_defaults(handler=run_deploy)


def run_deploy(
    args: argparse.Namespace,
    *,
    session: boto3.Session | None = None,
    runner: Runner = run_in_project,
) -> int:
    """``workshopctl deploy``: checks, bootstrap when missing, then ``cdk deploy --all``.

    ``session`` and ``runner`` are for tests (moto/stubbed clients; recorded commands).
    Exit code: the CLI's, or 2 when a check stops the deploy before any stack.
    """
    overrides = context_overrides(args)
    config = load_project_config(overrides)
    session = session or boto3.Session(region_name=args.region or config.region)
    try:
        account, region = _caller_and_region(session, config, args.region)
        _check_deploy_quotas(session, config, account, region)
        extra_env = {"AWS_REGION": region, "AWS_DEFAULT_REGION": region}
        if needs_bootstrap(session.client("ssm", region_name=region)):
            print(f"{account}/{region} has no CDK bootstrap: bootstrapping it", flush=True)
            if runner(bootstrap_command(account, region), extra_env) != 0:
                raise AccountCheckFailed("cdk bootstrap failed: see its output above")
        else:
            print(f"{account}/{region} is bootstrapped", flush=True)
    except AccountCheckFailed as stop:
        for line in str(stop).splitlines():
            print(f"deploy stopped: {line}", file=sys.stderr)
        return 2
    concurrency = args.concurrency or stack_concurrency(CDK_OUT)
    command = deploy_command(
        concurrency=concurrency, require_approval=args.require_approval, context=args.context
    )
    since, started = datetime.now(UTC), time.monotonic()
    code = runner(command, extra_env)
    # Each stack's wall time (issue 18.5), from CloudFormation's events of this run.
    wall = time.monotonic() - started
    print(stack_times(session, region, config.prefix, since, "deploy", wall), flush=True)
    return code


def _caller_and_region(
    session: boto3.Session, config: WorkshopConfig, region_argument: str | None
) -> tuple[str, str]:
    region = region_argument or config.region or session.region_name
    if not region:
        raise AccountCheckFailed(
            "no AWS region: set AWS_REGION, `region` in the config, or pass --region"
        )
    account = caller_account(session.client("sts", region_name=region))
    if config.account and config.account != account:
        raise AccountCheckFailed(
            f"the config's account is {config.account} but the shell's credentials are for "
            f"{account}: switch credentials or change `account`"
        )
    return account, region


def _check_deploy_quotas(
    session: boto3.Session, config: WorkshopConfig, account: str, region: str
) -> None:
    service_quotas = session.client("service-quotas", region_name=region)
    assembly = CDK_OUT if CDK_OUT.exists() else None
    blocking = []
    for need in needs(config, assembly):
        if need.deploy_need <= 0:
            continue
        value = quota_value(service_quotas, need)
        if value is None:
            print(
                f"could not read the quota '{need.quota_name}' ({need.service_code}): not checked"
            )
        elif value < need.deploy_need:
            blocking.append(blocking_line(need, value, account, region))
    if blocking:
        # One line per quota the account lacks; all of them, so one request round fixes all.
        raise AccountCheckFailed("\n".join(blocking))


def blocking_line(need: QuotaNeed, value: float, account: str, region: str) -> str:
    """The one line that says which quota stops the deploy and what to request."""
    code = f" ({need.quota_code})" if need.quota_code else ""
    line = (
        f"{need.service_code} quota '{need.quota_name}'{code} is {value:g} in {account}/"
        f"{region} and the deploy needs {need.deploy_need}: request at least "
        f"{need.deploy_need} in Service Quotas (service {need.service_code})"
    )
    workaround = WORKAROUNDS.get(need.service_code)
    return f"{line}, {workaround}" if workaround else line
