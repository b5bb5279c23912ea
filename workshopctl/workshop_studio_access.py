"""What a Workshop Studio participant account needs: the participant role's policy and quotas.

The participant signs in to the event's account as Workshop Studio's participant role, whose
permissions are the bundle's ``static/iam_policy.json`` (``awsAccountConfig.participantRole``).
The labs do not run as that role: they run in the participant's notebook (or Studio profile) as
the attendee role the attendee-environment template creates, with the least-privilege policies
the stacks write and the contract checker tests. So the participant role needs only its way into
that workspace, the same rights the ``iam-users`` sign-in gives an attendee in a shared account
(stacks/attendee_sign_in.py), minus the password change (no IAM user here).

``required_resources`` turns the labs' plan of quotas (workshopctl/quotas.yaml through
``quotas.needs``) for one participant into ``awsAccountConfig.requiredResources``: participant
accounts are recycled and cannot raise their own quotas, so the event must ask for them.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from workshop_spec.config import WorkshopConfig
from workshopctl import quotas

# SageMaker's resource types and which actions take a resource ARN:
# https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazonsagemaker.html
SAGEMAKER_ARN = "arn:aws:sagemaker:*:*:{kind}/{name}"


def participant_policy(config: WorkshopConfig, participant: str) -> dict[str, Any]:
    """The IAM policy document of the participant role: open, start and stop their workspace.

    Account and region are wildcards because the bundle is written before Workshop Studio picks
    the account; the resource names still scope every mutating action to this participant's
    notebook or user profile.
    """
    if config.attendee_environment.environment == "studio":
        # https://docs.aws.amazon.com/sagemaker/latest/APIReference/API_CreatePresignedDomainUrl.html
        statements = [
            {
                "Sid": "OpenOwnStudioProfile",
                "Effect": "Allow",
                "Action": ["sagemaker:CreatePresignedDomainUrl", "sagemaker:DescribeUserProfile"],
                # The attendee-environment stack names each profile like the notebook would be.
                "Resource": SAGEMAKER_ARN.format(
                    kind="user-profile", name=f"*/{config.notebook_name(participant)}"
                ),
            },
            {
                "Sid": "DescribeDomain",
                "Effect": "Allow",
                "Action": ["sagemaker:DescribeDomain"],
                "Resource": SAGEMAKER_ARN.format(kind="domain", name="*"),
            },
            {
                # List actions take no resource ARN (the service authorization page above).
                "Sid": "ListStudioProfiles",
                "Effect": "Allow",
                "Action": ["sagemaker:ListDomains", "sagemaker:ListUserProfiles"],
                "Resource": "*",
            },
        ]
    else:
        # https://docs.aws.amazon.com/sagemaker/latest/APIReference/API_CreatePresignedNotebookInstanceUrl.html
        statements = [
            {
                "Sid": "OpenOwnNotebook",
                "Effect": "Allow",
                "Action": [
                    "sagemaker:CreatePresignedNotebookInstanceUrl",
                    "sagemaker:DescribeNotebookInstance",
                    "sagemaker:StartNotebookInstance",
                    "sagemaker:StopNotebookInstance",
                ],
                "Resource": SAGEMAKER_ARN.format(
                    kind="notebook-instance", name=config.notebook_name(participant)
                ),
            },
            {
                "Sid": "ListNotebooks",
                "Effect": "Allow",
                "Action": ["sagemaker:ListNotebookInstances"],
                "Resource": "*",
            },
        ]
    return {"Version": "2012-10-17", "Statement": statements}


def required_resources(config: WorkshopConfig, assembly: Path) -> list[dict[str, Any]]:
    """One entry per quota the deploy and the labs consume in a participant's account.

    Keys follow Service Quotas' RequestServiceQuotaIncrease (ServiceCode, QuotaCode,
    DesiredValue): https://docs.aws.amazon.com/servicequotas/2019-06-24/apireference/API_RequestServiceQuotaIncrease.html
    Workshop Studio's own schema for ``requiredResources`` is not public: confirm these keys
    in a test event. A quota without a confirmed code is named only (look it up by name).
    """
    entries = []
    for need in quotas.needs(config, assembly):
        if need.need <= 0:
            continue
        entry: dict[str, Any] = {"serviceCode": need.service_code}
        if need.quota_code:
            entry["quotaCode"] = need.quota_code
        entry["quotaName"] = need.quota_name
        entry["desiredValue"] = need.need
        entries.append(entry)
    return entries
