"""``accounts: per-attendee`` and its pool: what a pool must name, and what each account gets."""

from __future__ import annotations

import pytest

from workshop_spec.config import ACCOUNT_ATTENDEE, ConfigError, load_project_config

THREE = {"attendees": '["ada","grace","linus"]', "accounts": "per-attendee"}
NAMED = {
    **THREE,
    "pool.deployment": "named-accounts",
    "pool.accounts": '{"ada":"111111111111","grace":"222222222222","linus":"333333333333"}',
}
ORGANIZATIONAL_UNIT = {
    **THREE,
    "pool.deployment": "organizational-unit",
    "pool.organization_id": "o-abcdef1234",
    "pool.organizational_unit": "ou-ab12-cd34ef56",
}

BAD_POOLS = [
    (THREE, "accounts=per-attendee needs pool.deployment: organizational-unit or named-accounts"),
    (
        {**THREE, "pool.deployment": "organizational-unit"},
        "pool: deployment=organizational-unit needs pool.organization_id and "
        "pool.organizational_unit",
    ),
    (
        {**ORGANIZATIONAL_UNIT, "pool.organizational_unit": "ab12-cd34ef56"},
        "pool.organizational_unit: ab12-cd34ef56 is not allowed; use an organizational unit id",
    ),
    (
        {**THREE, "pool.deployment": "named-accounts"},
        "pool: deployment=named-accounts needs pool.accounts",
    ),
    (
        {**NAMED, "pool.accounts": '{"ada":"111111111111","grace":"222222222222"}'},
        "pool.accounts must name each attendee once: missing linus",
    ),
    (
        {
            **NAMED,
            "pool.accounts": '{"ada":"111111111111","grace":"222222222222","linus":"3"}',
        },
        "pool.accounts.linus: 3 is not allowed; use a mapping of attendee name to 12-digit",
    ),
    (
        {
            **NAMED,
            "pool.accounts": '{"ada":"111111111111","grace":"111111111111","linus":"333333333333"}',
        },
        "pool.accounts gives account 111111111111 to more than one attendee",
    ),
    (
        {**NAMED, "account": "333333333333"},
        "pool.accounts: 333333333333 is the organiser's account (account)",
    ),
    (
        {**NAMED, "model_image.build": "docker"},
        "accounts=per-attendee needs model_image.build=codebuild",
    ),
    (
        {**NAMED, "synthesizer": "workshop-studio"},
        "accounts=per-attendee synthesizes the pool's stacks with the event-bucket synthesizer",
    ),
    (
        {
            "pool.deployment": "organizational-unit",
            "pool.organization_id": "o-abcdef1234",
            "pool.organizational_unit": "ou-ab12-cd34ef56",
        },
        "pool.deployment is only used with accounts=per-attendee",
    ),
    ({"accounts": "pool"}, "accounts: pool is not allowed; use shared (every attendee"),
]


@pytest.mark.parametrize(("override", "message"), BAD_POOLS, ids=[m[:40] for _, m in BAD_POOLS])
def test_a_pool_that_cannot_deploy_fails_with_the_keys_named(override, message):
    with pytest.raises(ConfigError) as error:
        load_project_config(override)
    assert message in str(error.value)
    assert len(str(error.value).splitlines()) == 1


@pytest.mark.parametrize("pool", [NAMED, ORGANIZATIONAL_UNIT], ids=["named", "ou"])
def test_each_account_holds_the_workshop_for_one_attendee_with_its_share_of_the_budget(pool):
    config = load_project_config({**pool, "budget": '{"monthly_usd": 300}'})
    account = config.account_workshop()
    assert account.attendee_names == [ACCOUNT_ATTENDEE]
    assert account.accounts == "shared"  # one account of the pool, as a workshop of one
    assert account.synthesizer == "workshop-studio"  # assets from the organiser's bucket
    assert (account.account, account.region) == (None, None)  # StackSets choose both
    assert account.budget.monthly_usd == 100
    assert account.prefix == config.prefix  # the same names in every account


def test_the_roster_maps_attendees_to_accounts_or_to_none_until_an_ou_assigns_them():
    assert load_project_config(NAMED).roster == {
        "ada": "111111111111",
        "grace": "222222222222",
        "linus": "333333333333",
    }
    assert load_project_config(ORGANIZATIONAL_UNIT).roster == dict.fromkeys(
        ["ada", "grace", "linus"]
    )


def test_a_shared_config_has_no_account_workshop():
    with pytest.raises(ValueError, match="per-attendee"):
        load_project_config().account_workshop()
