"""The participant role's policy (static/iam_policy.json) as evaluated IAM decisions: the
participant opens, starts and stops their own notebook or Studio profile, and nothing else in
the account, with every action real (the Service Authorization Reference, as parliament ships
it) and scoped to the resource type it is authorized against."""

from __future__ import annotations

import json
import re

import pytest
from parliament import analyze_policy_string

from tests.contracts.test_policy_limits import MALFORMED, MANAGED_POLICY_CHARACTERS, size
from workshop_spec.config import load_project_config
from workshopctl import service_reference
from workshopctl.iam_evaluation import Principal, Request, evaluate, wildcard_match
from workshopctl.workshop_studio import PARTICIPANT, bundle_context
from workshopctl.workshop_studio_access import participant_policy

ACCOUNT, REGION = "123456789012", "eu-west-1"
SAGEMAKER = f"arn:aws:sagemaker:{REGION}:{ACCOUNT}"
ROLE = Principal(f"arn:aws:iam::{ACCOUNT}:role/WSParticipantRole", ACCOUNT)
# What account access would mean; the participant role gets none of it (the labs run as the
# notebook's own role, which the attendee-environment template gives least privilege).
NOT_GRANTED = (
    ("s3:GetObject", "arn:aws:s3:::mlws-data-lake-curatedbucket/attendees/participant/x"),
    ("s3:ListAllMyBuckets", "*"),
    ("iam:PassRole", f"arn:aws:iam::{ACCOUNT}:role/any"),
    ("sts:AssumeRole", f"arn:aws:iam::{ACCOUNT}:role/any"),
    ("cloudformation:DeleteStack", f"arn:aws:cloudformation:{REGION}:{ACCOUNT}:stack/mlws/1"),
    ("sagemaker:CreateTrainingJob", f"{SAGEMAKER}:training-job/mlws-participant-x"),
    ("sagemaker:DeleteNotebookInstance", f"{SAGEMAKER}:notebook-instance/mlws-participant"),
    ("sagemaker:UpdateNotebookInstance", f"{SAGEMAKER}:notebook-instance/mlws-participant"),
    ("sagemaker:CreatePresignedNotebookInstanceUrl", f"{SAGEMAKER}:notebook-instance/mlws-other"),
    ("sagemaker:CreatePresignedDomainUrl", f"{SAGEMAKER}:user-profile/d-1/mlws-other"),
)  # fmt: skip


def _config(environment: str):
    context = {**bundle_context(), "attendee_environment.environment": environment}
    return load_project_config(context)


def _allowed(policy: dict, action: str, resource: str) -> bool:
    request = Request(ROLE, action, resource)
    return bool(evaluate(request, [("iam_policy.json", policy)]))


@pytest.mark.parametrize("environment", ["notebook", "studio"])
def test_the_participant_reaches_their_own_workspace(environment):
    config = _config(environment)
    policy = participant_policy(config, PARTICIPANT)
    name = config.notebook_name(PARTICIPANT)
    if environment == "studio":
        own = [
            ("sagemaker:CreatePresignedDomainUrl", f"{SAGEMAKER}:user-profile/d-1/{name}"),
            ("sagemaker:DescribeUserProfile", f"{SAGEMAKER}:user-profile/d-1/{name}"),
            ("sagemaker:ListDomains", "*"),
        ]
    else:
        own = [
            (action, f"{SAGEMAKER}:notebook-instance/{name}")
            for action in (
                "sagemaker:CreatePresignedNotebookInstanceUrl",
                "sagemaker:DescribeNotebookInstance",
                "sagemaker:StartNotebookInstance",
                "sagemaker:StopNotebookInstance",
            )
        ] + [("sagemaker:ListNotebookInstances", "*")]
    for action, resource in own:
        assert _allowed(policy, action, resource), (action, resource)
    for action, resource in NOT_GRANTED:
        assert not _allowed(policy, action, resource), (action, resource)


@pytest.mark.parametrize("environment", ["notebook", "studio"])
def test_every_action_exists_and_is_scoped_to_its_resource_type(environment):
    policy = participant_policy(_config(environment), PARTICIPANT)
    for statement in policy["Statement"]:
        for action in statement["Action"]:
            assert action in service_reference.actions(action.split(":")[0]), action
            formats = service_reference.required_arn_formats(action)
            if statement["Resource"] == "*":
                assert not formats, f"{action} takes a resource ARN: scope it"
                continue
            # The reference's formats read ${Partition}, ${Region}, ...: any value matches.
            patterns = [_as_wildcard(arn_format) for arn_format in formats]
            assert any(wildcard_match(p, statement["Resource"]) for p in patterns), action


def _as_wildcard(arn_format: str) -> str:
    return re.sub(r"\$\{[^}]+\}", "*", arn_format)


@pytest.mark.parametrize("environment", ["notebook", "studio"])
def test_the_policy_passes_the_contract_checkers_shape_and_size_rules(environment):
    """The contract checker's rules for every policy the stacks ship
    (tests/contracts/test_policy_limits.py): no parliament finding that means the policy would
    not do what it says, and IAM's size quota for the policy type Workshop Studio attaches it
    as (the smaller, a customer-managed policy's 6,144 characters, holds for either)."""
    policy = participant_policy(_config(environment), PARTICIPANT)
    findings = analyze_policy_string(json.dumps(policy)).findings
    assert [f"{f.issue} {f.detail}" for f in findings if f.issue in MALFORMED] == []
    assert size(policy) <= MANAGED_POLICY_CHARACTERS
