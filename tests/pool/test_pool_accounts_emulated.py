"""A pool of three attendee accounts in the emulated AWS (issue 19's acceptance): the release
``workshopctl pool publish`` would upload, deployed into each account with the parameters its
StackSets pass (the organiser's bucket, the release's asset prefix), an attendee's work in each,
and each account's teardown by the janitor, as ``workshopctl pool teardown`` runs it there.

moto keeps one account's state per process here, so the accounts are served one after another
(the same templates in each: the release is environment-agnostic). What is not emulated, and
only a real organisation shows: the StackSets themselves (their order and the deletion of their
instances), and the accounts reading the organiser's bucket across accounts; here the pool's
bucket is made in each account with the release's assets under the same keys.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import boto3
import pytest

from lambdas.janitor.aws import Clients
from stacks.synthesizers import ASSETS_BUCKET_PARAMETER, ASSETS_PREFIX_PARAMETER
from tests.infra.pool_configs import PER_ATTENDEE, POOL_ACCOUNTS
from workshop_spec.config import ACCOUNT_ATTENDEE, load_project_config
from workshop_spec.pool_layout import POOL_KEY_PREFIX, RELEASE_PARAMETER
from workshopctl import janitor_cli, pool
from workshopctl.cloud_assembly import AssemblyLayout, CloudAssembly, FileAsset
from workshopctl.emulator.account import EmulatedAccount
from workshopctl.emulator.deploy import deploy
from workshopctl.emulator.rehearsal import attendee_notebook

pytestmark = pytest.mark.slow
REGION = "eu-west-1"
ORGANISER_ACCOUNT = "999999999999"


@pytest.fixture(scope="module")
def config():
    return load_project_config({k.replace("__", "."): v for k, v in PER_ATTENDEE.items()})


@pytest.fixture(scope="module")
def assembly(synth) -> Path:
    return synth(**PER_ATTENDEE).outdir


@pytest.fixture(scope="module")
def release(assembly, config, tmp_path_factory) -> pool.Release:
    return pool.prepare_release(assembly, config, tmp_path_factory.mktemp("release"))


def stack_set_parameters(assembly: Path, config, release: pool.Release) -> dict[str, dict]:
    """Each StackSet's parameter values, as the pool stack passes them for this release."""
    everything = AssemblyLayout.of_cdk_out(assembly)
    organisers = {config.stack_name(key) for key in ("organiser", "pool")}
    ids = [a for a, name in everything.stack_names.items() if name in organisers]
    layout = AssemblyLayout(
        {a: everything.templates[a] for a in ids},
        {a: everything.stack_names[a] for a in ids},
        {a: [d for d in everything.dependencies[a] if d in ids] for a in ids},
    )
    organiser = CloudAssembly(
        assembly, account=ORGANISER_ACCOUNT, region=REGION, layout=layout,
        parameters={RELEASE_PARAMETER: release.name},
    )  # fmt: skip
    stack = config.stack_name("pool")
    template = organiser.templates[stack]
    found = {}
    for resource in template["Resources"].values():
        if resource["Type"] == "AWS::CloudFormation::StackSet":
            properties = organiser.resolve(stack, resource["Properties"])
            found[properties["StackSetName"]] = {
                p["ParameterKey"]: p["ParameterValue"] for p in properties.get("Parameters", [])
            }
    return found


def release_layout(assembly: Path, release: pool.Release) -> AssemblyLayout:
    """The account stacks of the release, in the StackSets' order, and the assets they read
    through the asset parameters (the release's keys under its prefix)."""
    cdk_out = AssemblyLayout.of_cdk_out(assembly)
    by_name = {name: artifact for artifact, name in cdk_out.stack_names.items()}
    templates = {name: cdk_out.templates[by_name[name]] for name in release.stacks}
    dependencies = {name: release.stacks[:index][-1:] for index, name in enumerate(release.stacks)}
    assets = tuple(
        FileAsset(
            source=upload.source,
            packaging="file",  # the release holds each asset as it is uploaded (zips zipped)
            bucket="${" + ASSETS_BUCKET_PARAMETER + "}",
            key="${" + ASSETS_PREFIX_PARAMETER + "}" + upload.key.split("/assets/", 1)[1],
        )
        for upload in release.uploads
        if "/assets/" in upload.key
    )
    return AssemblyLayout(templates, {n: n for n in templates}, dependencies, assets)


@dataclass
class PoolAccount:
    account: str
    roles: set[str]  # every role ARN of the deployed assembly
    notebook: str
    asset_buckets: list[str]
    attendee_work: dict[str, str]
    janitor_applied: int
    removed: list[str]  # kinds of what the janitor removed
    left_after: int


def _attendee_work(emulated: EmulatedAccount, assembly: CloudAssembly) -> dict[str, str]:
    """What the attendee leaves that no stack deletes: an object under their prefix, a model."""
    role = attendee_notebook(assembly).properties["RoleArn"]
    settings_name = next(r.name for r in assembly.resources("AWS::SSM::Parameter"))
    settings = json.loads(
        emulated.client("ssm").get_parameter(Name=settings_name)["Parameter"]["Value"]
    )
    key = f"{settings['attendees_prefix']}{ACCOUNT_ATTENDEE}/notes.csv"
    emulated.client("s3", "pool attendee", role).put_object(
        Bucket=settings["curated_bucket"], Key=key, Body=b"a,b\n1,2\n"
    )
    emulated.client("sagemaker", "pool attendee", role).create_model(
        ModelName=f"mlws-{ACCOUNT_ATTENDEE}-pool-check",
        ExecutionRoleArn=role,
        PrimaryContainer={
            "Image": settings["byom_image_uri"],
            "ModelDataUrl": f"s3://{settings['curated_bucket']}/{key}",
        },
        Tags=[{"Key": k, "Value": v} for k, v in settings["tags"].items()],  # as the labs tag
    )
    return {"bucket": settings["curated_bucket"], "key": key}


def _janitor(emulated: EmulatedAccount, buckets: list[str], apply: bool) -> tuple[int, dict]:
    """``workshopctl janitor`` in the account, as ``pool teardown``'s per-account step runs
    it (the organiser's assumed role there), on the data lake's buckets: (exit code, report)."""
    args = argparse.Namespace(
        apply=apply, whole_account=False, region=REGION, buckets=buckets, json=True,
        if_credentials=False,
    )  # fmt: skip
    printed = io.StringIO()
    with pytest.MonkeyPatch.context() as patch, contextlib.redirect_stdout(printed):
        for key, value in emulated.environment("pool organiser").items():
            patch.setenv(key, value)
        code = janitor_cli.run_janitor(args, Clients(boto3.Session()))
    return code, json.loads(printed.getvalue())


@pytest.fixture(scope="module")
def pool_rehearsals(assembly, config, release, tmp_path_factory) -> Iterator[dict]:
    parameters = stack_set_parameters(assembly, config, release)
    layout = release_layout(assembly, release)
    accounts: dict[str, PoolAccount] = {}
    for attendee, account_id in sorted(POOL_ACCOUNTS.items()):
        given = {key: value for values in parameters.values() for key, value in values.items()}
        deployed = CloudAssembly(
            assembly, account=account_id, region=REGION, parameters=given, layout=layout
        )
        emulated = EmulatedAccount(deployed, tmp_path_factory.mktemp(attendee)).start()
        try:
            deployment = deploy(emulated)
            work = _attendee_work(emulated, deployed)
            buckets = pool.bucket_outputs(deployed.outputs()[config.stack_name("data-lake")])
            applied, removed = _janitor(emulated, buckets, apply=True)
            _, second = _janitor(emulated, buckets, apply=False)
            accounts[account_id] = PoolAccount(
                account_id,
                set(deployed.roles),
                attendee_notebook(deployed).name,
                sorted(deployment.asset_buckets),
                work,
                applied,
                sorted(outcome["kind"] for outcome in removed["outcomes"]),
                len(second["outcomes"]),
            )
            s3 = emulated.client("s3")
            listed = s3.list_objects_v2(Bucket=work["bucket"], Prefix=work["key"])
            accounts[account_id].attendee_work["left"] = str(listed.get("KeyCount", 0))
        finally:
            emulated.stop()
    yield {"parameters": parameters, "accounts": accounts}


def test_every_stack_set_passes_the_pool_bucket_and_the_releases_prefix(pool_rehearsals, release):
    parameters = pool_rehearsals["parameters"]
    with_assets = [values for values in parameters.values() if values]
    assert with_assets, "no StackSet passes the asset parameters"
    for values in with_assets:
        assert values[ASSETS_PREFIX_PARAMETER] == f"{POOL_KEY_PREFIX}{release.name}/assets/"
        assert values[ASSETS_BUCKET_PARAMETER]  # the organiser stack's bucket


def test_three_accounts_each_get_the_whole_workshop_for_one_attendee(pool_rehearsals):
    accounts = pool_rehearsals["accounts"]
    assert sorted(accounts) == sorted(POOL_ACCOUNTS.values())
    for account_id, deployed in accounts.items():
        assert deployed.notebook == f"mlws-{ACCOUNT_ATTENDEE}"
        # Every role is the account's own: the same templates, landed in each account.
        assert deployed.roles and all(f"::{account_id}:role/" in role for role in deployed.roles)
        # Assets were read from the pool's bucket only (no CDK bootstrap bucket in the account).
        assert len(deployed.asset_buckets) == 1
        assert not any("cdk-hnb659fds" in bucket for bucket in deployed.asset_buckets)


def test_each_accounts_teardown_removes_the_attendees_work_and_leaves_nothing_in_scope(
    pool_rehearsals,
):
    for account_id, deployed in pool_rehearsals["accounts"].items():
        assert deployed.janitor_applied == 0, f"the janitor failed in {account_id}"
        assert {"s3-objects", "model"} <= set(deployed.removed), deployed.removed
        assert deployed.attendee_work["left"] == "0", (
            f"the attendee's object is left in {account_id}"
        )
        assert deployed.left_after == 0, f"the second janitor run in {account_id} found more"
