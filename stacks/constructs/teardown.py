"""What `retention` means for a resource that holds data, and the customer keys that encrypt it."""

from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_logs as logs
from constructs import Construct

from workshop_spec.config import WorkshopConfig


def removal_policy(config: WorkshopConfig) -> cdk.RemovalPolicy:
    """DESTROY with ``retention=destroy`` (nothing billable left), RETAIN with ``retain``."""
    return cdk.RemovalPolicy.DESTROY if config.destroy_on_teardown else cdk.RemovalPolicy.RETAIN


def customer_key(
    scope: Construct,
    construct_id: str,
    *,
    config: WorkshopConfig,
    purpose: str,
    for_log_groups: bool = False,
) -> kms.Key:
    """A rotating customer KMS key that lives exactly as long as the data it encrypts.

    ``for_log_groups`` lets CloudWatch Logs of this account and region encrypt with it.
    """
    key = kms.Key(
        scope,
        construct_id,
        description=f"{config.prefix}: {purpose}",
        enable_key_rotation=True,
        # A key scheduled for deletion takes its data with it: keep it whenever data is kept.
        removal_policy=removal_policy(config),
        pending_window=cdk.Duration.days(7),
    )
    if for_log_groups:
        key.add_to_resource_policy(
            iam.PolicyStatement(
                actions=[
                    "kms:Encrypt*",
                    "kms:Decrypt*",
                    "kms:ReEncrypt*",
                    "kms:GenerateDataKey*",
                    "kms:Describe*",
                ],
                principals=[iam.ServicePrincipal(f"logs.{cdk.Aws.REGION}.amazonaws.com")],
                resources=["*"],  # in a key policy, "*" means this key
                conditions={
                    "ArnLike": {
                        "kms:EncryptionContext:aws:logs:arn": (
                            f"arn:{cdk.Aws.PARTITION}:logs:{cdk.Aws.REGION}:{cdk.Aws.ACCOUNT_ID}:*"
                        )
                    }
                },
            )
        )
    return key


_RETENTION = {
    1: logs.RetentionDays.ONE_DAY,
    3: logs.RetentionDays.THREE_DAYS,
    5: logs.RetentionDays.FIVE_DAYS,
    7: logs.RetentionDays.ONE_WEEK,
    14: logs.RetentionDays.TWO_WEEKS,
    30: logs.RetentionDays.ONE_MONTH,
    60: logs.RetentionDays.TWO_MONTHS,
    90: logs.RetentionDays.THREE_MONTHS,
    180: logs.RetentionDays.SIX_MONTHS,
    365: logs.RetentionDays.ONE_YEAR,
}


def log_retention(config: WorkshopConfig) -> logs.RetentionDays:
    """The config's ``log_retention_days`` as CloudWatch Logs' enum."""
    return _RETENTION[config.log_retention_days]


def encrypted_log_group(
    scope: Construct, construct_id: str, *, config: WorkshopConfig, key: kms.IKey
) -> logs.LogGroup:
    """A log group with the config's retention, encrypted with ``key``; logs go with the stack."""
    return logs.LogGroup(
        scope,
        construct_id,
        retention=log_retention(config),
        encryption_key=key,
        removal_policy=cdk.RemovalPolicy.DESTROY,
    )
