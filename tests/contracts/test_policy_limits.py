"""Every policy is well formed and fits IAM's limits, also for the largest legal workshop.

IAM's quotas (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_iam-quotas.html): a
customer-managed policy holds at most 6,144 characters (white space not counted); a role's
inline policies together 10,240; a role trust policy 2,048; a role has at most 10 managed
policies attached (the default quota). Sizes are measured with the names a deploy would really
produce: a 12-digit account, a long region name, generated names at their longest.
"""

from __future__ import annotations

import json
import math

import pytest
from parliament import analyze_policy_string

from workshopctl.cloud_assembly import CloudAssembly
from workshopctl.labs_parameters import attendee_parameters, shared_parameter

MANAGED_POLICY_CHARACTERS = 6_144
INLINE_CHARACTERS_PER_ROLE = 10_240
TRUST_POLICY_CHARACTERS = 2_048
MANAGED_POLICIES_PER_ROLE = 10
# The largest config: 100 attendees with the default names, and the longest prefix those
# names allow (see WorkshopConfig: `<prefix>-attendee-100-` fits a tuning job's name).
LARGEST = {"attendees": 100, "prefix": "ml-ws-max"}
LONG_REGION = "ap-southeast-4"  # among the longest region names the stacks' image map knows


def size(document: dict) -> int:
    return len(json.dumps(document, separators=(",", ":")).replace(" ", ""))


@pytest.fixture(scope="module")
def largest(synth) -> CloudAssembly:
    return CloudAssembly(synth(**LARGEST).outdir, region=LONG_REGION, longest_names=True)


def test_every_policy_fits_iams_size_limits_at_the_largest_config(largest):
    problems = []
    for policy in largest.resources("AWS::IAM::ManagedPolicy"):
        characters = size(policy.properties["PolicyDocument"])
        if characters > MANAGED_POLICY_CHARACTERS:
            problems.append(f"{policy.path}: {characters} > {MANAGED_POLICY_CHARACTERS}")
    for role in largest.roles.values():
        inline = sum(size(document) for document in role.inline_policies)
        if inline > INLINE_CHARACTERS_PER_ROLE:
            problems.append(f"{role.resource.path}: inline policies {inline}")
        trust = size(role.trust_policy)
        if trust > TRUST_POLICY_CHARACTERS:
            problems.append(f"{role.resource.path}: trust policy {trust}")
        if role.managed_policy_count > MANAGED_POLICIES_PER_ROLE:
            problems.append(f"{role.resource.path}: {role.managed_policy_count} managed policies")
    assert not problems, "\n".join(problems)


def test_the_largest_config_has_one_role_per_attendee(largest):
    """Guards the guard: the size test must see the 100 attendee roles."""
    notebooks = list(largest.resources("AWS::SageMaker::NotebookInstance"))
    assert len(notebooks) == 100


# SSM Parameter Store: "Standard parameters have a value limit of 4 KB" (PutParameter's Value,
# https://docs.aws.amazon.com/systems-manager/latest/APIReference/API_PutParameter.html; the
# tiers: https://docs.aws.amazon.com/systems-manager/latest/userguide/parameter-store-advanced-parameters.html).
# AWS's refusal counts characters: "Standard tier parameters support a maximum parameter value
# of 4096 characters".
STANDARD_PARAMETER_CHARACTERS = 4_096


@pytest.fixture(scope="module")
def default_longest(synth) -> CloudAssembly:
    return CloudAssembly(synth().outdir, region=LONG_REGION, longest_names=True)


@pytest.mark.parametrize("config", ["default_longest", "largest"])
def test_every_ssm_parameter_fits_a_standard_parameter(config, request):
    """Measured on the resolved value a deploy writes (12-digit account, a long region,
    generated names at their longest), for the default workshop and the largest one."""
    assembly: CloudAssembly = request.getfixturevalue(config)
    parameters = list(assembly.resources("AWS::SSM::Parameter"))
    # Guards the guard: the shared parameter and a part per ten attendees (10 in the largest).
    notebooks = list(assembly.resources("AWS::SageMaker::NotebookInstance"))
    assert len(attendee_parameters(assembly)) == math.ceil(len(notebooks) / 10) > 0
    assert shared_parameter(assembly) in parameters
    problems = []
    for parameter in parameters:
        tier = parameter.properties.get("Tier", "Standard")
        characters = len(parameter.properties["Value"])
        if tier != "Standard" or characters > STANDARD_PARAMETER_CHARACTERS:
            problems.append(f"{parameter.name}: {tier}, {characters} characters")
    assert not problems, "\n".join(problems)


# parliament's findings that mean a policy would not do what it says.
MALFORMED = {
    "UNKNOWN_ACTION", "UNKNOWN_PREFIX", "RESOURCE_MISMATCH", "MALFORMED", "MALFORMED_JSON",
    "UNKNOWN_CONDITION_FOR_ACTION", "INVALID_ARN", "UNKNOWN_OPERATOR", "MISMATCHED_TYPE",
    "MISMATCHED_TYPE_OPERATION_TO_NULL", "DENY_WITH_RESOURCE_STAR_NOT_SUPPORTED",
}  # fmt: skip


def test_every_action_exists_and_every_resource_has_its_actions_shape(deployed):
    """Checked with parliament's copy of the Service Authorization Reference. A wildcard
    action (CDK's own ``s3:GetObject*``) also matches actions on other resource types, which
    IAM simply does not apply to the listed ARNs: those expansions are not findings."""
    problems = []
    for role in deployed.assembly.roles.values():
        for name, document in role.policies:
            literal = {
                action.lower()
                for statement in document["Statement"]
                for action in _as_list(statement.get("Action", []))
            }
            for finding in analyze_policy_string(json.dumps(document)).findings:
                if finding.issue not in MALFORMED:
                    continue
                details = [
                    d
                    for d in _as_list(finding.detail)
                    if not isinstance(d, dict) or d.get("action", "").lower() in literal
                ]
                if details:
                    problems.append(f"{name}: {finding.issue} {details}")
    assert not problems, "\n".join(dict.fromkeys(problems))


def _as_list(value):
    return value if isinstance(value, list) else [value]
