"""Attendee isolation as evaluated IAM decisions, not string matching.

For every mutating action that an attendee's policies grant (SageMaker, S3, ECR, Glue, Athena,
Application Auto Scaling, CloudWatch, Logs, SSM, IAM), attendee A tries it on attendee B's
resources and on the shared resources the stacks deploy, with the most favourable request
context A could send. Each request is evaluated against A's identity policies and the
resource's own policy (:meth:`CloudAssembly.decide`); every allowed one must be a named shared
permission below, with the reason the workshop wants it. And the only role A may pass is A's
own, so no job A starts can do what A may not.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from tests.contracts.conftest import Deployed
from workshop_spec.config import ATTENDEES_PREFIX, SCRATCH_PREFIX
from workshopctl import service_reference
from workshopctl.cloud_assembly import Role
from workshopctl.labs_parameters import attendee_parameters, attendee_values, shared_parameter

SERVICES = (
    "sagemaker", "s3", "ecr", "glue", "athena", "application-autoscaling", "cloudwatch", "logs",
    "ssm", "iam",
)  # fmt: skip
MUTATING = (
    "Create", "Delete", "Update", "Put", "Stop", "Start", "Add", "Remove", "Tag", "Untag",
    "Register", "Deregister", "Upload", "Initiate", "Complete", "Abort", "Attach", "Detach",
    "Set", "Enable", "Disable", "Invoke", "BatchDelete", "BatchPut", "Pass", "Send", "Restore",
    "Replicate", "Modify", "Associate", "Disassociate", "Import", "Retry", "Send",
)  # fmt: skip

ECR_PUSH = ("ecr:InitiateLayerUpload", "ecr:UploadLayerPart", "ecr:CompleteLayerUpload",
            "ecr:PutImage")  # fmt: skip

# Registering a scalable target for a SageMaker variant also needs these on the endpoint
# (Application Auto Scaling User Guide, "Permissions required for API actions":
# https://docs.aws.amazon.com/autoscaling/application/userguide/security_iam_id-based-policy-examples.html).
AUTOSCALING_NEEDS = ("sagemaker:DescribeEndpoint", "sagemaker:UpdateEndpointWeightsAndCapacities")


@dataclass(frozen=True)
class Target:
    arn: str
    owner: str  # "attendee <name>" or "shared: <what>"
    context: tuple[tuple[str, str], ...] = ()
    endpoint: str | None = None  # a scalable target's endpoint ARN


@dataclass(frozen=True)
class NamedPermission:
    """A shared resource attendees are meant to touch, only through these actions."""

    actions: tuple[str, ...]
    arn_pattern: str
    reason: str


def granted_mutations(role: Role) -> set[str]:
    """Every mutating action of the isolation services that ``role``'s Allow statements name
    (wildcards expanded against the IAM action list)."""
    found: set[str] = set()
    for _, document in role.policies:
        for statement in document["Statement"]:
            if statement["Effect"] != "Allow":
                continue
            patterns = statement.get("Action", [])
            for pattern in [patterns] if isinstance(patterns, str) else patterns:
                service = pattern.split(":")[0]
                if service not in SERVICES:
                    continue
                for action in service_reference.actions(service):
                    if fnmatch.fnmatchcase(action.lower(), pattern.lower()):
                        verb = action.split(":")[1]
                        if verb.startswith(MUTATING):
                            found.add(action)
    return found


def other_attendees_targets(deployed: Deployed, other: str) -> Iterator[Target]:
    assembly, config = deployed.assembly, deployed.config
    region, account, prefix = assembly.region, assembly.account, config.prefix
    sm = f"arn:aws:sagemaker:{region}:{account}"
    name = f"{prefix}-{other}-x"
    owner = f"attendee {other}"
    tag = (("aws:ResourceTag/attendee", other), ("aws:ResourceTag/workshop", prefix))
    for kind in (
        "training-job", "hyper-parameter-tuning-job", "processing-job", "transform-job",
        "model", "endpoint-config", "endpoint",
    ):  # fmt: skip
        yield Target(f"{sm}:{kind}/{name}", owner, tag)
    yield Target(f"{sm}:notebook-instance/{config.notebook_name(other)}", owner, tag)
    curated = deployed.bucket("CuratedBucket")
    yield Target(f"arn:aws:s3:::{curated}/{ATTENDEES_PREFIX}{other}/model.tar.gz", owner)
    logs = f"arn:aws:logs:{region}:{account}:log-group:/aws/sagemaker"
    yield Target(f"{logs}/TrainingJobs:log-stream:{name}/algo-1", owner)
    yield Target(f"{logs}/Endpoints/{name}", owner)
    alarm = f"arn:aws:cloudwatch:{region}:{account}:alarm:TargetTracking-endpoint/{name}-AlarmHigh"
    yield Target(alarm, owner)
    target = f"arn:aws:application-autoscaling:{region}:{account}:scalable-target/0123{other}"
    yield Target(target, owner, tag, endpoint=f"{sm}:endpoint/{name}")
    if other in (repositories := attendee_repositories(deployed)):
        yield Target(repositories[other], f"{owner}: image repository")
    yield from other_attendees_studio_targets(deployed, other)


def attendee_repositories(deployed: Deployed) -> dict[str, str]:
    """Each attendee's own ECR repository (ARN), found where the labs find it: the attendee's
    own parameter's ``image_repository`` (a repository name)."""
    assembly = deployed.assembly
    ecr = f"arn:aws:ecr:{assembly.region}:{assembly.account}:repository"
    return {
        attendee: f"{ecr}/{own['image_repository']}"
        for attendee, own in attendee_values(assembly).items()
        if "image_repository" in own
    }


def studio_domain_id(deployed: Deployed) -> str | None:
    """The Studio domain's id as the assembly resolves ``Fn::GetAtt DomainId`` (None without
    Studio)."""
    domain = next(deployed.assembly.resources("AWS::SageMaker::Domain"), None)
    return domain.name if domain else None


def studio_profile_arn(deployed: Deployed, attendee: str) -> str:
    assembly = deployed.assembly
    domain = studio_domain_id(deployed)
    profile = deployed.config.notebook_name(attendee)
    return f"arn:aws:sagemaker:{assembly.region}:{assembly.account}:user-profile/{domain}/{profile}"


def studio_space_targets(deployed: Deployed, attendee: str) -> list[Target]:
    """``attendee``'s private JupyterLab space and its app, with the context SageMaker puts on
    requests for them: the space's owner profile and sharing type (the Service Authorization
    Reference for SageMaker, condition keys sagemaker:OwnerUserProfileArn and
    sagemaker:SpaceSharingType:
    https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazonsagemaker.html)."""
    assembly = deployed.assembly
    sm = f"arn:aws:sagemaker:{assembly.region}:{assembly.account}"
    domain = studio_domain_id(deployed)
    space = f"{deployed.config.prefix}-{attendee}-space"
    owned = (
        ("sagemaker:OwnerUserProfileArn", studio_profile_arn(deployed, attendee)),
        ("sagemaker:SpaceSharingType", "Private"),
        ("aws:ResourceTag/attendee", attendee),
    )
    owner = f"attendee {attendee}"
    return [
        Target(f"{sm}:space/{domain}/{space}", owner, owned),
        Target(f"{sm}:app/{domain}/{space}/jupyterlab/default", owner, owned),
    ]


def other_attendees_studio_targets(deployed: Deployed, other: str) -> Iterator[Target]:
    if studio_domain_id(deployed) is None:
        return
    yield from studio_space_targets(deployed, other)
    yield Target(studio_profile_arn(deployed, other), f"attendee {other}: Studio profile")


def shared_targets(deployed: Deployed) -> Iterator[Target]:
    assembly, config = deployed.assembly, deployed.config
    region, account = assembly.region, assembly.account
    for kind in (
        "AWS::SageMaker::Endpoint", "AWS::SageMaker::EndpointConfig", "AWS::SageMaker::Model",
        "AWS::SageMaker::Pipeline", "AWS::SageMaker::ModelPackageGroup",
        "AWS::SageMaker::NotebookInstanceLifecycleConfig", "AWS::ECR::Repository",
        "AWS::Athena::WorkGroup", "AWS::SSM::Parameter", "AWS::CloudWatch::Alarm",
        "AWS::Glue::Job",
    ):  # fmt: skip
        for resource in assembly.resources(kind):
            if resource.arn in attendee_repositories(deployed).values():
                continue  # an attendee's own (other_attendees_targets)
            yield Target(resource.arn, f"shared: {resource.path}")
    for group in assembly.resources("AWS::SageMaker::ModelPackageGroup"):
        package = group.arn.replace(":model-package-group/", ":model-package/") + "/1"
        yield Target(package, f"shared: a version in {group.name}")
    for pipeline in assembly.resources("AWS::SageMaker::Pipeline"):
        yield Target(f"{pipeline.arn}/execution/abc", f"shared: a run of {pipeline.name}")
    for endpoint in assembly.resources("AWS::SageMaker::Endpoint"):
        target = f"arn:aws:application-autoscaling:{region}:{account}:scalable-target/0123shared"
        context = (("aws:ResourceTag/workshop", config.prefix),)
        yield Target(target, f"shared: scaling of {endpoint.name}", context, endpoint.arn)
    glue = f"arn:aws:glue:{region}:{account}"
    yield Target(f"{glue}:database/{config.glue_database_name}", "shared: the Glue database")
    yield Target(f"{glue}:table/{config.glue_database_name}/bank_marketing", "shared: a table")
    raw, curated = deployed.bucket("RawBucket"), deployed.bucket("CuratedBucket")
    yield Target(f"arn:aws:s3:::{raw}/bank-marketing/bank-additional-full.csv", "shared: dataset")
    for key in ("pipelines/x/model.tar.gz", "data-capture/x", "reviews/parquet/x", "byom/x"):
        yield Target(f"arn:aws:s3:::{curated}/{key}", f"shared: curated {key}")
    yield Target(f"arn:aws:s3:::{curated}/{SCRATCH_PREFIX}notes.txt", "shared: scratch")
    results = deployed.bucket("AthenaResultsBucket")
    yield Target(f"arn:aws:s3:::{results}/results/q-1.csv", "shared: query results")
    domain = studio_domain_id(deployed)
    if domain is not None:
        sm = f"arn:aws:sagemaker:{region}:{account}"
        yield Target(f"{sm}:domain/{domain}", "shared: the Studio domain")
        # A shared space has no owner: the condition key is absent from its requests.
        shared_space = (("sagemaker:SpaceSharingType", "Shared"),)
        yield Target(f"{sm}:space/{domain}/together", "shared: a shared space", shared_space)
        yield Target(
            f"{sm}:app/{domain}/together/jupyterlab/default", "shared: its app", shared_space
        )
        for lifecycle in assembly.resources("AWS::SageMaker::StudioLifecycleConfig"):
            arn = f"{sm}:studio-lifecycle-config/{lifecycle.name}"
            yield Target(arn, f"shared: {lifecycle.path}")


def named_permissions(deployed: Deployed) -> list[NamedPermission]:
    """The shared resources the labs are meant to touch, and how."""
    config, assembly = deployed.config, deployed.assembly
    sm = f"arn:aws:sagemaker:{assembly.region}:{assembly.account}"
    curated = deployed.bucket("CuratedBucket")
    results = deployed.bucket("AthenaResultsBucket")
    permissions = [
        NamedPermission(
            ("sagemaker:InvokeEndpoint",),
            f"{sm}:endpoint/{config.ab_endpoint_name}",
            "Module 7 calls the workshop's A/B endpoint: a request changes nothing",
        ),
        NamedPermission(
            ("sagemaker:InvokeEndpoint",),
            f"{sm}:endpoint/{config.byom_endpoint_name}",
            "Module 7 calls the workshop's BYOM endpoint",
        ),
        NamedPermission(
            ("s3:PutObject", "s3:DeleteObject", "s3:AbortMultipartUpload"),
            f"arn:aws:s3:::{curated}/{SCRATCH_PREFIX}*",
            "the scratch prefix is where attendees exchange files, by design",
        ),
        NamedPermission(
            ("s3:PutObject", "s3:AbortMultipartUpload"),
            f"arn:aws:s3:::{results}/results/*",
            "Athena writes each query's results with the caller's rights, under a key that is "
            "the query's generated id",
        ),
    ]
    for name in config.pipeline_names:
        permissions.append(
            NamedPermission(
                ("sagemaker:StartPipelineExecution",),
                f"{sm}:pipeline/{name}*",
                "attendees run the workshop's pipelines; a run writes under its own execution "
                "id, as the pipelines' role",
            )
        )
    permissions.append(
        NamedPermission(
            ("sagemaker:UpdateModelPackage",),
            f"{sm}:model-package/{config.bank_model_package_group}/*",
            "Module 8: attendees approve or reject the bank pipeline's packages; an approval "
            "puts the package in the shared A/B endpoint as challenger (labs/README.md)",
        )
    )
    permissions.append(
        NamedPermission(
            ("athena:StartQueryExecution",),
            f"arn:aws:athena:{assembly.region}:{assembly.account}:workgroup/"
            f"{config.athena_workgroup_name}",
            "every attendee queries in the workshop workgroup; a query reads the catalog "
            "and writes only its own result",
        )
    )
    permissions.append(
        NamedPermission(
            ("logs:CreateLogGroup",),
            f"arn:aws:logs:{assembly.region}:{assembly.account}:log-group:/aws/sagemaker/*",
            "SageMaker creates its per-kind log groups as the job's role on first use; "
            "CreateLogGroup fails on a group that exists, so it changes nothing of anyone's",
        )
    )
    return permissions


def _named(permissions: list[NamedPermission], action: str, arn: str) -> NamedPermission | None:
    for permission in permissions:
        if action in permission.actions and fnmatch.fnmatchcase(arn, permission.arn_pattern):
            return permission
    return None


def _request_context(deployed: Deployed, attendee: str, target: Target) -> dict[str, str]:
    """The most favourable context A can send: A's own tags on anything created."""
    return {
        "aws:RequestTag/workshop": deployed.config.prefix,
        "aws:RequestTag/attendee": attendee,
        "iam:PassedToService": "sagemaker.amazonaws.com",
        **dict(target.context),
    }


def cross_attendee_allowed(deployed: Deployed, role: Role, attendee: str, other: str) -> list:
    """(action, target, decision) for every mutation A's role may do to B's or shared things,
    except the named shared permissions."""
    assembly = deployed.assembly
    permissions = named_permissions(deployed)
    targets = [*other_attendees_targets(deployed, other), *shared_targets(deployed)]
    allowed = []
    for action in sorted(granted_mutations(role)):
        for target in targets:
            context = _request_context(deployed, attendee, target)
            decision = assembly.decide(role, action, target.arn, context)
            if decision and target.endpoint and action.startswith("application-autoscaling:"):
                decision = next(
                    (
                        d
                        for d in (
                            assembly.decide(role, need, target.endpoint, context)
                            for need in AUTOSCALING_NEEDS
                        )
                        if not d
                    ),
                    decision,
                )
            if decision and not _named(permissions, action, target.arn):
                allowed.append((action, target, decision))
    return allowed


def test_no_attendee_can_change_another_attendees_or_the_shared_resources(deployed):
    attendees = deployed.config.attendee_names
    first, second = attendees[0], attendees[1]
    role = deployed.attendee_role(first)
    mutations = granted_mutations(role)
    assert len(mutations) > 20, f"the check would be empty: {sorted(mutations)}"
    allowed = cross_attendee_allowed(deployed, role, first, second)
    lines = [f"{a} on {t.arn} ({t.owner}): {d.reason}" for a, t, d in allowed]
    assert not allowed, f"{first} may do {len(allowed)} things it must not:\n" + "\n".join(lines)


def test_the_only_role_an_attendee_can_pass_is_their_own(deployed):
    """iam:PassRole decides what a job may do: passing only yourself means no job can do
    more than you (https://docs.aws.amazon.com/IAM/latest/UserGuide/id_roles_use_passrole.html)."""
    assembly = deployed.assembly
    for attendee in deployed.config.attendee_names[:2]:
        role = deployed.attendee_role(attendee)
        for service in ("sagemaker.amazonaws.com", "glue.amazonaws.com", "lambda.amazonaws.com"):
            passable = [
                other.name
                for other in assembly.roles.values()
                if assembly.decide(
                    role, "iam:PassRole", other.arn, {"iam:PassedToService": service}
                )
            ]
            expected = [role.name] if service == "sagemaker.amazonaws.com" else []
            assert passable == expected, (attendee, service, passable)


def test_pushes_cannot_replace_a_pushed_image(deployed):
    """Every repository's tags are immutable: a tag, once pushed, names one image for good, so
    no later push (even the owner's) swaps what a model runs
    (https://docs.aws.amazon.com/AmazonECR/latest/userguide/image-tag-mutability.html)."""
    for repository in deployed.assembly.resources("AWS::ECR::Repository"):
        assert repository.properties.get("ImageTagMutability") == "IMMUTABLE", repository.path


def test_an_attendee_pushes_only_to_their_own_repository_and_pulls_the_workshop_image(deployed):
    """Module 7: A pushes under A's own tag to A's own repository; A cannot push into B's
    repository (nor overwrite B's tags) or into the workshop's. ECR authorizes a push per
    repository, with no condition key on an image's tag (Service Authorization Reference:
    https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazonelasticcontainerregistry.html),
    so the repository is the unit of isolation. A's models run as A's role: it pulls from both."""
    assembly = deployed.assembly
    repositories = attendee_repositories(deployed)
    attendees = deployed.config.attendee_names
    assert set(repositories) == set(attendees)
    workshop = [r.arn for r in assembly.resources("AWS::ECR::Repository")
                if r.arn not in repositories.values()]  # fmt: skip
    assert workshop, "no workshop repository to compare with"
    pull = ("ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer", "ecr:BatchCheckLayerAvailability")
    for me, other in ((attendees[0], attendees[1]), (attendees[1], attendees[0])):
        role = deployed.attendee_role(me)
        for action in (*ECR_PUSH, *pull):
            decision = assembly.decide(role, action, repositories[me])
            assert decision, f"{me}: {action} on their own repository: {decision.reason}"
        for action in ECR_PUSH:
            for arn in (repositories[other], *workshop):
                assert not assembly.decide(role, action, arn), f"{me} may {action} on {arn}"
        for action in pull:
            for arn in workshop:
                assert assembly.decide(role, action, arn), f"{me} cannot {action} on {arn}"
        assert assembly.decide(role, "ecr:GetAuthorizationToken", "*")


def test_an_attendee_reads_the_labs_parameters_and_no_other(deployed):
    """The labs read the shared SSM parameter and the attendees' parts (every attendee's role
    ARN and repository name: names, which the tests above show grant nothing); no attendee
    reads any other parameter of the account. GetParameter(s) is authorized on the
    parameter's ARN, 'parameter' plus its name
    (https://docs.aws.amazon.com/systems-manager/latest/userguide/sysman-paramstore-access.html)."""
    assembly, prefix = deployed.assembly, deployed.config.prefix
    labs = [shared_parameter(assembly), *attendee_parameters(assembly)]
    ssm = f"arn:aws:ssm:{assembly.region}:{assembly.account}:parameter"
    elsewhere = [
        f"{ssm}/{prefix}/workshopx",
        f"{ssm}/{prefix}/workshop/attendeesx",
        f"{ssm}/{prefix}/pool/roster",
        f"{ssm}/other/workshop/attendees/1",
        f"{ssm}/cdk-bootstrap/hnb659fds/version",
    ]
    for attendee in deployed.config.attendee_names[:2]:
        role = deployed.attendee_role(attendee)
        for parameter in labs:
            for action in ("ssm:GetParameter", "ssm:GetParameters"):
                decision = assembly.decide(role, action, parameter.arn)
                assert decision, f"{attendee}: {action} on {parameter.name}: {decision.reason}"
        for arn in elsewhere:
            for action in ("ssm:GetParameter", "ssm:GetParameters", "ssm:GetParametersByPath"):
                assert not assembly.decide(role, action, arn), (attendee, action, arn)


@pytest.mark.parametrize("attendee", ["bank", "serving", "attendee"])
def test_an_attendee_name_that_would_cover_a_shared_name_is_refused(attendee):
    from workshop_spec.config import ConfigError, config_from_context

    with pytest.raises((ConfigError, ValueError), match=attendee):
        config_from_context({"workshop": {"attendees": [attendee, "ada"]}})


def test_an_attendee_name_too_long_for_a_tuning_job_is_refused():
    from workshop_spec.config import ConfigError, config_from_context

    with pytest.raises((ConfigError, ValueError), match="tuning"):
        config_from_context({"workshop": {"prefix": "a" * 12, "attendees": ["b" * 12]}})


STUDIO_SPACE_ACTIONS = {
    "space": ("sagemaker:CreateSpace", "sagemaker:UpdateSpace", "sagemaker:DeleteSpace",
              "sagemaker:DescribeSpace"),
    "app": ("sagemaker:CreateApp", "sagemaker:DeleteApp", "sagemaker:DescribeApp"),
}  # fmt: skip


def test_a_studio_attendee_creates_starts_and_deletes_their_own_space_and_app(deployed):
    """What Studio does as the attendee's role when they open JupyterLab: create the private
    space, start its app, stop (delete) the app, delete the space, tagging each on create
    ("Give your users access to spaces":
    https://docs.aws.amazon.com/sagemaker/latest/dg/studio-updated-jl-admin-guide-permissions.html).
    The other attendee's space and app are the isolation test's targets above."""
    if studio_domain_id(deployed) is None:
        pytest.skip("no Studio domain in this config")
    assembly = deployed.assembly
    first, second = deployed.config.attendee_names[:2]
    role = deployed.attendee_role(first)
    for target in studio_space_targets(deployed, first):
        kind = "space" if ":space/" in target.arn else "app"
        context = dict(target.context)
        for action in STUDIO_SPACE_ACTIONS[kind]:
            decision = assembly.decide(role, action, target.arn, context)
            assert decision, f"{first}: {action} on {target.arn}: {decision.reason}"
        tagging = {**context, "sagemaker:TaggingAction": f"Create{kind.title()}"}
        assert assembly.decide(role, "sagemaker:AddTags", target.arn, tagging)
        assert not assembly.decide(role, "sagemaker:AddTags", target.arn, context)
    for target in studio_space_targets(deployed, second):
        for action in ("sagemaker:CreateApp", "sagemaker:DeleteApp", "sagemaker:DeleteSpace"):
            if action.endswith("App") == (":app/" in target.arn):
                assert not assembly.decide(role, action, target.arn, dict(target.context))


@pytest.mark.parametrize(
    ("group", "status", "allowed"),
    [
        ("bank", "Approved", True),
        ("bank", "Rejected", True),
        ("bike", "Approved", False),  # only the group whose approvals promote
    ],
)
def test_attendees_may_review_only_the_bank_pipelines_packages(deployed, group, status, allowed):
    """Module 8's approval: DescribeModelPackage and UpdateModelPackage on the bank group's
    versions (the group whose approvals promote), nothing on other groups, no creating or
    deleting packages (Service Authorization Reference:
    https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazonsagemaker.html)."""
    config, assembly = deployed.config, deployed.assembly
    role = deployed.attendee_role(config.attendee_names[0])
    name = {"bank": config.bank_model_package_group, "bike": config.bike_model_package_group}
    package = (
        f"arn:aws:sagemaker:{assembly.region}:{assembly.account}:model-package/{name[group]}/3"
    )
    context = {"sagemaker:ModelApprovalStatus": status}

    assert bool(assembly.decide(role, "sagemaker:UpdateModelPackage", package, context)) is allowed
    assert bool(assembly.decide(role, "sagemaker:DescribeModelPackage", package, {})) is (
        group == "bank"
    )
    for action in ("sagemaker:CreateModelPackage", "sagemaker:DeleteModelPackage"):
        assert not assembly.decide(role, action, package, context)
