"""Every AWS call the project's programs make is allowed for the role they run as.

Programs: the Lambda functions (promotion, traffic shift, janitor, census, image build, the
deploy's reviews ETL run) and the labs' helper as an attendee's role. Their boto3 calls are read
from the code; computed calls and the SageMaker SDK's calls are declared in
:mod:`tests.contracts.program_calls`.
"""

from __future__ import annotations

import pytest

from tests.contracts.program_calls import (
    LIFECYCLE_CLI_ACTIONS,
    Program,
    janitor_dynamic_calls,
    lifecycle_cli_calls,
    programs,
    resource_for,
)
from workshopctl.aws_calls import extract, iam_actions


def program_actions(program: Program) -> set[str]:
    extraction = extract(*program.files)
    actions = {
        action
        for call in extraction.calls
        for action in iam_actions(call, versions=program.versioned_deletes)
    }
    undeclared = [u for u in extraction.unresolved if u.expression not in program.dynamic]
    assert not undeclared, f"{program.name}: declare the actions of {undeclared}"
    for expression in {u.expression for u in extraction.unresolved}:
        actions.update(program.dynamic[expression])
    return actions | set(program.declared)


def test_each_program_may_make_every_call_in_its_code(deployed):
    assembly = deployed.assembly
    problems = []
    checked = 0
    for program in programs(deployed):
        role = assembly.role(program.role_arn)
        requests = [
            (action, resource_for(action, program.names, assembly.region, assembly.account))
            for action in sorted(program_actions(program))
        ] + list(program.implied)
        for action, resource in requests:
            checked += 1
            decision = assembly.decide(role, action, resource, dict(program.context))
            if not decision:
                problems.append(f"{program.name}: {action} on {resource}: {decision.reason}")
    assert checked > 100, checked
    assert not problems, "\n".join(problems)


def test_every_program_of_the_stacks_is_checked(deployed):
    """A new function without a Program entry would escape the check."""
    named = {program.name for program in programs(deployed)}
    assert {"promotion", "traffic-shift", "janitor", "census", "labs helper"} <= named
    assert any(name.startswith("Glue job") for name in named)
    on_deploy = deployed.config.data_lake.run_reviews_etl_on_deploy
    assert ("reviews ETL run" in named) == on_deploy
    studio = deployed.config.attendee_environment.environment == "studio"
    assert ("studio teardown" in named) == studio
    assert ("notebook lifecycle" in named) == (not studio)
    assert ("studio lifecycle" in named) == studio


def test_every_aws_cli_command_of_the_lifecycle_scripts_is_declared():
    assert lifecycle_cli_calls() == set(LIFECYCLE_CLI_ACTIONS)


def test_the_janitors_declared_calls_match_its_kind_table():
    calls = janitor_dynamic_calls()
    assert "sagemaker:StopTrainingJob" in calls["getattr(sm, f'stop_{snake}')"]
    assert (
        "sagemaker:ListUserProfiles"
        in calls["d.pages(sm, f'list_{member}s', f'{noun}s', DomainIdEquals=domain_id)"]
    )


@pytest.mark.parametrize(
    ("action", "expected"),
    [
        ("sagemaker:DescribeEndpoint", "arn:aws:sagemaker:eu-west-1:1:endpoint/e"),
        ("s3:GetObject", "arn:aws:s3:::b/k"),
        ("ecr:GetAuthorizationToken", "*"),
    ],
)
def test_resources_follow_the_service_authorization_reference(action, expected):
    names = {"EndpointName": "e", "BucketName": "b", "ObjectName": "k"}
    assert resource_for(action, names, "eu-west-1", "1") == expected
