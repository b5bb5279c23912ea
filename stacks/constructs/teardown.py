"""What `retention` means for a resource that holds data, and the customer keys that encrypt it."""

from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_kms as kms
from constructs import Construct

from workshopctl.config import WorkshopConfig


def removal_policy(config: WorkshopConfig) -> cdk.RemovalPolicy:
    """DESTROY with ``retention=destroy`` (nothing billable left), RETAIN with ``retain``."""
    return cdk.RemovalPolicy.DESTROY if config.destroy_on_teardown else cdk.RemovalPolicy.RETAIN


def customer_key(
    scope: Construct, construct_id: str, *, config: WorkshopConfig, purpose: str
) -> kms.Key:
    """A rotating customer KMS key that lives exactly as long as the data it encrypts."""
    return kms.Key(
        scope,
        construct_id,
        description=f"{config.prefix}: {purpose}",
        enable_key_rotation=True,
        # A key scheduled for deletion takes its data with it: keep it whenever data is kept.
        removal_policy=removal_policy(config),
        pending_window=cdk.Duration.days(7),
    )
