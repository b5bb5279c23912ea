"""The organiser's account in ``accounts: per-attendee``: what the pool of attendee accounts shares.

Two stacks, deployed in this order with ``cdk deploy`` (the organiser's account is bootstrapped):

``<prefix>-organiser`` (:class:`OrganiserStack`)
    the pool's asset bucket (the per-attendee templates and every file asset they read, put
    there by ``workshopctl pool publish``), readable by the pool's accounts only; the roster
    (attendee → account) as an SSM parameter; a budget over the whole pool.
``<prefix>-pool`` (:class:`PoolStack`)
    one CloudFormation StackSet per per-attendee stack, in dependency order, each reading its
    template from the bucket. A separate stack because CloudFormation reads a StackSet's
    ``TemplateURL`` when it creates the StackSet: the templates must be in the bucket by then,
    so the bucket's stack comes first, then the upload, then this stack.

StackSets: https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/stacksets-concepts.html
The resource: https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/aws-resource-cloudformation-stackset.html
"""

from __future__ import annotations

import json
from collections.abc import Sequence

import aws_cdk as cdk
from aws_cdk import aws_budgets as budgets
from aws_cdk import aws_cloudformation as cloudformation
from aws_cdk import aws_iam as iam
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_ssm as ssm
from constructs import Construct

from stacks import nag
from stacks.synthesizers import ASSETS_BUCKET_PARAMETER, ASSETS_PREFIX_PARAMETER
from workshop_spec.config import WorkshopConfig
from workshop_spec.pool_layout import (
    BUCKET_OUTPUT,
    POOL_KEY_PREFIX,
    RELEASE_PARAMETER,
    assets_prefix,
    template_key,
)

# With self-managed permissions StackSets assumes this role of the administrator account (the
# organiser's) by default, which in turn assumes the execution role in each target account:
# https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/stacksets-prereqs-self-managed.html
STACKSET_ADMINISTRATION_ROLE = "AWSCloudFormationStackSetAdministrationRole"
# What a pool account's deploy reads from the bucket: Lambda code and the BucketDeployment's
# sources (s3:GetObject), and CodeBuild's S3 source (GetObject, GetObjectVersion,
# GetBucketAcl, GetBucketLocation):
# https://docs.aws.amazon.com/codebuild/latest/userguide/setting-up-service-role.html
POOL_OBJECT_READS = ("s3:GetObject", "s3:GetObjectVersion")
POOL_BUCKET_READS = ("s3:GetBucketAcl", "s3:GetBucketLocation")
# A standard SSM parameter holds up to 4 KB; the advanced tier up to 8 KB:
# https://docs.aws.amazon.com/systems-manager/latest/userguide/parameter-store-advanced-parameters.html
STANDARD_PARAMETER_BYTES = 4096


class OrganiserStack(cdk.Stack):
    """The pool's asset bucket, the roster and the pool's budget, in the organiser's account."""

    def __init__(self, scope: Construct, id: str, *, config: WorkshopConfig, **kwargs) -> None:
        super().__init__(scope, id, **kwargs)
        self._config = config
        self.assets_bucket = self._assets_bucket()
        self._readable_by_the_pool(self.assets_bucket)
        self.roster = self._roster()
        self._pool_budget()
        cdk.CfnOutput(self, BUCKET_OUTPUT, value=self.assets_bucket.bucket_name)
        cdk.CfnOutput(self, "RosterParameterName", value=self.roster.parameter_name)
        nag.acknowledge_cdk_helpers(self)

    # -- the bucket the pool reads -------------------------------------------------------------
    def _assets_bucket(self) -> s3.Bucket:
        bucket = s3.Bucket(
            self,
            "PoolAssetsBucket",
            # SSE-S3, not a KMS key: every pool account's deploy roles read these objects, and
            # a customer managed key would need each of them in its key policy as well.
            encryption=s3.BucketEncryption.S3_MANAGED,
            versioned=True,
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            enforce_ssl=True,
            minimum_tls_version=1.2,
            object_ownership=s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
            lifecycle_rules=[
                s3.LifecycleRule(
                    id="expire-noncurrent-versions",
                    noncurrent_version_expiration=cdk.Duration.days(
                        self._config.data_lake.noncurrent_version_expiry_days
                    ),
                )
            ],
            removal_policy=(
                cdk.RemovalPolicy.DESTROY
                if self._config.destroy_on_teardown
                else cdk.RemovalPolicy.RETAIN
            ),
            auto_delete_objects=self._config.destroy_on_teardown,
        )
        nag.acknowledge(
            bucket,
            "The bucket holds only the per-attendee templates and the code and data assets "
            "synthesized from the repository, re-published by `workshopctl pool publish`; "
            "CloudFormation's own events and CloudTrail record every deploy that reads them.",
            "AwsSolutions-S1",
            "NIST.800.53.R5-S3BucketLoggingEnabled",
            "HIPAA.Security-S3BucketLoggingEnabled",
        )
        nag.acknowledge(
            bucket,
            "SSE-S3 on purpose: the deploy roles of every pool account read these objects, and "
            "a customer managed KMS key would need each account in its key policy as well; "
            "the objects are the repository's public workshop code and datasets.",
            "NIST.800.53.R5-S3DefaultEncryptionKMS",
            "HIPAA.Security-S3DefaultEncryptionKMS",
        )
        nag.acknowledge(
            bucket,
            nag.NO_REPLICATION,
            "NIST.800.53.R5-S3BucketReplicationEnabled",
            "HIPAA.Security-S3BucketReplicationEnabled",
        )
        return bucket

    def _readable_by_the_pool(self, bucket: s3.Bucket) -> None:
        """Reads of the pool's keys by the pool's accounts and nobody else outside this one.

        An organizational unit's accounts are matched with ``aws:PrincipalOrgPaths`` (any
        path through the OU, nested OUs included); named accounts are the policy's principals.
        https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-keys.html#condition-keys-principalorgpaths
        """
        pool = self._config.pool
        if pool.deployment == "organizational-unit":
            principals: list[iam.IPrincipal] = [iam.AnyPrincipal()]
            conditions = {
                "ForAnyValue:StringLike": {
                    "aws:PrincipalOrgPaths": [
                        f"{pool.organization_id}/*/{pool.organizational_unit}/*"
                    ]
                }
            }
        else:
            principals = [iam.AccountPrincipal(account) for account in pool.accounts.values()]
            conditions = {}
        bucket.add_to_resource_policy(
            iam.PolicyStatement(
                sid="PoolAccountsReadTemplatesAndAssets",
                principals=principals,
                actions=list(POOL_OBJECT_READS),
                resources=[bucket.arn_for_objects(f"{POOL_KEY_PREFIX}*")],
                conditions=conditions,
            )
        )
        bucket.add_to_resource_policy(
            iam.PolicyStatement(
                sid="PoolAccountsLocateTheBucket",
                principals=principals,
                actions=list(POOL_BUCKET_READS),
                resources=[bucket.bucket_arn],
                conditions=conditions,
            )
        )

    # -- who has which account -----------------------------------------------------------------
    def _roster(self) -> ssm.StringParameter:
        """Attendee → account id as JSON ("unassigned" while an OU's accounts are not yet
        handed out): what the hand-out and the per-account teardown read."""
        roster = {
            attendee: account or "unassigned" for attendee, account in self._config.roster.items()
        }
        value = json.dumps(roster, sort_keys=True, separators=(",", ":"))
        return ssm.StringParameter(
            self,
            "Roster",
            parameter_name=f"/{self._config.prefix}/pool/roster",
            description=f"{self._config.prefix}: attendee -> AWS account of the pool",
            string_value=value,
            tier=(
                ssm.ParameterTier.STANDARD
                if len(value.encode()) <= STANDARD_PARAMETER_BYTES
                else ssm.ParameterTier.ADVANCED
            ),
        )

    # -- what the pool costs -------------------------------------------------------------------
    def _pool_budget(self) -> None:
        """The event's monthly budget over every pool account (each account's own guardrails
        budget watches its share).

        Filtering on linked accounts works only in the organization's management account:
        https://docs.aws.amazon.com/cost-management/latest/userguide/budgets-create-filters.html
        An OU's accounts are not known at synth, so that pool is matched by the workshop's
        cost-allocation tag (activated in the management account) instead.
        """
        config = self._config
        if config.pool.accounts:
            filters = {"LinkedAccount": sorted(config.pool.accounts.values())}
        else:
            filters = {"TagKeyValue": [f"user:workshop${config.prefix}"]}
        subscribers = [
            budgets.CfnBudget.SubscriberProperty(subscription_type="EMAIL", address=email)
            for email in config.budget.alert_emails
        ]
        budgets.CfnBudget(
            self,
            "PoolBudget",
            budget=budgets.CfnBudget.BudgetDataProperty(
                budget_type="COST",
                time_unit="MONTHLY",
                budget_limit=budgets.CfnBudget.SpendProperty(
                    amount=config.budget.monthly_usd, unit="USD"
                ),
                cost_filters=filters,
            ),
            notifications_with_subscribers=[
                budgets.CfnBudget.NotificationWithSubscribersProperty(
                    notification=budgets.CfnBudget.NotificationProperty(
                        comparison_operator="GREATER_THAN",
                        notification_type="ACTUAL",
                        threshold=percent,
                        threshold_type="PERCENTAGE",
                    ),
                    subscribers=subscribers,
                )
                for percent in (50, 80, 100)
            ]
            if subscribers
            else None,
        )


class PoolStack(cdk.Stack):
    """One StackSet per per-attendee stack, deploying the workshop to every pool account."""

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        config: WorkshopConfig,
        organiser: OrganiserStack,
        account_stacks: Sequence[cdk.Stack],
        **kwargs,
    ) -> None:
        super().__init__(scope, id, **kwargs)
        self._config = config
        self._bucket = organiser.assets_bucket
        self.release = cdk.CfnParameter(
            self,
            RELEASE_PARAMETER,
            type="String",
            allowed_pattern="^[a-z0-9]{1,64}$",
            description="The release `workshopctl pool publish` uploaded (its key prefix "
            f"{POOL_KEY_PREFIX}<release>/ in the pool's asset bucket)",
        )
        self.stack_sets: list[cloudformation.CfnStackSet] = []
        previous = None
        for stack in account_stacks:
            stack_set = self._stack_set(stack, previous)
            self.stack_sets.append(stack_set)
            previous = stack_set

    def _stack_set(
        self, stack: cdk.Stack, previous: cloudformation.CfnStackSet | None
    ) -> cloudformation.CfnStackSet:
        pool = self._config.pool
        release = self.release.value_as_string
        service_managed = pool.deployment == "organizational-unit"
        template_url = cdk.Fn.join(
            "",
            [
                f"https://{self._bucket.bucket_name}.s3.{cdk.Aws.REGION}.{cdk.Aws.URL_SUFFIX}/",
                template_key(release, stack.stack_name),
            ],
        )
        parameters = None
        if stack.node.try_find_child(ASSETS_BUCKET_PARAMETER) is not None:
            parameters = [
                cloudformation.CfnStackSet.ParameterProperty(
                    parameter_key=ASSETS_BUCKET_PARAMETER,
                    parameter_value=self._bucket.bucket_name,
                ),
                cloudformation.CfnStackSet.ParameterProperty(
                    parameter_key=ASSETS_PREFIX_PARAMETER, parameter_value=assets_prefix(release)
                ),
            ]
        if service_managed:
            targets = cloudformation.CfnStackSet.DeploymentTargetsProperty(
                organizational_unit_ids=[pool.organizational_unit]
            )
        else:
            targets = cloudformation.CfnStackSet.DeploymentTargetsProperty(
                accounts=sorted(pool.accounts.values())
            )
        stack_set = cloudformation.CfnStackSet(
            self,
            f"{stack.stack_name}-StackSet",
            stack_set_name=stack.stack_name,
            description=f"{self._config.prefix}: {stack.stack_name} in every pool account",
            permission_model="SERVICE_MANAGED" if service_managed else "SELF_MANAGED",
            # Accounts added to the OU later get the workshop too; an account leaving the OU
            # loses it (nothing of the workshop stays behind in a recycled account).
            # An account joining the OU gets the stacks in the same order (DependsOn takes
            # StackSet ARNs): https://docs.aws.amazon.com/AWSCloudFormation/latest/APIReference/API_AutoDeployment.html
            auto_deployment=cloudformation.CfnStackSet.AutoDeploymentProperty(
                enabled=True,
                retain_stacks_on_account_removal=False,
                depends_on=None if previous is None else [_stack_set_arn(previous)],
            )
            if service_managed
            else None,
            administration_role_arn=None
            if service_managed
            else f"arn:{cdk.Aws.PARTITION}:iam::{cdk.Aws.ACCOUNT_ID}:role/"
            f"{STACKSET_ADMINISTRATION_ROLE}",
            execution_role_name=None if service_managed else pool.execution_role_name,
            capabilities=["CAPABILITY_IAM", "CAPABILITY_NAMED_IAM"],
            # Every account at once; one failed account stops the operation so it can be read.
            operation_preferences=cloudformation.CfnStackSet.OperationPreferencesProperty(
                max_concurrent_percentage=100,
                failure_tolerance_count=0,
                region_concurrency_type="PARALLEL",
            ),
            stack_instances_group=[
                cloudformation.CfnStackSet.StackInstancesProperty(
                    deployment_targets=targets, regions=[cdk.Aws.REGION]
                )
            ],
            template_url=template_url,
            parameters=parameters,
        )
        # CloudFormation creates a StackSet's instances before it moves on to a resource that
        # depends on it: the next stack finds the exports of the one before in each account.
        if previous is not None:
            stack_set.add_dependency(previous)
        return stack_set


def _stack_set_arn(stack_set: cloudformation.CfnStackSet) -> str:
    """arn:<partition>:cloudformation:<region>:<account>:stackset/<name>:<id>; the resource's
    Ref is its StackSetId, ``<name>:<id>``."""
    return (
        f"arn:{cdk.Aws.PARTITION}:cloudformation:{cdk.Aws.REGION}:{cdk.Aws.ACCOUNT_ID}:"
        f"stackset/{stack_set.ref}"
    )
