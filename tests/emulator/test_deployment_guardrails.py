"""An UpdateEndpoint's DeploymentConfig read as stages (emulator/deployment_guardrails.py),
on the shapes of https://docs.aws.amazon.com/sagemaker/latest/APIReference/API_DeploymentConfig.html."""

from __future__ import annotations

import pytest

from workshopctl.emulator.deployment_guardrails import (
    BAKE_CAP_VARIABLE,
    InvalidDeploymentConfig,
    Stage,
    bake_cap,
    guardrails_of,
)


def _config(routing: dict, alarms: tuple[str, ...] = ()) -> dict:
    config = {"BlueGreenUpdatePolicy": {"TrafficRoutingConfiguration": routing}}
    if alarms:
        config["AutoRollbackConfiguration"] = {"Alarms": [{"AlarmName": a} for a in alarms]}
    return config


def test_without_a_blue_green_policy_the_update_swaps_at_once():
    assert guardrails_of(None, 2) is None
    assert guardrails_of({"AutoRollbackConfiguration": {"Alarms": []}}, 2) is None


def test_all_at_once_bakes_on_all_traffic_with_its_alarms():
    found = guardrails_of(
        _config({"Type": "ALL_AT_ONCE", "WaitIntervalInSeconds": 600}, ("5xx", "p99")), 1, cap=5
    )
    assert found.stages == (Stage(1.0, 5.0),)  # 600 s capped for the rehearsal
    assert found.alarms == ("5xx", "p99")


def test_a_canary_of_one_instance_of_four_takes_a_quarter_then_the_rest_without_a_bake():
    routing = {
        "Type": "CANARY",
        "WaitIntervalInSeconds": 2,
        "CanarySize": {"Type": "INSTANCE_COUNT", "Value": 1},
    }
    assert guardrails_of(_config(routing), 4, cap=10).stages == (Stage(0.25, 2.0), Stage(1.0, 0.0))


def test_linear_steps_each_bake_until_all_traffic_moved():
    routing = {
        "Type": "LINEAR",
        "WaitIntervalInSeconds": 1,
        "LinearStepSize": {"Type": "CAPACITY_PERCENT", "Value": 40},
    }
    shares = [stage.share for stage in guardrails_of(_config(routing), 2, cap=5).stages]
    assert shares == pytest.approx([0.4, 0.8, 1.0])


@pytest.mark.parametrize(
    ("routing", "message"),
    [
        ({"Type": "SOMETIMES"}, "allowed ALL_AT_ONCE, CANARY, LINEAR"),
        ({"Type": "CANARY", "CanarySize": {"Type": "HALF", "Value": 1}}, "CanarySize.Type"),
        ({"Type": "CANARY", "CanarySize": {"Type": "INSTANCE_COUNT", "Value": 0}}, "positive"),
    ],
)
def test_an_unusable_config_names_the_field_and_the_allowed_values(routing, message):
    with pytest.raises(InvalidDeploymentConfig, match=message):
        guardrails_of(_config(routing), 2, cap=1)


def test_the_bake_cap_comes_from_the_environment_and_must_be_seconds():
    assert bake_cap({}) == 5.0
    assert bake_cap({BAKE_CAP_VARIABLE: "0.5"}) == 0.5
    with pytest.raises(InvalidDeploymentConfig, match=BAKE_CAP_VARIABLE):
        bake_cap({BAKE_CAP_VARIABLE: "soon"})
