"""A service role whose permissions are written out statement by statement.

CDK's grants land in an inline default policy (NIST/HIPAA IAMNoInlinePolicy) and are hard to
read in review; roles built here get one customer-managed policy holding exactly the given
statements plus the right to write to their own log group, and hand constructs an immutable
view of the role so no grant can widen it behind the reviewer's back.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import aws_cdk as cdk
from aws_cdk import aws_iam as iam
from aws_cdk import aws_logs as logs

from stacks import nag


@dataclass(frozen=True)
class ExactRole:
    role: iam.IRole  # immutable: pass this to constructs that would otherwise add grants
    policy: iam.ManagedPolicy  # constructs using the role should depend on it


def exact_role(
    stack: cdk.Stack,
    role_id: str,
    *,
    policy_id: str,
    service: str,
    description: str,
    log_group: logs.LogGroup,
    statements: Sequence[iam.PolicyStatement],
) -> ExactRole:
    """Create ``role_id`` for ``service`` with ``statements`` and log writes to ``log_group``."""
    role = iam.Role(
        stack, role_id, assumed_by=iam.ServicePrincipal(service), description=description
    )
    policy = iam.ManagedPolicy(
        stack,
        policy_id,
        description=description,
        roles=[role],
        statements=[
            *statements,
            iam.PolicyStatement(
                sid="WriteOwnLogs",
                actions=["logs:CreateLogStream", "logs:PutLogEvents"],
                resources=[log_group.log_group_arn],
            ),
        ],
    )
    log_group_arn = f"<{stack.get_logical_id(log_group.node.default_child)}.Arn>"
    nag.acknowledge(
        policy,
        "The log-group ARN ends in ':*' because CloudWatch Logs addresses log streams beneath "
        "it; the statement names this role's own log group only.",
        f"AwsSolutions-IAM5[Resource::{log_group_arn}]",
    )
    return ExactRole(role=role.without_policy_updates(), policy=policy)
