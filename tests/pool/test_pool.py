"""``workshopctl pool``: what a publish uploads, and the per-account teardown's order."""

from __future__ import annotations

import argparse
import json

import boto3
import pytest
from botocore.exceptions import ClientError
from botocore.stub import Stubber
from moto import mock_aws

from lambdas.janitor.aws import Clients
from tests.conftest import use_dummy_credentials
from tests.infra.pool_configs import ACCOUNT_STACKS, PER_ATTENDEE, POOL_ACCOUNTS
from workshop_spec.config import load_project_config
from workshopctl import pool
from workshopctl.workshop_studio_templates import BundleError

REGION = "eu-west-1"


@pytest.fixture(scope="module")
def assembly(synth):
    return synth(**PER_ATTENDEE).outdir


@pytest.fixture(scope="module")
def config():
    return load_project_config({k.replace("__", "."): v for k, v in PER_ATTENDEE.items()})


@pytest.fixture
def release(assembly, config, tmp_path):
    return pool.prepare_release(assembly, config, tmp_path)


def test_a_release_holds_the_account_templates_in_order_and_every_asset_they_read(
    release, assembly
):
    assert release.stacks == ACCOUNT_STACKS  # the organiser's stacks are not published
    prefix = f"pool/{release.name}/"
    assert all(upload.key.startswith(prefix) for upload in release.uploads)
    templates = [u.key.removeprefix(prefix) for u in release.uploads if "/templates/" in u.key]
    assert templates == [f"templates/{name}.template.json" for name in ACCOUNT_STACKS]
    assets = {
        u.key.removeprefix(f"{prefix}assets/") for u in release.uploads if "/assets/" in u.key
    }
    # Every asset the manifests send to the event bucket, and nothing else.
    wanted = set()
    for manifest in assembly.glob("mlws-*.assets.json"):
        if manifest.name.startswith(("mlws-organiser", "mlws-pool")):
            continue
        for entry in json.loads(manifest.read_text()).get("files", {}).values():
            for destination in entry["destinations"].values():
                wanted.add(destination["objectKey"].removeprefix("${AssetsBucketPrefix}"))
    assert assets == wanted
    assert all(upload.source.is_file() for upload in release.uploads)


def test_the_release_is_named_by_content(assembly, config, release, tmp_path):
    again = pool.prepare_release(assembly, config, tmp_path / "again")
    assert again.name == release.name and len(release.name) == pool.RELEASE_LENGTH


def test_publish_puts_the_release_into_the_organisers_bucket(release, monkeypatch):
    use_dummy_credentials(monkeypatch, REGION)
    with mock_aws():
        s3 = boto3.client("s3", region_name=REGION)
        s3.create_bucket(
            Bucket="pool-assets", CreateBucketConfiguration={"LocationConstraint": REGION}
        )
        size = pool.publish(s3, "pool-assets", release)
        keys = {o["Key"] for o in s3.list_objects_v2(Bucket="pool-assets")["Contents"]}
    assert keys == {upload.key for upload in release.uploads}
    assert size == sum(upload.source.stat().st_size for upload in release.uploads)


def test_publishing_before_the_organiser_stack_exists_says_so(monkeypatch):
    use_dummy_credentials(monkeypatch, REGION)
    cloudformation = boto3.client("cloudformation", region_name=REGION)
    with Stubber(cloudformation) as stubber:
        stubber.add_client_error(
            "describe_stacks",
            service_error_code="ValidationError",
            service_message="Stack with id mlws-organiser does not exist",
        )
        with pytest.raises(BundleError, match="mlws-organiser is not deployed"):
            pool.stack_output(cloudformation, "mlws-organiser", pool.BUCKET_OUTPUT)


def test_a_shared_config_has_no_release(assembly, tmp_path):
    with pytest.raises(ValueError, match="accounts=per-attendee"):
        pool.prepare_release(assembly, load_project_config(), tmp_path)


def test_the_organiser_assumes_the_execution_role_in_each_account(monkeypatch):
    use_dummy_credentials(monkeypatch, REGION)
    # moto answers every request in MOTO_ACCOUNT_ID's account when it is set (the emulated
    # accounts of the session set it), not in the account of the assumed role's keys.
    monkeypatch.delenv("MOTO_ACCOUNT_ID", raising=False)
    with mock_aws():
        organiser = boto3.Session(region_name=REGION)
        session = pool.account_session(
            organiser, "222222222222", "AWSCloudFormationStackSetExecutionRole", REGION
        )
        identity = session.client("sts").get_caller_identity()
    assert identity["Account"] == "222222222222"
    assert "AWSCloudFormationStackSetExecutionRole" in identity["Arn"]
    assert session.region_name == REGION


class _StackSets:
    """list_stack_instances as StackSets pages it; one StackSet is not deployed."""

    def __init__(self, pages):
        self.pages = pages

    def get_paginator(self, name):
        assert name == "list_stack_instances"
        return self

    def paginate(self, StackSetName):
        if StackSetName not in self.pages:
            raise ClientError(
                {"Error": {"Code": "StackSetNotFoundException", "Message": "StackSetNotFound"}},
                "ListStackInstances",
            )
        return self.pages[StackSetName]


def _stack_id(account, name):
    return f"arn:aws:cloudformation:{REGION}:{account}:stack/StackSet-{name}-1234/abcd"


def test_the_pool_is_read_from_where_the_stack_sets_have_instances():
    ada, grace, linus = sorted(POOL_ACCOUNTS.values())
    pages = {
        "mlws-data-lake": [
            {"Summaries": [{"Account": linus, "StackId": _stack_id(linus, "mlws-data-lake")}]},
            {"Summaries": [{"Account": ada, "StackId": _stack_id(ada, "mlws-data-lake")}]},
        ],
        # An instance still being created has no stack yet.
        "mlws-serving": [{"Summaries": [{"Account": grace}]}],
    }
    instances = pool.stack_instances(_StackSets(pages), ACCOUNT_STACKS)
    assert instances == {
        ada: {"mlws-data-lake": _stack_id(ada, "mlws-data-lake")},
        grace: {},
        linus: {"mlws-data-lake": _stack_id(linus, "mlws-data-lake")},
    }


def test_teardown_cleans_each_account_destroys_the_stack_sets_then_checks_each_account():
    calls = []

    def step(name, code_for=None):
        def run(account, clients):
            calls.append((name, account, clients.session))
            return (code_for or {}).get(account, 0)

        return run

    def destroy():
        calls.append(("destroy", None, None))
        return 0

    accounts = sorted(POOL_ACCOUNTS.values())
    instances = {account: {} for account in accounts}  # no instance stack left to describe
    sessions = {account: object() for account in accounts}
    code = pool.teardown(
        instances,
        sessions.__getitem__,
        janitor=step("janitor", {"222222222222": 1}),  # one account's janitor fails
        destroy=destroy,
        scan=step("residue"),
    )
    assert [(name, account) for name, account, _ in calls] == [
        *(("janitor", a) for a in accounts),
        ("destroy", None),
        *(("residue", a) for a in accounts),
    ]
    # Every step ran with the account's own session, and the failure is the exit code.
    assert all(s is sessions[a] for n, a, s in calls if a is not None)
    assert code == 1


def test_a_stack_instance_that_was_not_deleted_fails_the_teardown(monkeypatch, capsys):
    use_dummy_credentials(monkeypatch, REGION)
    account = "111111111111"
    cloudformation = boto3.client("cloudformation", region_name=REGION)
    deleted, failed = _stack_id(account, "mlws-data-lake"), _stack_id(account, "mlws-serving")
    with Stubber(cloudformation) as stubber:
        for stack_id, status in ((deleted, "DELETE_COMPLETE"), (failed, "DELETE_FAILED")):
            stubber.add_response(
                "describe_stacks",
                {
                    "Stacks": [
                        {
                            "StackName": stack_id.split("/")[1],
                            "StackId": stack_id,
                            "StackStatus": status,
                            "CreationTime": "2026-12-01T09:00:00Z",
                        }
                    ]
                },
                {"StackName": stack_id},
            )
        clients = Clients(
            boto3.Session(region_name=REGION), overrides={"cloudformation": cloudformation}
        )
        code = pool._instances_deleted([deleted, failed])(account, clients)
    assert code == 1
    assert capsys.readouterr().out == (
        f"{account}: stack instance not deleted: StackSet-mlws-serving-1234 (DELETE_FAILED)\n"
    )


def test_deploy_runs_the_organiser_stack_then_publishes_then_the_stack_sets(monkeypatch):
    commands = []
    monkeypatch.setattr(pool, "_synthesize", lambda overrides: commands.append(["synth"]))
    monkeypatch.setattr(
        pool, "_publish", lambda config, region: pool.Release("abc123", [], ACCOUNT_STACKS)
    )
    args = argparse.Namespace(
        region=REGION,
        context=[
            "accounts=per-attendee",
            'attendees=["ada","grace","linus"]',
            "pool.deployment=named-accounts",
            "pool.accounts=" + json.dumps(POOL_ACCOUNTS),
        ],
    )
    code = pool.run_deploy(args, runner=lambda argv, env: commands.append(list(argv)) or 0)
    assert code == 0
    organiser, synth, stack_sets = commands
    assert organiser[organiser.index("deploy") + 1] == "mlws-organiser"
    assert synth == ["synth"]
    assert stack_sets[stack_sets.index("deploy") + 1] == "mlws-pool"
    assert "mlws-pool:Release=abc123" in stack_sets
    assert "accounts=per-attendee" in stack_sets  # the same config as the checks read
