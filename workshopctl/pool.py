"""``workshopctl pool`` (``make pool-deploy`` / ``make pool-teardown``): one account per attendee.

With ``accounts: per-attendee`` the app holds the workshop for one attendee (the stacks every
pool account gets, synthesized without CDK bootstrap) and the organiser's two stacks
(``stacks/organiser.py``). The order a deploy needs::

  deploy     1. cdk deploy <prefix>-organiser    the pool's asset bucket, roster, pool budget
             2. publish                          the account templates and their assets into
                                                 that bucket under pool/<release>/
             3. cdk deploy <prefix>-pool         the StackSets, reading pool/<release>/
  teardown   1. janitor --apply in each account  what attendees made outside CloudFormation
             2. cdk destroy <prefix>-pool <prefix>-organiser
                                                 deleting a StackSet resource deletes its stack
                                                 instances in every account, dependants first
             3. in each account                  every stack instance DELETE_COMPLETE (by
                                                 the stack ids StackSets listed before step
                                                 2), then the residue scan (read-only)

The release is a hash of the account templates and assets: publishing changed code is a new
release, a new TemplateURL, so CloudFormation updates every StackSet. The organiser reaches
each pool account through ``pool.execution_role_name`` (with named accounts, the role
StackSets itself assumes: https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/stacksets-prereqs-self-managed.html;
with an organizational unit, e.g. OrganizationAccountAccessRole:
https://docs.aws.amazon.com/organizations/latest/userguide/orgs_manage_accounts_access-cross-account-role.html).
"""

from __future__ import annotations

import argparse
import hashlib
import shutil
import sys
import tempfile
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
from botocore.exceptions import BotoCoreError, ClientError

from lambdas.janitor.aws import Clients
from workshop_spec.config import (
    ORGANISER_STACK_KEYS,
    PROJECT_ROOT,
    ConfigError,
    WorkshopConfig,
    load_project_config,
)
from workshop_spec.pool_layout import (
    BUCKET_OUTPUT,
    RELEASE_PARAMETER,
    assets_prefix,
    release_prefix,
    template_key,
)
from workshopctl import janitor_cli, residue
from workshopctl import workshop_studio_templates as templates
from workshopctl.cdk_cli import CDK, Runner, run_in_project
from workshopctl.cli_options import add_account_options, context_overrides

ASSEMBLY = PROJECT_ROOT / ".cache" / "pool" / "cdk.out"
RELEASE_LENGTH = 16


@dataclass(frozen=True)
class Upload:
    """One object to put into the pool's asset bucket."""

    key: str
    source: Path


@dataclass(frozen=True)
class Release:
    """What one publish puts under ``pool/<name>/``: the account templates and their assets."""

    name: str
    uploads: list[Upload]
    stacks: list[str]  # the account stacks in deploy order (= the StackSets)


def account_stack_names(assembly: Path, config: WorkshopConfig) -> list[str]:
    """The stacks every pool account gets, in deploy order (all but the organiser's)."""
    organiser = {config.stack_name(key) for key in ORGANISER_STACK_KEYS}
    return [s.name for s in templates.stacks_in_deploy_order(assembly) if s.name not in organiser]


def prepare_release(assembly: Path, config: WorkshopConfig, workdir: Path) -> Release:
    """Check the account templates as Workshop Studio's are checked (no bootstrap, no unknown
    parameter, size), write their assets into ``workdir`` and name the release by content."""
    if config.accounts != "per-attendee":
        raise ConfigError("accounts: shared has no pool; set accounts=per-attendee")
    names = account_stack_names(assembly, config)
    stacks = [s for s in templates.stacks_in_deploy_order(assembly) if s.name in names]
    # Workshop Studio's 5-template limit does not apply: StackSets have no such limit.
    found = [p for p in templates.problems(stacks) if "Workshop Studio deploys at most" not in p]
    if found:
        raise templates.BundleError("the account templates cannot deploy:\n" + "\n".join(found))
    digest = hashlib.sha256()
    for stack in stacks:
        digest.update(stack.name.encode() + b"\0" + stack.path.read_bytes())
    assets = templates.assets(assembly, stacks)
    for asset in assets:  # an asset's key is its content hash
        digest.update(asset.key.encode() + b"\0")
    name = digest.hexdigest()[:RELEASE_LENGTH]
    uploads = [Upload(template_key(name, stack.name), stack.path) for stack in stacks]
    uploads += [
        Upload(assets_prefix(name) + asset.key, templates.write_asset(asset, workdir))
        for asset in assets
    ]
    return Release(name, uploads, names)


def stack_output(cloudformation: Any, stack: str, key: str) -> str:
    """One output of a deployed stack; a clear error when the stack or output is missing."""
    try:
        described = cloudformation.describe_stacks(StackName=stack)["Stacks"][0]
    except ClientError as error:
        raise templates.BundleError(f"{stack} is not deployed ({error}): deploy it first") from None
    for output in described.get("Outputs", []):
        if output["OutputKey"] == key:
            return output["OutputValue"]
    raise templates.BundleError(f"{stack} has no output {key}")


def publish(s3: Any, bucket: str, release: Release) -> int:
    """Upload the release (keys are release-scoped: a publish never changes a live release's
    objects). Returns the bytes uploaded."""
    total = 0
    for upload in release.uploads:
        s3.upload_file(str(upload.source), bucket, upload.key)
        total += upload.source.stat().st_size
    return total


# -- each pool account ----------------------------------------------------------------------------
# account → {stack set name: the id of its stack instance's stack in that account}
Instances = dict[str, dict[str, str]]


def stack_instances(cloudformation: Any, stack_sets: Sequence[str]) -> Instances:
    """Where the workshop really is: each account holding an instance of the StackSets (an
    organizational unit's accounts are known only from here), with the instance's stack id.
    https://docs.aws.amazon.com/AWSCloudFormation/latest/APIReference/API_StackInstanceSummary.html
    """
    instances: Instances = {}
    for stack_set in stack_sets:
        try:
            pages = cloudformation.get_paginator("list_stack_instances").paginate(
                StackSetName=stack_set
            )
            summaries = [summary for page in pages for summary in page["Summaries"]]
        except ClientError as error:
            if "StackSetNotFound" not in str(error):
                raise
            continue  # not deployed (or already deleted): no instances to find
        for summary in summaries:
            stacks = instances.setdefault(summary["Account"], {})
            if summary.get("StackId"):
                stacks[stack_set] = summary["StackId"]
    return dict(sorted(instances.items()))


def account_session(
    organiser: boto3.Session, account: str, role_name: str, region: str
) -> boto3.Session:
    """A session in ``account`` as ``role_name``, assumed from the organiser's session."""
    partition = organiser.client("sts").get_caller_identity()["Arn"].split(":")[1]
    credentials = organiser.client("sts").assume_role(
        RoleArn=f"arn:{partition}:iam::{account}:role/{role_name}",
        RoleSessionName="workshopctl-pool",
    )["Credentials"]
    return boto3.Session(
        aws_access_key_id=credentials["AccessKeyId"],
        aws_secret_access_key=credentials["SecretAccessKey"],
        aws_session_token=credentials["SessionToken"],
        region_name=region,
    )


def instance_buckets(clients: Clients, stack_id: str | None) -> list[str]:
    """The data lake's buckets in one account: its stack instance's outputs ``*BucketName``."""
    if stack_id is None:
        return []
    (stack,) = clients.get("cloudformation").describe_stacks(StackName=stack_id)["Stacks"]
    return bucket_outputs({o["OutputKey"]: o["OutputValue"] for o in stack.get("Outputs", [])})


def bucket_outputs(outputs: Mapping[str, str]) -> list[str]:
    """The bucket names among a data lake stack's outputs (by key), sorted."""
    return sorted(value for key, value in outputs.items() if key.endswith("BucketName"))


def stacks_left(clients: Clients, stack_ids: Sequence[str]) -> list[str]:
    """The account's stack instances that are not DELETE_COMPLETE (a stack id still answers
    DescribeStacks after the stack is deleted, for 90 days)."""
    if not stack_ids:
        return []
    cloudformation = clients.get("cloudformation")
    left = []
    for stack_id in stack_ids:
        (stack,) = cloudformation.describe_stacks(StackName=stack_id)["Stacks"]
        if stack["StackStatus"] != "DELETE_COMPLETE":
            left.append(f"{stack['StackName']} ({stack['StackStatus']})")
    return left


SessionFor = Callable[[str], boto3.Session]
AccountStep = Callable[[str, Clients], int]


def janitor_in(config: WorkshopConfig, region: str, instances: Instances) -> AccountStep:
    """``janitor --apply`` in one account, on the data lake instance's buckets."""
    data_lake = config.stack_name("data-lake")

    def step(account: str, clients: Clients) -> int:
        args = argparse.Namespace(
            apply=True,
            whole_account=False,
            region=region,
            buckets=instance_buckets(clients, instances.get(account, {}).get(data_lake)),
            json=False,
            if_credentials=False,
        )
        return janitor_cli.run_janitor(args, clients)

    return step


def residue_in(region: str, assembly: Path) -> AccountStep:
    """The read-only residue scan in one account."""

    def step(account: str, clients: Clients) -> int:
        args = argparse.Namespace(region=region, cdk_out=str(assembly), domain_id=[], json=False)
        return residue.run_residue(args, clients)

    return step


def teardown(
    instances: Instances,
    session_for: SessionFor,
    *,
    janitor: AccountStep,
    destroy: Callable[[], int],
    scan: AccountStep,
) -> int:
    """The three steps of the module docstring, and after the destroy, in each account, that
    every stack instance is DELETE_COMPLETE. Every step runs even after a failure (the residue
    scan matters most then). Exit code: 0 only if all succeed, else the first failure's."""
    codes: list[int] = []
    for account in instances:
        print(f"== janitor --apply in {account}", flush=True)
        codes.append(_in_account(account, session_for, janitor))
    print("== cdk destroy: the StackSets (their stack instances in every account), the bucket")
    codes.append(destroy())
    for account, stacks in instances.items():
        print(f"== residue scan of {account}", flush=True)
        codes.append(_in_account(account, session_for, _instances_deleted(list(stacks.values()))))
        codes.append(_in_account(account, session_for, scan))
    return next((code for code in codes if code), 0)


def _instances_deleted(stack_ids: list[str]) -> AccountStep:
    def step(account: str, clients: Clients) -> int:
        left = stacks_left(clients, stack_ids)
        for stack in left:
            print(f"{account}: stack instance not deleted: {stack}")
        return 1 if left else 0

    return step


def _in_account(account: str, session_for: SessionFor, step: AccountStep) -> int:
    try:
        return step(account, Clients(session_for(account)))
    except (BotoCoreError, ClientError) as error:
        print(f"{account}: cannot reach the account ({error})", file=sys.stderr)
        return 2


# -- the command ---------------------------------------------------------------------------------
def add_parser(subparsers: Any) -> None:
    """Register ``pool deploy|publish|teardown`` on ``workshopctl``'s subcommands."""
    parser = subparsers.add_parser(
        "pool",
        help="accounts=per-attendee: deploy to / tear down a pool of attendee accounts",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    actions = parser.add_subparsers(dest="pool_action", required=True)
    for name, handler, text in (
        ("deploy", run_deploy, "organiser stack, publish, StackSets"),
        ("publish", run_publish, "upload the account templates and assets; print the release"),
        ("teardown", run_teardown, "janitor per account, cdk destroy, residue per account"),
    ):
        action = actions.add_parser(name, help=text)
        add_account_options(action, cdk_verb="deploy")
        action.set_defaults(handler=handler)


def _config_and_region(args: argparse.Namespace) -> tuple[WorkshopConfig, dict[str, str], str]:
    overrides = context_overrides(args)
    config = load_project_config(overrides)
    if config.accounts != "per-attendee":
        raise ConfigError("accounts: shared has no pool; use -c accounts=per-attendee and a pool")
    region = args.region or config.region or boto3.Session().region_name
    if not region:
        raise SystemExit("no region: pass --region, set region in the config or AWS_REGION")
    return config, overrides, region


def _synthesize(overrides: dict[str, str]) -> None:
    from workshopctl.workshop_studio import synthesize  # the same app run, into our folder

    synthesize(ASSEMBLY, overrides)


def _publish(config: WorkshopConfig, region: str) -> Release:
    session = boto3.Session(region_name=region)
    bucket = stack_output(
        session.client("cloudformation"), config.stack_name("organiser"), BUCKET_OUTPUT
    )
    workdir = Path(tempfile.mkdtemp(prefix="pool-assets-"))
    try:
        release = prepare_release(ASSEMBLY, config, workdir)
        size = publish(session.client("s3"), bucket, release)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    print(f"release {release.name}: {len(release.uploads)} objects, {size / 1e6:.1f} MB "
          f"in s3://{bucket}/{release_prefix(release.name)}")  # fmt: skip
    return release


def _cdk(verb: str, stacks: Sequence[str], context: dict[str, str], extra: Sequence[str] = ()):
    command = [*CDK, verb, *stacks, *extra]
    for key, value in context.items():
        command += ["-c", f"{key}={value}"]
    return command


def run_publish(args: argparse.Namespace) -> int:
    config, overrides, region = _config_and_region(args)
    try:
        _synthesize(overrides)
        release = _publish(config, region)
    except templates.BundleError as error:
        print(error, file=sys.stderr)
        return 1
    stack = config.stack_name("pool")
    print(f"next: cdk deploy {stack} --parameters {stack}:{RELEASE_PARAMETER}={release.name}")
    return 0


def run_deploy(args: argparse.Namespace, *, runner: Runner = run_in_project) -> int:
    config, overrides, region = _config_and_region(args)
    environment = {"AWS_REGION": region, "AWS_DEFAULT_REGION": region}
    organiser, pool = config.stack_name("organiser"), config.stack_name("pool")
    code = runner(
        _cdk("deploy", [organiser], overrides, ["--require-approval", "never"]), environment
    )
    if code:
        return code
    try:
        _synthesize(overrides)
        release = _publish(config, region)
    except templates.BundleError as error:
        print(error, file=sys.stderr)
        return 1
    parameters = ["--parameters", f"{pool}:{RELEASE_PARAMETER}={release.name}"]
    return runner(
        _cdk("deploy", [pool], overrides, [*parameters, "--require-approval", "never"]),
        environment,
    )


def run_teardown(args: argparse.Namespace, *, runner: Runner = run_in_project) -> int:
    config, overrides, region = _config_and_region(args)
    organiser_session = boto3.Session(region_name=region)
    _synthesize(overrides)  # the StackSets of this config, not of an older assembly
    stack_sets = account_stack_names(ASSEMBLY, config)
    instances = stack_instances(organiser_session.client("cloudformation"), stack_sets)
    print(f"pool accounts: {', '.join(instances) or 'none'}")
    environment = {"AWS_REGION": region, "AWS_DEFAULT_REGION": region}
    return teardown(
        instances,
        lambda account: account_session(
            organiser_session, account, config.pool.execution_role_name, region
        ),
        janitor=janitor_in(config, region, instances),
        destroy=lambda: runner(
            _cdk(
                "destroy",
                [config.stack_name("pool"), config.stack_name("organiser")],
                overrides,
                ["--force"],
            ),
            environment,
        ),
        scan=residue_in(region, ASSEMBLY),
    )
