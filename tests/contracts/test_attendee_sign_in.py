"""Attendee sign-in as evaluated IAM decisions: each attendee's IAM user opens, starts and stops
their own notebook (or opens their own Studio profile), and nothing of anyone else's, with no
account-wide access (stacks/attendee_sign_in.py says why IAM users).

The users' policies come from their group, and name the workspace through ``${aws:username}``,
so these rules evaluate the policy variable as IAM does for an IAM user's request
(https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_variables.html).
"""

from __future__ import annotations

import re

import pytest

from tests.contracts.conftest import Deployed
from tests.contracts.test_attendee_isolation import cross_attendee_allowed, granted_mutations
from workshopctl import service_reference
from workshopctl.cloud_assembly import User

NOTEBOOK_ACTIONS = (
    "sagemaker:CreatePresignedNotebookInstanceUrl",
    "sagemaker:DescribeNotebookInstance",
    "sagemaker:StartNotebookInstance",
    "sagemaker:StopNotebookInstance",
)
STUDIO_ACTIONS = ("sagemaker:CreatePresignedDomainUrl", "sagemaker:DescribeUserProfile")
# Everything a signed-in attendee may do, per environment; anything more is account access.
GRANTED = {
    "notebook": {
        *NOTEBOOK_ACTIONS, "sagemaker:ListNotebookInstances",
        "iam:ChangePassword", "iam:GetAccountPasswordPolicy",
    },
    "studio": {
        *STUDIO_ACTIONS, "sagemaker:DescribeDomain", "sagemaker:ListDomains",
        "sagemaker:ListUserProfiles", "iam:ChangePassword", "iam:GetAccountPasswordPolicy",
    },
}  # fmt: skip
# A sample of what console access to the account would mean; a signed-in attendee gets none.
ACCOUNT_WIDE = (
    ("s3:ListAllMyBuckets", "*"),
    ("iam:PassRole", "arn:aws:iam::{account}:role/any"),
    ("iam:CreateAccessKey", "arn:aws:iam::{account}:user/{user}"),
    ("sts:AssumeRole", "arn:aws:iam::{account}:role/any"),
    ("sagemaker:CreateNotebookInstance", "{sagemaker}:notebook-instance/{user}"),
    ("sagemaker:CreateTrainingJob", "{sagemaker}:training-job/{user}-x"),
    ("sagemaker:DeleteNotebookInstance", "{sagemaker}:notebook-instance/{user}"),
    ("sagemaker:UpdateNotebookInstance", "{sagemaker}:notebook-instance/{user}"),
)  # fmt: skip


def environment(deployed: Deployed) -> str:
    return deployed.config.attendee_environment.environment


def user_of(deployed: Deployed, attendee: str) -> User:
    return deployed.assembly.user(deployed.config.notebook_name(attendee))


def workspace_arns(deployed: Deployed, attendee: str) -> list[tuple[str, str]]:
    """(action, ARN) of everything the attendee does to their own notebook or Studio profile."""
    assembly, name = deployed.assembly, deployed.config.notebook_name(attendee)
    sagemaker = f"arn:aws:sagemaker:{assembly.region}:{assembly.account}"
    if environment(deployed) == "studio":
        (domain,) = assembly.resources("AWS::SageMaker::Domain")
        profile = f"{sagemaker}:user-profile/{domain.name}/{name}"
        return [(action, profile) for action in STUDIO_ACTIONS]
    return [(action, f"{sagemaker}:notebook-instance/{name}") for action in NOTEBOOK_ACTIONS]


def test_every_attendee_has_a_user_in_the_attendees_group_whose_password_is_not_in_the_template(
    deployed,
):
    secrets = {s.arn for s in deployed.assembly.resources("AWS::SecretsManager::Secret")}
    groups = set()
    for attendee in deployed.config.attendee_names:
        user = user_of(deployed, attendee)
        groups.update(user.groups)
        profile = user.login_profile
        assert profile["PasswordResetRequired"] is True, attendee
        reference = re.fullmatch(
            r"\{\{resolve:secretsmanager:(.+):SecretString:password::\}\}", profile["Password"]
        )
        assert reference, f"{attendee}'s password is not a Secrets Manager dynamic reference"
        assert reference.group(1) in secrets, attendee
    assert len(groups) == 1, f"one attendees group, not {groups}"
    assert len(deployed.assembly.users) == len(deployed.config.attendee_names)


def test_an_attendee_opens_starts_and_stops_their_own_workspace(deployed):
    attendee = deployed.config.attendee_names[0]
    user = user_of(deployed, attendee)
    for action, arn in workspace_arns(deployed, attendee):
        decision = deployed.assembly.decide(user, action, arn)
        assert decision, f"{attendee} may not {action} on {arn}: {decision.reason}"
    change_password = deployed.assembly.decide(user, "iam:ChangePassword", user.arn)
    assert change_password, change_password.reason


def test_an_attendee_cannot_open_or_start_anyone_elses_workspace(deployed):
    first, second = deployed.config.attendee_names[:2]
    user = user_of(deployed, first)
    for action, arn in workspace_arns(deployed, second):
        decision = deployed.assembly.decide(user, action, arn)
        assert not decision, f"{first} may {action} {second}'s {arn}: {decision.reason}"
    other = user_of(deployed, second)
    assert not deployed.assembly.decide(user, "iam:ChangePassword", other.arn)


def test_a_signed_in_attendee_has_no_account_wide_access(deployed):
    """The group policy grants exactly the sign-in actions; nothing mutating reaches another
    attendee's or the workshop's shared resources (the isolation rule's own targets)."""
    attendee = deployed.config.attendee_names[0]
    user = user_of(deployed, attendee)
    granted = set()
    for _, document in user.policies:
        for statement in document["Statement"]:
            actions = statement["Action"]
            for pattern in [actions] if isinstance(actions, str) else actions:
                service = pattern.split(":")[0]
                assert "*" not in pattern, f"a wildcard action: {pattern}"
                assert pattern in service_reference.actions(service), pattern
                granted.add(pattern)
    assert granted == GRANTED[environment(deployed)]
    assert granted_mutations(user), "the isolation check would be empty"
    allowed = cross_attendee_allowed(deployed, user, attendee, deployed.config.attendee_names[1])
    assert not allowed, [f"{a} on {t.arn}" for a, t, _ in allowed]
    account, region = deployed.assembly.account, deployed.assembly.region
    values = {
        "account": account,
        "sagemaker": f"arn:aws:sagemaker:{region}:{account}",
        "user": user.name,
    }
    for action, arn in ACCOUNT_WIDE:
        resource = arn.format(**values)
        assert not deployed.assembly.decide(user, action, resource), (action, resource)


@pytest.mark.parametrize("config", ["ml-ws"])
def test_only_the_smoke_principal_may_assume_only_the_first_attendees_role(config, synth):
    """``make smoke`` assumes the first attendee's role from the organiser's session: the trust
    names that one principal (never the account) on that one role."""
    from tests.contracts.conftest import CONFIGS, _deployed

    deployed = _deployed(synth, config, CONFIGS[config])
    smoke = deployed.config.attendee_environment.smoke_principal
    assert smoke, "the ml-ws contract config sets a smoke principal"
    first, *others = deployed.config.attendee_names
    for attendee in (first, *others):
        trust = deployed.attendee_role(attendee).trust_policy["Statement"]
        principals = [s["Principal"].get("AWS") for s in trust if "AWS" in s["Principal"]]
        assert principals == ([smoke] if attendee == first else []), (attendee, principals)
