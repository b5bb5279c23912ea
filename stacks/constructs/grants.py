"""Policy statements several stacks write the same way, and the policies that hold them.

Each stack's roles are written out statement by statement (see ``exact_role``); the statements
that recur (SageMaker's log groups and metrics, the ECR token, the workshop image) live here
once, each with the reason a reviewer is given for its wildcard, so a policy and its nag
acknowledgements cannot drift apart.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import aws_cdk as cdk
from aws_cdk import aws_ecr as ecr
from aws_cdk import aws_iam as iam
from constructs import Construct

from stacks import nag


@dataclass(frozen=True)
class Grant:
    """One policy statement and, when it holds a wildcard, why a reviewer should accept it."""

    statement: iam.PolicyStatement
    why_wildcard: str | None = None


def managed_policy(
    scope: Construct,
    construct_id: str,
    description: str,
    grants: Sequence[Grant],
    roles: Sequence[iam.IRole] = (),
) -> iam.ManagedPolicy:
    """A customer-managed policy of ``grants``, each wildcard acknowledged with its reason."""
    policy = iam.ManagedPolicy(
        scope,
        construct_id,
        description=description,
        roles=list(roles) or None,
        statements=[grant.statement for grant in grants],
    )
    nag.acknowledge_wildcards(
        policy, [(g.statement, g.why_wildcard) for g in grants if g.why_wildcard]
    )
    return policy


def sagemaker_arn(stack: cdk.Stack, kind: str, name: str) -> str:
    return stack.format_arn(service="sagemaker", resource=kind, resource_name=name)


def glue_table_arns(stack: cdk.Stack, database: str, tables: str = "*") -> list[str]:
    """What Glue authorises a table call against: the catalog, the database and its tables."""
    return [
        stack.format_arn(service="glue", resource="catalog"),
        stack.format_arn(service="glue", resource="database", resource_name=database),
        stack.format_arn(service="glue", resource="table", resource_name=f"{database}/{tables}"),
    ]


def log_group_arn(stack: cdk.Stack, name: str) -> str:
    """``arn:...:log-group:<name>``; a trailing ``*`` also covers the groups' streams."""
    return stack.format_arn(
        service="logs",
        resource="log-group",
        resource_name=name,
        arn_format=cdk.ArnFormat.COLON_RESOURCE_NAME,
    )


def sagemaker_logs(
    stack: cdk.Stack, sid: str, actions: Sequence[str], groups: str = "/aws/sagemaker/*"
) -> Grant:
    """``actions`` on SageMaker's own log groups (all, or e.g. ``/aws/sagemaker/Endpoints/*``)."""
    return Grant(
        iam.PolicyStatement(
            sid=sid, actions=list(actions), resources=[log_group_arn(stack, groups)]
        ),
        "SageMaker writes each job's and endpoint's logs to a group it names after the job "
        "kind under /aws/sagemaker/, and to streams it names at run time.",
    )


def sagemaker_metrics() -> Grant:
    return Grant(
        iam.PolicyStatement(
            sid="PutJobMetrics",
            actions=["cloudwatch:PutMetricData"],
            resources=["*"],
            conditions={"StringLike": {"cloudwatch:namespace": "/aws/sagemaker/*"}},
        ),
        "PutMetricData has no resource-level permissions (AWS requires Resource '*'); the "
        "condition limits it to SageMaker's own metric namespaces.",
    )


def job_logs_and_metrics(stack: cdk.Stack) -> list[Grant]:
    """What every SageMaker job's role needs to report: its logs and its metrics."""
    actions = [
        "logs:CreateLogGroup",
        "logs:CreateLogStream",
        "logs:PutLogEvents",
        "logs:DescribeLogStreams",
    ]
    return [sagemaker_logs(stack, "WriteJobLogs", actions), sagemaker_metrics()]


def ecr_token() -> Grant:
    return Grant(
        iam.PolicyStatement(
            sid="GetRegistryToken", actions=["ecr:GetAuthorizationToken"], resources=["*"]
        ),
        "ecr:GetAuthorizationToken is registry-wide and supports no resource ARN (AWS requires "
        "Resource '*'); image access itself is limited to the workshop repository.",
    )


def pull_image(*repositories: ecr.IRepository) -> list[Grant]:
    """Pull the workshop image from where it lives (SageMaker pulls its own first-party images
    itself): ``ModelImageStack.image_repositories``. A private image is pulled with the
    execution role, which needs these three actions on the repository and the registry-wide
    token ("CreateModel API: Execution Role Permissions",
    https://docs.aws.amazon.com/sagemaker/latest/dg/sagemaker-roles.html)."""
    return [
        Grant(
            iam.PolicyStatement(
                sid="PullWorkshopImage",
                actions=[
                    "ecr:BatchCheckLayerAvailability",
                    "ecr:GetDownloadUrlForLayer",
                    "ecr:BatchGetImage",
                ],
                resources=[repository.repository_arn for repository in repositories],
            )
        ),
        ecr_token(),
    ]


def scheduler_role(
    scope: Construct, construct_id: str, description: str, grants: Sequence[Grant]
) -> iam.IRole:
    """A role EventBridge Scheduler of this account assumes, with exactly ``grants``."""
    role = iam.Role(
        scope,
        construct_id,
        assumed_by=iam.ServicePrincipal(
            "scheduler.amazonaws.com",
            conditions={"StringEquals": {"aws:SourceAccount": cdk.Aws.ACCOUNT_ID}},
        ),
        description=description,
    )
    managed_policy(scope, f"{construct_id}Policy", description, grants, roles=[role])
    return role.without_policy_updates()
