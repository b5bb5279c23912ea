"""``accounts: per-attendee``: one attendee's workshop for every pool account, and the
organiser's stacks that share the assets, keep the roster, watch the cost and deploy the pool."""

from __future__ import annotations

import json

import aws_cdk as cdk
import pytest
from aws_cdk.assertions import Template

from stacks.organiser import OrganiserStack, PoolStack
from tests.conftest import resources_of
from tests.infra.policies import resolve
from tests.infra.pool_configs import ACCOUNT_STACKS, ORGANISER_STACKS, PER_ATTENDEE, POOL_ACCOUNTS
from workshop_spec.config import ACCOUNT_ATTENDEE, load_project_config
from workshopctl.workshop_studio_templates import BOOTSTRAP_MARKERS


@pytest.fixture(scope="module")
def pool(synth):
    return synth(**PER_ATTENDEE)


def _statements(template):
    (policy,) = resources_of(template, "AWS::S3::BucketPolicy").values()
    return policy["Properties"]["PolicyDocument"]["Statement"]


def test_the_app_holds_the_account_stacks_and_the_organisers(pool):
    assert sorted(pool.templates) == sorted(ACCOUNT_STACKS + ORGANISER_STACKS)


def test_each_account_gets_the_workshop_for_one_attendee(pool):
    environment = pool.templates["mlws-attendee-environment"]
    notebooks = resources_of(environment, "AWS::SageMaker::NotebookInstance").values()
    assert [n["Properties"]["NotebookInstanceName"] for n in notebooks] == [
        f"mlws-{ACCOUNT_ATTENDEE}"
    ]
    users = resources_of(pool.templates["mlws-attendee-sign-in"], "AWS::IAM::User")
    assert len(users) == 1
    # The event's 300 USD, split across three accounts.
    guardrails = pool.templates["mlws-guardrails"]
    (budget,) = resources_of(guardrails, "AWS::Budgets::Budget").values()
    assert budget["Properties"]["Budget"]["BudgetLimit"]["Amount"] == 100


@pytest.mark.parametrize("stack", ACCOUNT_STACKS)
def test_account_templates_need_no_cdk_bootstrap_and_no_fixed_account(pool, stack):
    text = json.dumps(pool.templates[stack])
    assert not BOOTSTRAP_MARKERS.findall(text)
    for account in POOL_ACCOUNTS.values():
        assert account not in text  # env-agnostic: the same template in every account


def test_stack_sets_deploy_each_account_stack_in_order_from_the_organisers_bucket(pool):
    template = pool.templates["mlws-pool"]
    stack_sets = resources_of(template, "AWS::CloudFormation::StackSet")
    by_name = {s["Properties"]["StackSetName"]: (lid, s) for lid, s in stack_sets.items()}
    assert list(by_name) == ACCOUNT_STACKS
    previous = None
    for name in ACCOUNT_STACKS:
        logical_id, stack_set = by_name[name]
        properties = stack_set["Properties"]
        assert properties["PermissionModel"] == "SELF_MANAGED"
        assert properties["ExecutionRoleName"] == "AWSCloudFormationStackSetExecutionRole"
        (group,) = properties["StackInstancesGroup"]
        assert group["DeploymentTargets"]["Accounts"] == sorted(POOL_ACCOUNTS.values())
        _, parts = properties["TemplateURL"]["Fn::Join"]
        assert parts[0] == "https://" and "mlws-organiser" in json.dumps(parts[1])
        assert {"Ref": "Release"} in parts  # a new release is a new URL: the StackSet updates
        assert parts[-1] == f"/templates/{name}.template.json"
        # Only templates that read assets take the asset parameters, and all of them from
        # the organiser's bucket under the release's assets/ prefix.
        wants = "AssetsBucketName" in pool.templates[name].get("Parameters", {})
        given = {p["ParameterKey"]: p["ParameterValue"] for p in properties.get("Parameters", [])}
        assert bool(given) == wants, name
        if wants:
            assert given["AssetsBucketName"] == {
                "Fn::ImportValue": given["AssetsBucketName"]["Fn::ImportValue"]
            }
            assert "mlws-organiser" in given["AssetsBucketName"]["Fn::ImportValue"]
            assert given["AssetsBucketPrefix"]["Fn::Join"][1] == [
                "pool/",
                {"Ref": "Release"},
                "/assets/",
            ]
        assert stack_set.get("DependsOn", []) == ([] if previous is None else [previous])
        previous = logical_id


def test_account_stacks_depend_only_on_stacks_deployed_before_them(pool):
    manifest = json.loads((pool.outdir / "manifest.json").read_text())
    for position, name in enumerate(ACCOUNT_STACKS):
        dependencies = [
            d for d in manifest["artifacts"][name].get("dependencies", []) if d in ACCOUNT_STACKS
        ]
        assert all(ACCOUNT_STACKS.index(d) < position for d in dependencies), name


def test_pool_bucket_is_readable_by_the_pool_accounts_only_and_over_tls(pool):
    template = pool.templates["mlws-organiser"]
    (bucket,) = resources_of(template, "AWS::S3::Bucket").values()
    properties = bucket["Properties"]
    assert properties["PublicAccessBlockConfiguration"]["RestrictPublicBuckets"] is True
    assert properties["BucketEncryption"]["ServerSideEncryptionConfiguration"]
    statements = _statements(template)
    assert any(
        s["Effect"] == "Deny" and s["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
        for s in statements
    )
    allows = [s for s in statements if s["Effect"] == "Allow" and "Sid" in s]
    assert {s["Sid"] for s in allows} == {
        "PoolAccountsReadTemplatesAndAssets",
        "PoolAccountsLocateTheBucket",
    }
    for statement in allows:
        principals = resolve(statement["Principal"]["AWS"], template)
        assert sorted(principals) == sorted(
            f"arn:aws:iam::{account}:root" for account in POOL_ACCOUNTS.values()
        )
        actions = (
            statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
        )
        assert all(a.startswith(("s3:Get",)) for a in actions)  # reads only
    objects = next(s for s in allows if s["Sid"] == "PoolAccountsReadTemplatesAndAssets")
    assert resolve(objects["Resource"], template).endswith("/pool/*")


def test_roster_and_pool_budget_name_the_accounts(pool):
    template = pool.templates["mlws-organiser"]
    (parameter,) = resources_of(template, "AWS::SSM::Parameter").values()
    assert parameter["Properties"]["Name"] == "/mlws/pool/roster"
    assert json.loads(parameter["Properties"]["Value"]) == POOL_ACCOUNTS
    (budget,) = resources_of(template, "AWS::Budgets::Budget").values()
    data = budget["Properties"]["Budget"]
    assert data["BudgetLimit"]["Amount"] == 300  # the whole event
    assert data["CostFilters"] == {"LinkedAccount": sorted(POOL_ACCOUNTS.values())}


def _organizational_unit_stacks() -> tuple[dict, dict]:
    """The organiser's stacks of an organizational-unit pool, over two small account stacks
    (one reading an asset parameter): no need to synthesize the whole workshop again."""
    config = load_project_config(
        {
            "attendees": '["ada","grace"]',
            "accounts": "per-attendee",
            "pool.deployment": "organizational-unit",
            "pool.organization_id": "o-abcdef1234",
            "pool.organizational_unit": "ou-ab12-cd34ef56",
        }
    )
    app = cdk.App()
    first, second = cdk.Stack(app, "mlws-first"), cdk.Stack(app, "mlws-second")
    cdk.CfnParameter(first, "AssetsBucketName", type="String")
    organiser = OrganiserStack(app, "mlws-organiser", config=config)
    pool = PoolStack(
        app, "mlws-pool", config=config, organiser=organiser, account_stacks=[first, second]
    )
    return (
        Template.from_stack(organiser).to_json(),
        Template.from_stack(pool).to_json(),
    )


def test_an_organizational_unit_pool_is_read_by_its_org_path_and_auto_deployed_in_order():
    organiser, pool = _organizational_unit_stacks()
    for statement in (s for s in _statements(organiser) if s["Effect"] == "Allow"):
        if "Sid" not in statement:
            continue
        assert statement["Principal"] == {"AWS": "*"}
        assert statement["Condition"] == {
            "ForAnyValue:StringLike": {
                "aws:PrincipalOrgPaths": ["o-abcdef1234/*/ou-ab12-cd34ef56/*"]
            }
        }
    (budget,) = resources_of(organiser, "AWS::Budgets::Budget").values()
    assert budget["Properties"]["Budget"]["CostFilters"] == {"TagKeyValue": ["user:workshop$mlws"]}
    roster = resources_of(organiser, "AWS::SSM::Parameter").popitem()[1]["Properties"]["Value"]
    assert json.loads(roster) == {"ada": "unassigned", "grace": "unassigned"}
    stack_sets = list(resources_of(pool, "AWS::CloudFormation::StackSet").items())
    (first_id, first), (_, second) = stack_sets
    for stack_set in (first, second):
        properties = stack_set["Properties"]
        assert properties["PermissionModel"] == "SERVICE_MANAGED"
        assert properties["AutoDeployment"]["Enabled"] is True
        assert properties["AutoDeployment"]["RetainStacksOnAccountRemoval"] is False
        (group,) = properties["StackInstancesGroup"]
        assert group["DeploymentTargets"] == {"OrganizationalUnitIds": ["ou-ab12-cd34ef56"]}
        assert "AdministrationRoleARN" not in properties
    assert "DependsOn" not in first["Properties"]["AutoDeployment"]
    assert second["DependsOn"] == [first_id]
    depends_on = resolve(second["Properties"]["AutoDeployment"]["DependsOn"], pool)
    assert depends_on[0].startswith("arn:aws:cloudformation:")
    assert "Parameters" in first["Properties"] and "Parameters" not in second["Properties"]
