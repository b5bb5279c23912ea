"""What the deploy asks the account before it changes anything: who the caller is, whether the
CDK bootstrap is there, and the value of a service quota.

Each function takes boto3 clients, so tests hand in moto's or stubbed ones.
"""

from __future__ import annotations

from typing import Any

from botocore.exceptions import BotoCoreError, ClientError, NoCredentialsError

from workshopctl.quotas import QuotaNeed

# The default bootstrap qualifier's version parameter (what `cdk bootstrap` writes).
BOOTSTRAP_VERSION_PARAMETER = "/cdk-bootstrap/hnb659fds/version"
# CDK v2 refuses to deploy into an older bootstrap; `cdk bootstrap` upgrades it in place.
MINIMUM_BOOTSTRAP_VERSION = 6


class AccountCheckFailed(Exception):
    """The account cannot take this deploy; the message is the one line to print."""


def caller_account(sts: Any) -> str:
    """The account id of the shell's credentials, or AccountCheckFailed saying what is missing."""
    try:
        return sts.get_caller_identity()["Account"]
    except NoCredentialsError:
        raise AccountCheckFailed(
            "no AWS credentials in this shell: set AWS_PROFILE (or AWS_ACCESS_KEY_ID and "
            "AWS_SECRET_ACCESS_KEY) for the workshop account, then run `make deploy` again"
        ) from None
    except (ClientError, BotoCoreError) as error:
        raise AccountCheckFailed(
            f"the shell's AWS credentials do not work ({error}): renew them, then run "
            "`make deploy` again"
        ) from None


def bootstrap_version(ssm: Any) -> int | None:
    """The CDK bootstrap version in the client's region, or None when it is not bootstrapped."""
    try:
        value = ssm.get_parameter(Name=BOOTSTRAP_VERSION_PARAMETER)["Parameter"]["Value"]
    except ClientError as error:
        if error.response["Error"]["Code"] == "ParameterNotFound":
            return None
        raise
    return int(value)


def needs_bootstrap(ssm: Any) -> bool:
    """True when the region has no CDK bootstrap, or one too old for CDK v2 to deploy into."""
    version = bootstrap_version(ssm)
    return version is None or version < MINIMUM_BOOTSTRAP_VERSION


def quota_value(service_quotas: Any, need: QuotaNeed) -> float | None:
    """The account's value of ``need``'s quota: the applied value, else AWS's default.

    By code where one is known, else by exact name (ListServiceQuotas). None when Service
    Quotas cannot tell (no permission, or no such quota in this region): the caller says so
    and goes on, since a quota it cannot read is no proof the deploy will fail.
    """
    try:
        if need.quota_code:
            return _value_by_code(service_quotas, need.service_code, need.quota_code)
        return _value_by_name(service_quotas, need.service_code, need.quota_name)
    except (ClientError, BotoCoreError):
        return None


def _value_by_code(service_quotas: Any, service_code: str, quota_code: str) -> float:
    try:
        quota = service_quotas.get_service_quota(ServiceCode=service_code, QuotaCode=quota_code)
    except ClientError as error:
        if error.response["Error"]["Code"] != "NoSuchResourceException":
            raise
        # No applied value recorded for this account: the default applies.
        quota = service_quotas.get_aws_default_service_quota(
            ServiceCode=service_code, QuotaCode=quota_code
        )
    return float(quota["Quota"]["Value"])


def _value_by_name(service_quotas: Any, service_code: str, quota_name: str) -> float | None:
    # Applied values first; quotas without one are listed only among the defaults.
    for operation in ("list_service_quotas", "list_aws_default_service_quotas"):
        for page in service_quotas.get_paginator(operation).paginate(ServiceCode=service_code):
            for quota in page.get("Quotas", []):
                if quota["QuotaName"] == quota_name:
                    return float(quota["Value"])
    return None
