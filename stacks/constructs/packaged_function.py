"""The workshop's own Lambda functions: a package of ``lambdas/`` with a written-out role.

Every function here ships one folder of ``lambdas/`` (the asset root is ``lambdas/`` itself, so
a package's relative imports resolve) plus the modules of ``lambdas/`` it shares with other
functions (``shared``, e.g. ``cfn_response``: at the asset root, so Lambda imports them by
name), reserves no concurrency (a fresh account cannot), logs to
a group of its stack, and answers the two findings every Lambda raises in NIST 800-53 and HIPAA
(no dead-letter queue, no VPC) with the caller's reasons, which depend on who invokes it and
what it calls.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import aws_cdk as cdk
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from constructs import Construct

from stacks import nag
from workshop_spec import platforms
from workshop_spec.config import PROJECT_ROOT

LAMBDAS = PROJECT_ROOT / "lambdas"
# The Python runtime of the platform matrix (workshop_spec/platforms.yaml), so the end-of-support
# gate watches the runtime that is actually deployed.
RUNTIME = lambda_.Runtime(platforms.identifier("lambda-python"), lambda_.RuntimeFamily.PYTHON)


def packaged_function(
    scope: Construct,
    construct_id: str,
    *,
    package: str,
    handler: str,
    description: str,
    role: iam.IRole,
    policy: iam.ManagedPolicy,
    log_group: logs.ILogGroup,
    timeout: cdk.Duration,
    why_no_dead_letter_queue: str,
    why_no_vpc: str,
    memory_size: int = 256,
    environment: Mapping[str, str] | None = None,
    data_files: Sequence[str] = (),
    shared: Sequence[str] = (),
) -> lambda_.Function:
    """A function running ``lambdas/<package>/<handler>``, created after its ``policy``.

    ``data_files``: files of the package besides its Python modules (e.g. a price table).
    ``shared``: modules of ``lambdas/`` itself the package imports (``cfn_response``).
    """
    include = [
        f"!{package}",
        f"!{package}/*.py",
        *(f"!{package}/{f}" for f in data_files),
        *(f"!{module}.py" for module in shared),
    ]
    function = lambda_.Function(
        scope,
        construct_id,
        description=description,
        runtime=RUNTIME,
        handler=f"{package}.{handler}",
        code=lambda_.Code.from_asset(str(LAMBDAS), exclude=["*", *include]),
        role=role,
        timeout=timeout,
        memory_size=memory_size,
        log_group=log_group,
        environment=dict(environment) if environment else None,
    )
    function.node.add_dependency(policy)
    nag.acknowledge_unreserved_concurrency(function)
    nag.acknowledge(
        function, why_no_dead_letter_queue, "NIST.800.53.R5-LambdaDLQ", "HIPAA.Security-LambdaDLQ"
    )
    nag.acknowledge(
        function, why_no_vpc, "NIST.800.53.R5-LambdaInsideVPC", "HIPAA.Security-LambdaInsideVPC"
    )
    return function
