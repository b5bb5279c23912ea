"""Properties of the model-image stack: the repository, the Docker-free build, least privilege."""

from __future__ import annotations

import pytest

from tests.conftest import resources_of
from workshop_spec.config import load_project_config

CONFIG = load_project_config()
STACK = f"{CONFIG.prefix}-model-image"


@pytest.fixture(scope="module")
def model_image(templates):
    return templates[STACK]


def _one(template, resource_type):
    (resource,) = resources_of(template, resource_type).values()
    return resource


def _repositories(template) -> dict[str, dict]:
    """Logical id → repository: the workshop's (``Repository...``) and one per attendee
    (``AttendeeRepository...``)."""
    return resources_of(template, "AWS::ECR::Repository")


def _workshop_repository_id(template) -> str:
    (logical_id,) = [i for i in _repositories(template) if i.startswith("Repository")]
    return logical_id


def _workshop_repository(template) -> dict:
    return _repositories(template)[_workshop_repository_id(template)]


def _key_arn(template):
    (key_id,) = resources_of(template, "AWS::KMS::Key")
    return {"Fn::GetAtt": [key_id, "Arn"]}


def test_one_repository_per_attendee_besides_the_workshops(model_image):
    """Module 7: attendees push their own builds to repositories of their own."""
    attendee_repositories = [i for i in _repositories(model_image) if i.startswith("Attendee")]
    assert len(attendee_repositories) == len(CONFIG.attendee_names)
    assert len(_repositories(model_image)) == len(CONFIG.attendee_names) + 1


def test_every_repository_scans_on_push_with_immutable_tags_and_kms(model_image):
    for repository in _repositories(model_image).values():
        properties = repository["Properties"]
        assert properties["ImageScanningConfiguration"] == {"ScanOnPush": True}
        assert properties["ImageTagMutability"] == "IMMUTABLE"
        assert properties["EncryptionConfiguration"] == {
            "EncryptionType": "KMS",
            "KmsKey": _key_arn(model_image),
        }


def test_every_repository_keeps_the_configured_number_of_images(synth):
    template = synth(model_image__keep_images=4).templates[STACK]
    for repository in _repositories(template).values():
        policy = repository["Properties"]["LifecyclePolicy"]
        assert '"countNumber":4' in policy["LifecyclePolicyText"].replace(" ", "")


def test_destroy_empties_every_repository_retain_keeps_them(model_image, synth):
    """Teardown removes what attendees pushed along with the deployed image."""
    for destroyed in _repositories(model_image).values():
        assert destroyed["Properties"]["EmptyOnDelete"] is True
        assert destroyed["DeletionPolicy"] == "Delete"
    for kept in _repositories(synth(retention="retain").templates[STACK]).values():
        assert kept["DeletionPolicy"] == "Retain"
        assert not kept["Properties"].get("EmptyOnDelete")


def test_codebuild_builds_amd64_from_the_uploaded_source_and_pushes_the_tag(model_image):
    project = _one(model_image, "AWS::CodeBuild::Project")["Properties"]
    assert project["Source"]["Type"] == "S3"
    assert project["Environment"]["PrivilegedMode"] is True  # the Docker daemon needs it
    assert project["EncryptionKey"] == _key_arn(model_image)
    spec = project["Source"]["BuildSpec"]
    assert "docker build --platform linux/amd64" in spec
    assert '[ \\"$CODEBUILD_BUILD_SUCCEEDING\\" = \\"1\\" ] && docker push' in spec
    variables = {v["Name"]: v["Value"] for v in project["Environment"]["EnvironmentVariables"]}
    assert variables["BASE_IMAGE"].startswith("public.ecr.aws/")  # no Docker Hub pull limits


def test_the_deploy_runs_the_build_with_the_source_hash_as_tag(model_image):
    image = _one(model_image, "Custom::ModelImage")["Properties"]
    assert image["ImageTag"].startswith("src-") and len(image["ImageTag"]) == 20
    (function_id,) = resources_of(model_image, "AWS::Lambda::Function")
    assert image["ServiceToken"] == {"Fn::GetAtt": [function_id, "Arn"]}
    outputs = model_image["Outputs"]
    assert outputs["ImageUri"]["Value"] == {"Fn::GetAtt": ["ModelImage", "ImageUri"]}


def _statements(template, sid_prefix=""):
    statements = {}
    for policy in resources_of(template, "AWS::IAM::ManagedPolicy").values():
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]:
            statements[statement["Sid"]] = statement
    return statements


def _as_list(value):
    return value if isinstance(value, list) else [value]


def test_roles_have_no_inline_policies(model_image):
    assert resources_of(model_image, "AWS::IAM::Policy") == {}
    for role in resources_of(model_image, "AWS::IAM::Role").values():
        assert "Policies" not in role["Properties"]
        assert "ManagedPolicyArns" not in role["Properties"]  # no AWS-managed policies


def test_build_role_may_push_only_to_the_workshop_repository(model_image):
    statements = _statements(model_image)
    repository_id = _workshop_repository_id(model_image)
    push = statements["PushModelImage"]
    assert push["Resource"] == {"Fn::GetAtt": [repository_id, "Arn"]}
    assert sorted(_as_list(push["Action"])) == sorted(
        [
            "ecr:BatchCheckLayerAvailability",
            "ecr:BatchGetImage",
            "ecr:GetDownloadUrlForLayer",
            "ecr:InitiateLayerUpload",
            "ecr:UploadLayerPart",
            "ecr:CompleteLayerUpload",
            "ecr:PutImage",
        ]
    )
    assert statements["EcrLogin"] == {
        "Sid": "EcrLogin",
        "Effect": "Allow",
        "Action": "ecr:GetAuthorizationToken",
        "Resource": "*",
    }
    wildcard = [s for s in statements.values() if s["Resource"] == "*"]
    assert [s["Sid"] for s in wildcard] == ["EcrLogin"]  # the only "*" AWS requires
    assert not any("*" in a for s in statements.values() for a in _as_list(s["Action"]))


def test_build_function_may_run_only_the_image_build(model_image):
    statements = _statements(model_image)
    (project_id,) = resources_of(model_image, "AWS::CodeBuild::Project")
    assert statements["RunImageBuild"]["Resource"] == {"Fn::GetAtt": [project_id, "Arn"]}
    assert sorted(_as_list(statements["RunImageBuild"]["Action"])) == [
        "codebuild:BatchGetBuilds",
        "codebuild:StartBuild",
    ]
    assert statements["SkipExistingImage"]["Action"] == "ecr:DescribeImages"


def test_log_groups_expire_are_encrypted_and_go_with_the_stack(model_image):
    log_groups = resources_of(model_image, "AWS::Logs::LogGroup").values()
    assert len(log_groups) == 2
    for log_group in log_groups:
        assert log_group["Properties"]["RetentionInDays"] == CONFIG.log_retention_days
        assert log_group["Properties"]["KmsKeyId"] == _key_arn(model_image)
        assert log_group["DeletionPolicy"] == "Delete"


def test_docker_mode_builds_with_the_cli_instead_of_codebuild(synth):
    template = synth(model_image__build="docker").templates[STACK]
    assert resources_of(template, "AWS::CodeBuild::Project") == {}
    assert resources_of(template, "Custom::ModelImage") == {}
    assert "container-assets" in str(template["Outputs"]["ImageUri"]["Value"])
    assert _workshop_repository(template)  # the serving stack's default image lives there
