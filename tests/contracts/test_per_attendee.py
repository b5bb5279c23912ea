"""The contract checker over ``accounts: per-attendee``: the stacks every pool account gets
(one attendee, assets read through the event-bucket parameters) meet the same service and
program contracts as the shared account's. Attendee isolation needs two attendees in one
account, which a pool account never has: its rules run on the shared configs only."""

from __future__ import annotations

import pytest

from tests.contracts import test_program_calls
from tests.contracts.conftest import Deployed
from tests.contracts.service_access import ALL_RULES
from tests.contracts.test_service_contracts import denied
from tests.infra.pool_configs import PER_ATTENDEE
from workshop_spec.config import ACCOUNT_ATTENDEE, load_project_config
from workshopctl.cloud_assembly import CloudAssembly


@pytest.fixture(scope="module")
def pool_account(synth) -> Deployed:
    config = load_project_config({k.replace("__", "."): v for k, v in PER_ATTENDEE.items()})
    account = config.account_workshop()
    assert account.attendee_names == [ACCOUNT_ATTENDEE]
    return Deployed("per-attendee", account, CloudAssembly(synth(**PER_ATTENDEE).outdir))


@pytest.mark.parametrize("rule", ALL_RULES, ids=lambda rule: rule.__name__)
def test_every_request_aws_makes_in_a_pool_account_is_allowed(pool_account, rule):
    accesses = list(rule(pool_account.assembly))
    assert accesses, f"{rule.__name__} finds nothing to check in a pool account"
    problems = denied(pool_account.assembly, accesses)
    assert not problems, "\n".join(problems)


def test_each_program_of_a_pool_account_may_make_every_call_in_its_code(pool_account):
    test_program_calls.test_each_program_may_make_every_call_in_its_code(pool_account)
    test_program_calls.test_every_program_of_the_stacks_is_checked(pool_account)
