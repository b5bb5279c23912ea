"""Properties of the attendee environment: notebooks, network, lifecycle, and least privilege.

The IAM tests read the policies as IAM will (intrinsics resolved to realistic ARNs) and assert
exact actions and resources, attendee isolation by ARN matching, and a clean IAM-linter run.
"""

from __future__ import annotations

import fnmatch
import json

import pytest
from parliament import analyze_policy_string

from tests.conftest import resources_of
from tests.infra.policies import ACCOUNT, REGION, managed_policies, resolve, role_statements
from workshop_spec.config import load_project_config

CONFIG = load_project_config()
STACK = f"{CONFIG.prefix}-attendee-environment"
THREE = ["ada", "grace", "linus"]
# The only statements allowed Resource "*": AWS offers no resource-level permission for them.
STAR_RESOURCE_SIDS = {
    "GetRegistryToken",
    "DetectLanguage",
    "PutJobMetrics",
    "ReadMetrics",
    "DescribeScaling",
    "ReadNetwork",
}


@pytest.fixture(scope="module")
def three(synth):
    """Three named attendees, default network (vpc) and permissions (least-privilege)."""
    return synth(attendees=THREE).templates[STACK]


@pytest.fixture(scope="module")
def direct(synth):
    return synth(attendees=THREE, attendee_environment__network="direct")


def notebooks(template) -> dict[str, dict]:
    """Notebook name → properties."""
    return {
        resource["Properties"]["NotebookInstanceName"]: resource["Properties"]
        for resource in resources_of(template, "AWS::SageMaker::NotebookInstance").values()
    }


def role_of(template, attendee: str) -> str:
    """The logical id of the role the attendee's notebook runs as."""
    (notebook,) = (p for n, p in notebooks(template).items() if n == f"mlws-{attendee}")
    return notebook["RoleArn"]["Fn::GetAtt"][0]


def notebook_arn(attendee: str) -> str:
    return f"arn:aws:sagemaker:{REGION}:{ACCOUNT}:notebook-instance/mlws-{attendee}"


# -- notebooks ----------------------------------------------------------------------------------


def test_one_notebook_per_attendee_with_config_type_volume_and_platform(three):
    found = notebooks(three)
    assert sorted(found) == [f"mlws-{name}" for name in THREE]
    for properties in found.values():
        assert properties["InstanceType"] == CONFIG.instance_types.notebook
        assert properties["VolumeSizeInGB"] == CONFIG.notebook_volume_gb
        assert properties["PlatformIdentifier"] == "notebook-al2023-v1"  # Amazon Linux 2023
        assert properties["RootAccess"] == "Disabled"


def test_default_config_gives_ten_attendees(templates):
    assert len(notebooks(templates[STACK])) == 10


def test_volumes_are_encrypted_with_a_rotating_customer_key(three):
    (key_id,) = resources_of(three, "AWS::KMS::Key")
    assert three["Resources"][key_id]["Properties"]["EnableKeyRotation"] is True
    for properties in notebooks(three).values():
        assert properties["KmsKeyId"] == {"Ref": key_id}


def test_each_notebook_runs_as_its_own_role(three):
    roles = {role_of(three, name) for name in THREE}
    assert len(roles) == len(THREE)


def test_vpc_mode_private_subnet_no_direct_internet_one_nat_and_s3_endpoint(three):
    private = {
        logical_id
        for logical_id, subnet in resources_of(three, "AWS::EC2::Subnet").items()
        if not subnet["Properties"].get("MapPublicIpOnLaunch")
        and "notebooks" in json.dumps(subnet["Properties"].get("Tags", []))
    }
    for properties in notebooks(three).values():
        assert properties["DirectInternetAccess"] == "Disabled"
        assert properties["SubnetId"]["Ref"] in private
        assert len(properties["SecurityGroupIds"]) == 1
    assert len(resources_of(three, "AWS::EC2::NatGateway")) == 1
    (endpoint,) = resources_of(three, "AWS::EC2::VPCEndpoint").values()
    assert endpoint["Properties"]["VpcEndpointType"] == "Gateway"
    assert ".s3" in json.dumps(endpoint["Properties"]["ServiceName"])
    assert resources_of(three, "AWS::EC2::FlowLog")


def test_notebook_security_group_has_no_ingress_and_only_web_egress(three):
    (group,) = resources_of(three, "AWS::EC2::SecurityGroup").values()
    assert "SecurityGroupIngress" not in group["Properties"]
    ports = sorted(
        (rule["FromPort"], rule["ToPort"]) for rule in group["Properties"]["SecurityGroupEgress"]
    )
    assert ports == [(443, 443)]  # AL2023's package repositories are HTTPS too


def test_public_subnets_assign_no_public_ips(three):
    for subnet in resources_of(three, "AWS::EC2::Subnet").values():
        assert subnet["Properties"]["MapPublicIpOnLaunch"] is False


def test_direct_mode_has_no_vpc_and_acknowledges_only_network_findings(direct):
    template = direct.templates[STACK]
    assert not resources_of(template, "AWS::EC2::VPC")
    for properties in notebooks(template).values():
        assert properties["DirectInternetAccess"] == "Enabled"
        assert "SubnetId" not in properties
    on_notebooks = {a.finding for a in direct.acknowledgements if a.path.endswith("-Notebook")}
    assert on_notebooks == {
        "AwsSolutions-SM1",
        "AwsSolutions-SM3",
        "NIST.800.53.R5-SageMakerNotebookInstanceInsideVPC",
        "NIST.800.53.R5-SageMakerNotebookNoDirectInternetAccess",
        "HIPAA.Security-SageMakerNotebookInstanceInsideVPC",
        "HIPAA.Security-SageMakerNotebookNoDirectInternetAccess",
    }


def test_vpc_mode_acknowledges_nothing_on_the_notebooks(synth):
    acknowledged = synth(attendees=THREE).acknowledgements
    assert not [a for a in acknowledged if a.path.endswith("-Notebook")]


def test_root_access_follows_config(synth):
    template = synth(attendees=THREE, attendee_environment__root_access=True).templates[STACK]
    assert {p["RootAccess"] for p in notebooks(template).values()} == {"Enabled"}


# -- lifecycle ----------------------------------------------------------------------------------


def test_every_notebook_uses_the_lifecycle_configuration(three):
    (logical_id,) = resources_of(three, "AWS::SageMaker::NotebookInstanceLifecycleConfig")
    for properties in notebooks(three).values():
        assert properties["LifecycleConfigName"] == {
            "Fn::GetAtt": [logical_id, "NotebookInstanceLifecycleConfigName"]
        }


def test_lifecycle_scripts_carry_the_config_values(synth):
    template = synth(
        attendees=THREE,
        attendee_environment__idle_minutes=45,
        attendee_environment__lab_repositories=["https://example.org/labs.git"],
    ).templates[STACK]
    (config,) = resources_of(template, "AWS::SageMaker::NotebookInstanceLifecycleConfig").values()
    on_create = resolve(config["Properties"]["OnCreate"][0]["Content"]["Fn::Base64"], template)
    on_start = resolve(config["Properties"]["OnStart"][0]["Content"]["Fn::Base64"], template)
    assert on_create.startswith("#!/bin/bash\n")
    assert "export LAB_REPOSITORIES=https://example.org/labs.git" in on_create
    assert "export IDLE_MINUTES=45" in on_start
    assert "export WORKSHOP_SSM_PARAMETER=/mlws/workshop" in on_start
    # the labs ship with the stack: an asset the lifecycle unpacks, no GitHub needed
    assert "export LABS_S3_URI='s3://cdk-hnb659fds-assets-123456789012-eu-west-1/" in on_create


def test_attendees_may_read_the_labs_archive_and_nothing_else_of_the_asset_bucket(three):
    statements = {s.sid: s for s in role_statements(three, role_of(three, "ada"))}
    (labs,) = statements["ReadLabs"].resources
    assert labs.startswith("arn:aws:s3:::cdk-hnb659fds-assets-123456789012-eu-west-1/")
    assert labs.endswith(".zip") and "*" not in labs


# -- the labs' parameters -----------------------------------------------------------------------
def test_the_shared_parameter_names_no_attendee_and_lists_the_parts_that_do(three):
    """Per-attendee entries outgrew the one parameter's 4 KB (tests/contracts/
    test_policy_limits.py measures every value at 100 attendees): the shared one holds only
    what is shared and the names of the parts holding each attendee's role and repository."""
    parameters = {
        r["Properties"]["Name"]: r["Properties"]
        for r in resources_of(three, "AWS::SSM::Parameter").values()
    }
    assert set(parameters) == {"/mlws/workshop", "/mlws/workshop/attendees/1"}
    assert all(p["Tier"] == "Standard" for p in parameters.values())
    shared = json.dumps(parameters["/mlws/workshop"]["Value"])
    part = json.dumps(parameters["/mlws/workshop/attendees/1"]["Value"])
    assert '\\"attendee_parameters\\":[\\"/mlws/workshop/attendees/1\\"]' in shared
    for attendee in THREE:
        role = role_of(three, attendee)
        assert role in part and role not in shared, attendee
    assert "execution_roles" in part and "execution_roles" not in shared


# -- least privilege ----------------------------------------------------------------------------


def test_no_aws_managed_policy_in_least_privilege_mode(three):
    """Every role this project writes; CDK's own default-security-group helper is exempt."""
    roles = resources_of(three, "AWS::IAM::Role")
    ours = {k: r for k, r in roles.items() if "CustomResourceProvider" not in k}
    assert len(ours) == len(THREE) + 1  # the attendees' roles (their jobs' too), flow logs
    for role in ours.values():
        for arn in role["Properties"].get("ManagedPolicyArns", []):
            assert ":aws:policy/" not in json.dumps(arn), arn


def test_no_wildcard_actions_and_star_resources_only_where_aws_requires(three):
    for document in managed_policies(three).values():
        for statement in document["Statement"]:
            actions = (
                statement["Action"]
                if isinstance(statement["Action"], list)
                else [statement["Action"]]
            )
            assert not [a for a in actions if "*" in a], statement
            resources = (
                statement["Resource"]
                if isinstance(statement["Resource"], list)
                else [statement["Resource"]]
            )
            if "*" in resources:
                assert statement["Sid"] in STAR_RESOURCE_SIDS, statement


def test_attendee_role_statements_are_exactly_these(three):
    statements = {s.sid: s for s in role_statements(three, role_of(three, "ada"))}
    assert set(statements) == {
        "UseSharedEndpoints", "RunWorkshopPipelines", "PutJobMetrics", "ReadJobLogs", "ReadMetrics",
        "ReadWorkshopParameter", "DescribeScaling", "AutoscalingServiceRole",
        "ReadWorkshopData", "ListWorkshopData", "WriteScratch",
        "UseDataKeyThroughS3", "QueryInWorkshopWorkgroup", "ReadWorkshopCatalog",
        "WriteQueryResults", "DetectLanguage", "PullWorkshopImage", "GetRegistryToken",
        "ReadLabs", "ReadReviewsEtlRuns", "ReviewBankModelPackages",
        "AttachToWorkshopSubnets", "ShareInterfaceWithSageMaker", "DetachFromWorkshopSubnets",
        "ReadNetwork",
        "OwnNotebook", "WriteOwnPrefix", "CreateNotebookLogGroup", "WriteOwnNotebookLogs",
        "CreateOwnResources", "OperateOwnJobs", "OperateOwnEndpoints", "PassOwnRole",
        "ReadOwnRole", "WriteOwnJobLogs", "CreateJobLogGroups", "RegisterOwnScalableTargets",
        "ScaleOwnEndpoints", "OwnTargetTrackingAlarms", "PushAndPullOwnImages",
    }  # fmt: skip
    sagemaker = f"arn:aws:sagemaker:{REGION}:{ACCOUNT}"
    assert set(statements["OwnNotebook"].actions) == {
        "sagemaker:DescribeNotebookInstance",
        "sagemaker:StopNotebookInstance",
    }
    assert statements["OwnNotebook"].resources == (notebook_arn("ada"),)
    assert statements["WriteOwnPrefix"].resources == ("arn:aws:s3:::curatedbucket/attendees/ada/*",)
    assert statements["WriteScratch"].resources == ("arn:aws:s3:::curatedbucket/scratch/*",)
    assert set(statements["CreateOwnResources"].resources) == {
        f"{sagemaker}:{kind}/mlws-ada-*"
        for kind in (
            "training-job", "hyper-parameter-tuning-job", "processing-job", "transform-job",
            "model", "endpoint-config", "endpoint",
        )
    }  # fmt: skip
    assert statements["CreateOwnResources"].conditions == {
        "StringEquals": {"aws:RequestTag/workshop": "mlws"}
    }
    # Module 4 reads the deploy's ETL run: that one job, and nothing that starts or changes it.
    assert set(statements["ReadReviewsEtlRuns"].actions) == {
        "glue:GetJob", "glue:GetJobRun", "glue:GetJobRuns",
    }  # fmt: skip
    assert statements["ReadReviewsEtlRuns"].resources == (
        f"arn:aws:glue:{REGION}:{ACCOUNT}:job/mlws-reviews-etl",
    )
    assert statements["QueryInWorkshopWorkgroup"].resources == (
        f"arn:aws:athena:{REGION}:{ACCOUNT}:workgroup/mlws-workgroup",
    )
    assert statements["ReadWorkshopCatalog"].resources == (
        f"arn:aws:glue:{REGION}:{ACCOUNT}:catalog",
        f"arn:aws:glue:{REGION}:{ACCOUNT}:database/mlws_datalake",
        f"arn:aws:glue:{REGION}:{ACCOUNT}:table/mlws_datalake/*",
    )
    assert set(statements["DetectLanguage"].actions) == {
        "comprehend:DetectSentiment",
        "comprehend:DetectKeyPhrases",
        "comprehend:DetectEntities",
        "comprehend:BatchDetectSentiment",
        "comprehend:BatchDetectEntities",
        "comprehend:BatchDetectKeyPhrases",
    }
    # Everyone pulls the workshop image; pushes go only to the attendee's own repository, from
    # the attendee's own policy (tests/contracts/test_attendee_isolation.py tells the
    # repositories apart; here every imported repository resolves to one name).
    assert statements["PullWorkshopImage"].resources == (
        f"arn:aws:ecr:{REGION}:{ACCOUNT}:repository/mlws-model-image",
    )
    assert not [a for a in statements["PullWorkshopImage"].actions if "Upload" in a or "Put" in a]
    assert statements["PushAndPullOwnImages"].policy.startswith("AttendeeadaOwnImages")
    assert {"ecr:PutImage", "ecr:CompleteLayerUpload"} <= set(
        statements["PushAndPullOwnImages"].actions
    )
    assert not [a for a in statements["PushAndPullOwnImages"].actions if "Delete" in a]
    assert statements["ReadWorkshopParameter"].resources == (
        f"arn:aws:ssm:{REGION}:{ACCOUNT}:parameter/mlws/workshop",
        f"arn:aws:ssm:{REGION}:{ACCOUNT}:parameter/mlws/workshop/attendees/*",
    )
    assert statements["UseDataKeyThroughS3"].conditions == {
        "StringEquals": {"kms:ViaService": f"s3.{REGION}.amazonaws.com"}
    }


def test_pass_role_only_for_the_attendees_own_role_and_only_to_sagemaker(three):
    """Jobs run as the attendee's own role: passing only yourself gives a job nothing more
    (tests/contracts/test_attendee_isolation.py evaluates every role in the app)."""
    for name in THREE:
        role_id = role_of(three, name)
        passes = [s for s in role_statements(three, role_id) if "iam:PassRole" in s.actions]
        assert len(passes) == 1
        assert passes[0].resources == (f"arn:aws:iam::{ACCOUNT}:role/{role_id}",)
        assert passes[0].conditions == {
            "StringEquals": {"iam:PassedToService": "sagemaker.amazonaws.com"}
        }


@pytest.mark.parametrize(
    "action",
    [
        "sagemaker:StopNotebookInstance",
        "sagemaker:DeleteNotebookInstance",
        "sagemaker:StartNotebookInstance",
        "sagemaker:UpdateNotebookInstance",
        "sagemaker:CreatePresignedNotebookInstanceUrl",
    ],
)
def test_attendee_cannot_touch_another_attendees_notebook(three, action):
    for name in THREE:
        for other in THREE:
            if other == name:
                continue
            allowing = [
                s.sid for s in role_statements(three, role_of(three, name))
                if s.allows(action, notebook_arn(other))
            ]  # fmt: skip
            assert not allowing, f"{name} may {action} {other}'s notebook via {allowing}"


def test_attendee_cannot_write_another_attendees_prefix(three):
    for name in THREE:
        for other in THREE:
            key = f"arn:aws:s3:::curatedbucket/attendees/{other}/model.tar.gz"
            writes = [
                s.sid for s in role_statements(three, role_of(three, name))
                if s.allows("s3:PutObject", key) or s.allows("s3:DeleteObject", key)
            ]  # fmt: skip
            assert bool(writes) == (other == name), (name, other, writes)


def test_attendee_may_stop_only_their_own_notebook(three):
    statements = list(role_statements(three, role_of(three, "grace")))
    assert any(
        s.allows("sagemaker:StopNotebookInstance", notebook_arn("grace")) for s in statements
    )


def test_the_role_jobs_run_as_writes_only_its_attendees_and_the_scratch_prefix(three):
    role_id = role_of(three, "ada")
    statements = list(role_statements(three, role_id))
    assert three["Resources"][role_id]["Properties"]["AssumeRolePolicyDocument"]["Statement"][0][
        "Principal"
    ] == {"Service": "sagemaker.amazonaws.com"}
    assert any(
        s.allows("s3:PutObject", "arn:aws:s3:::curatedbucket/attendees/ada/out") for s in statements
    )
    assert not any(
        s.allows("s3:PutObject", "arn:aws:s3:::curatedbucket/attendees/grace/out")
        for s in statements
    )
    assert not any(
        s.allows("s3:PutObject", "arn:aws:s3:::rawbucket/bike-sharing/hour.csv") for s in statements
    )


def test_every_policy_fits_iams_size_limit_with_real_names(three):
    """IAM refuses a managed policy over 6,144 characters (whitespace excluded) at deploy time,
    long after synth; resolved with bucket and role names as long as CloudFormation makes them."""
    for logical_id, document in managed_policies(three).items():
        text = json.dumps(document, separators=(",", ":"))
        # the test resolver's names are shorter than real ones: count 40 more per ARN
        padded = len(text) + 40 * text.count("arn:aws:")
        assert padded < 6144, (logical_id, padded)


def test_every_policy_passes_the_iam_linter(three):
    for logical_id, document in managed_policies(three).items():
        findings = analyze_policy_string(json.dumps(document)).findings
        assert not findings, (logical_id, [(f.issue, f.detail) for f in findings])


def test_seed_mode_attaches_exactly_the_original_managed_policies(synth):
    seeded = synth(attendees=THREE, attendee_environment__permissions="seed")
    template = seeded.templates[STACK]
    attached = {
        resolve(arn, template).rsplit("/", 1)[-1]
        for arn in template["Resources"][role_of(template, "ada")]["Properties"][
            "ManagedPolicyArns"
        ]
    }
    assert attached == {
        "AmazonSageMakerFullAccess", "AmazonS3FullAccess", "AmazonEC2ContainerRegistryReadOnly",
        "AmazonEC2ContainerRegistryFullAccess", "AmazonEC2ContainerServiceforEC2Role",
        "AmazonAthenaFullAccess", "ComprehendFullAccess",
    }  # fmt: skip
    reasons = {
        a.reason for a in seeded.acknowledgements if "IAM4" in a.finding and "Attendee" in a.path
    }
    assert len(reasons) == 1 and "permissions=seed" in next(iter(reasons))


# -- hand-out -----------------------------------------------------------------------------------


def test_handout_per_attendee_names_notebook_url_and_prefixes(three):
    outputs = resolve(three["Outputs"], three)
    handout = json.loads(outputs["Handoutada"]["Value"])
    assert handout["notebook"] == "mlws-ada"
    assert fnmatch.fnmatch(handout["url"], "https://*.console.aws.amazon.com/sagemaker/*mlws-ada*")
    assert handout["own_prefix"].endswith("/attendees/ada/")
    shared = json.loads(outputs["HandoutShared"]["Value"])
    assert shared["athena_workgroup"] == "mlws-workgroup"
    assert "model_repository_uri" in shared


# -- environment=studio -------------------------------------------------------------------------


@pytest.fixture(scope="module")
def studio(synth):
    return synth(attendees=THREE, attendee_environment__environment="studio").templates[STACK]


def test_studio_domain_is_vpc_only_encrypted_and_stops_idle_apps(studio):
    (domain,) = resources_of(studio, "AWS::SageMaker::Domain").values()
    properties = domain["Properties"]
    assert properties["AppNetworkAccessType"] == "VpcOnly"
    assert properties["AuthMode"] == "IAM"
    (key_id,) = resources_of(studio, "AWS::KMS::Key")
    assert properties["KmsKeyId"] == {"Fn::GetAtt": [key_id, "Arn"]}
    idle = properties["DefaultUserSettings"]["JupyterLabAppSettings"]["AppLifecycleManagement"]
    assert idle["IdleSettings"]["LifecycleManagement"] == "ENABLED"
    assert idle["IdleSettings"]["IdleTimeoutInMinutes"] == 60
    assert not resources_of(studio, "AWS::SageMaker::NotebookInstance")


def test_studio_has_a_profile_per_attendee_running_as_that_attendees_role(studio):
    profiles = {
        p["Properties"]["UserProfileName"]: p
        for p in resources_of(studio, "AWS::SageMaker::UserProfile").values()
    }
    assert sorted(profiles) == [f"mlws-{name}" for name in THREE]
    roles = {
        json.dumps(p["Properties"]["UserSettings"]["ExecutionRole"]) for p in profiles.values()
    }
    assert len(roles) == len(THREE)


def test_studio_teardown_deletes_the_home_volume_after_the_profiles(studio):
    (teardown_id,) = resources_of(studio, "Custom::StudioHomeTeardown")
    (domain_id,) = resources_of(studio, "AWS::SageMaker::Domain")
    teardown = studio["Resources"][teardown_id]
    assert teardown["Properties"]["DomainId"] == {"Fn::GetAtt": [domain_id, "DomainId"]}
    for profile in resources_of(studio, "AWS::SageMaker::UserProfile").values():
        assert teardown_id in profile["DependsOn"]  # profiles go first, then domain + EFS


def test_studio_attendee_reads_only_its_own_profile(studio):
    for name in THREE:
        statements = {s.sid: s for s in role_statements(studio, role_of_profile(studio, name))}
        assert "OwnNotebook" not in statements
        own = statements["OwnStudioProfile"]
        assert any(r.endswith(f"/mlws-{name}") for r in own.resources)
        assert not any(r.endswith(f"/mlws-{o}") for o in THREE if o != name for r in own.resources)


def role_of_profile(template, attendee: str) -> str:
    (profile,) = (
        p for p in resources_of(template, "AWS::SageMaker::UserProfile").values()
        if p["Properties"]["UserProfileName"] == f"mlws-{attendee}"
    )  # fmt: skip
    return profile["Properties"]["UserSettings"]["ExecutionRole"]["Fn::GetAtt"][0]


def test_studio_delivers_the_labs_through_a_built_in_jupyterlab_lifecycle_configuration(studio):
    """The labs arrive in every attendee's JupyterLab space: a JupyterLab lifecycle
    configuration, built in on the domain so it runs at every space start and cannot be
    deselected (https://docs.aws.amazon.com/sagemaker/latest/dg/studio-lifecycle-configurations.html)."""
    (config_id, config), *others = resources_of(
        studio, "AWS::SageMaker::StudioLifecycleConfig"
    ).items()
    assert not others
    properties = config["Properties"]
    assert properties["StudioLifecycleConfigAppType"] == "JupyterLab"
    script = json.dumps(properties["StudioLifecycleConfigContent"]["Fn::Base64"])
    assert "export WORKSHOP_SSM_PARAMETER=/mlws/workshop" in script
    assert "export LABS_S3_URI=" in script and ".zip" in script
    (domain,) = resources_of(studio, "AWS::SageMaker::Domain").values()
    settings = domain["Properties"]["DefaultUserSettings"]["JupyterLabAppSettings"]
    arn = {"Fn::GetAtt": [config_id, "StudioLifecycleConfigArn"]}
    assert settings["BuiltInLifecycleConfigArn"] == arn
    assert settings["LifecycleConfigArns"] == [arn]


def test_studio_attendee_owns_only_private_spaces_of_their_own_profile(studio):
    """Create/update/delete a space and create/delete its app only with the owner condition
    on the attendee's own profile and a private space (the contract checker evaluates it:
    tests/contracts/test_attendee_isolation.py)."""
    for name in THREE:
        statements = {s.sid: s for s in role_statements(studio, role_of_profile(studio, name))}
        for sid, kind in (("OwnPrivateSpaces", ":space/"), ("OwnSpaceApps", ":app/")):
            statement = statements[sid]
            assert all(kind in resource for resource in statement.resources), statement
            owner = statement.conditions["ArnLike"]["sagemaker:OwnerUserProfileArn"]
            assert owner.endswith(f"/mlws-{name}"), owner
            assert statement.conditions["StringEquals"] == {"sagemaker:SpaceSharingType": "Private"}
        tagging = statements["TagSpacesAndAppsOnCreate"]
        assert tagging.conditions == {"Null": {"sagemaker:TaggingAction": "false"}}
        assert statements["ListStudioSpacesAndApps"].resources == ("*",)
