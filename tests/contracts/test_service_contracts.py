"""What AWS services do as the project's roles is allowed by the synthesized policies.

Each rule in :mod:`tests.contracts.service_access` derives, from the resources of the cloud
assembly, the requests AWS will make (and cites the AWS page saying so); here each request is
evaluated against the identity policies of its role and the resource's own policy (bucket,
key, topic, queue, function).
"""

from __future__ import annotations

import pytest

from tests.contracts.service_access import ALL_RULES, Access, glue_unknown_arguments
from workshopctl.cloud_assembly import CloudAssembly


def denied(assembly: CloudAssembly, accesses: list[Access]) -> list[str]:
    problems = []
    for access in accesses:
        principal = (
            assembly.role(access.principal)
            if access.principal.startswith("arn:aws:iam::")
            else access.principal
        )
        decision = assembly.decide(principal, access.action, access.resource, dict(access.context))
        if not decision:
            problems.append(f"{access} [{decision.reason}]")
    return list(dict.fromkeys(problems))


@pytest.mark.parametrize("rule", ALL_RULES, ids=lambda rule: rule.__name__)
def test_every_request_aws_makes_as_a_project_role_is_allowed(deployed, rule):
    accesses = list(rule(deployed.assembly))
    problems = denied(deployed.assembly, accesses)
    assert not problems, f"{len(problems)} of {len(accesses)} requests denied:\n" + "\n".join(
        problems
    )


def test_the_rules_see_what_they_check(default_deployed):
    """Guards the guard: a rule that finds nothing to check passes silently."""
    counts = {rule.__name__: len(list(rule(default_deployed.assembly))) for rule in ALL_RULES}
    assert all(counts.values()), counts


def test_every_s3_argument_of_a_glue_job_is_classified(deployed):
    assert glue_unknown_arguments(deployed.assembly) == []
