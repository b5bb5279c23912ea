"""Traffic shift between the A/B endpoint's variants, against moto (every call it makes is moto's).

moto applies UpdateEndpointWeightsAndCapacities to the weights it is given; it also blanks the
instance count of a variant sent without one, which SageMaker does not, so capacity is checked
on the request (no ``DesiredInstanceCount`` in it) rather than on moto's endpoint.
"""

from __future__ import annotations

import math

import boto3
import pytest
from hypothesis import given
from hypothesis import strategies as st
from moto import mock_aws

from lambdas.traffic_shift.handler import EndpointNotReady, shift_traffic
from lambdas.traffic_shift.weights import (
    InvalidShiftRequest,
    ShiftRequest,
    parse_request,
    plan_shift,
    shares,
)
from tests.lambdas.ab_endpoint_fixtures import (
    ENDPOINT,
    PREFIX,
    REGION,
    CallLog,
    build_ab_endpoint,
    live_variants,
    set_status,
)

UPDATE = "UpdateEndpointWeightsAndCapacities"


def _endpoint_on_moto():
    with pytest.MonkeyPatch.context() as patch, mock_aws():
        for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
            patch.setenv(name, "testing")
        patch.setenv("AWS_DEFAULT_REGION", REGION)
        sagemaker = boto3.client("sagemaker", region_name=REGION)
        build_ab_endpoint(sagemaker)  # variant-a 0.9, variant-b 0.1
        yield sagemaker


@pytest.fixture
def aws():
    yield from _endpoint_on_moto()


@pytest.fixture(scope="module")
def untouched_aws():
    """One endpoint for the refusals: a refused request changes nothing (each test checks)."""
    yield from _endpoint_on_moto()


def weights_of(sagemaker) -> dict[str, float]:
    return {name: v["DesiredWeight"] for name, v in live_variants(sagemaker).items()}


def test_weights_are_shifted_without_touching_capacity(aws):
    calls = CallLog(aws)
    event = {"endpoint": ENDPOINT, "weights": {"variant-a": 0.5, "variant-b": 0.5}}

    result = shift_traffic(aws, event, PREFIX)

    assert result["action"] == "shifted"
    assert result["shares_before"] == {"variant-a": 0.9, "variant-b": 0.1}
    assert weights_of(aws) == {"variant-a": 0.5, "variant-b": 0.5}
    [request] = calls.of(UPDATE)
    assert all(
        set(v) == {"VariantName", "DesiredWeight"} for v in request["DesiredWeightsAndCapacities"]
    )


def test_the_shift_form_moves_a_share_of_traffic_to_one_variant(aws):
    result = shift_traffic(
        aws, {"endpoint": ENDPOINT, "shift": {"to": "variant-b", "by": 0.1}}, PREFIX
    )

    assert result["shares_after"] == {"variant-a": 0.8, "variant-b": 0.2}
    assert weights_of(aws) == {"variant-a": 0.8, "variant-b": 0.2}


def test_a_re_run_changes_nothing_and_makes_no_update_call(aws):
    event = {"endpoint": ENDPOINT, "weights": {"variant-a": 0.5, "variant-b": 0.5}}
    shift_traffic(aws, event, PREFIX)
    calls = CallLog(aws)

    again = shift_traffic(aws, event, PREFIX)
    same_split = shift_traffic(
        aws, {"endpoint": ENDPOINT, "weights": {"variant-a": 3, "variant-b": 3}}, PREFIX
    )

    assert again["action"] == same_split["action"] == "unchanged"
    assert calls.of(UPDATE) == []
    assert weights_of(aws) == {"variant-a": 0.5, "variant-b": 0.5}


@pytest.mark.parametrize(
    ("event", "field"),
    [
        ({"weights": {"variant-a": -0.1, "variant-b": 1.1}}, "weights.variant-a"),
        ({"weights": {"variant-a": math.nan, "variant-b": 0.5}}, "weights.variant-a"),
        ({"weights": {"variant-a": math.inf}}, "weights.variant-a"),
        ({"weights": {"variant-a": "0.5"}}, "weights.variant-a"),
        ({"weights": {"variant-a": True}}, "weights.variant-a"),
        ({"weights": {"variant-c": 0.5}}, "weights.variant-c"),
        ({"weights": {"variant-a": 0, "variant-b": 0}}, "weights"),
        ({"weights": {"variant-a": 0}, "max_step": 0.2}, "weights"),  # moves 90 % at once
        ({"weights": {"variant-a": 0.5, "variant-b": 0.5}, "max_step": 0.2}, "weights"),
        ({"weights": {}}, "weights"),
        (
            {
                "weights": [
                    {"variant": "variant-a", "weight": 0.5},
                    {"variant": "variant-a", "weight": 0.5},
                ]
            },
            "weights[1].variant",
        ),
        ({"weights": {"variant-a": 1}, "shift": {"to": "variant-b", "by": 0.1}}, "shift"),
        ({"shift": {"to": "variant-b", "by": 0}}, "shift.by"),
        ({"shift": {"to": "variant-b", "by": 1.5}}, "shift.by"),
        ({"shift": {"to": "variant-z", "by": 0.1}}, "shift.to"),
        ({"shift": {"to": "variant-b"}}, "shift"),
        ({"weight": {"variant-a": 1}}, "weight"),
        ({"endpoint": "prod-bank-ab", "weights": {"variant-a": 1}}, "endpoint"),
        ({"endpoint": "mlws-no-such-endpoint", "weights": {"variant-a": 1}}, "endpoint"),
    ],
)
def test_bad_requests_are_refused_naming_the_field_and_nothing_is_called(
    untouched_aws, event, field
):
    aws = untouched_aws
    calls = CallLog(aws)

    with pytest.raises(InvalidShiftRequest) as refused:
        shift_traffic(aws, {"endpoint": ENDPOINT, **event}, PREFIX)

    assert refused.value.field == field
    assert str(refused.value).startswith(f"{field}: ")
    assert calls.of(UPDATE) == []
    assert weights_of(aws) == {"variant-a": 0.9, "variant-b": 0.1}


def test_an_endpoint_that_is_updating_is_not_touched(aws):
    set_status(ENDPOINT, "Updating")
    calls = CallLog(aws)

    with pytest.raises(EndpointNotReady, match="Updating"):
        shift_traffic(aws, {"endpoint": ENDPOINT, "weights": {"variant-b": 0.5}}, PREFIX)

    assert calls.of(UPDATE) == []


def test_max_step_from_the_environment_applies_unless_the_request_sets_its_own(aws):
    event = {"endpoint": ENDPOINT, "weights": {"variant-a": 0.5, "variant-b": 0.5}}
    with pytest.raises(InvalidShiftRequest, match=r"max_step allows 10\.0%"):
        shift_traffic(aws, event, PREFIX, default_max_step=0.1)

    result = shift_traffic(aws, {**event, "max_step": 0.5}, PREFIX, default_max_step=0.1)

    assert result["action"] == "shifted"


variant_weights = st.dictionaries(
    st.sampled_from(["variant-a", "variant-b", "variant-c"]),
    st.floats(min_value=0, max_value=10, allow_nan=False),
    min_size=2,
).filter(lambda w: sum(w.values()) > 0.01)


@given(current=variant_weights, by=st.floats(min_value=0.001, max_value=1), data=st.data())
def test_a_shift_moves_exactly_its_share_and_keeps_the_others_proportions(current, by, data):
    to = data.draw(st.sampled_from(sorted(current)))
    plan = plan_shift(ShiftRequest("mlws-ab", shift_to=to, shift_by=by), current)

    old, new = shares(plan.before), shares(plan.after)
    assert new[to] == pytest.approx(min(1.0, old[to] + by), abs=1e-5)
    others = [name for name in current if name != to and old[name] > 0.01]
    if len(others) == 2 and new[others[1]] > 0.01:
        a, b = others
        assert new[a] / new[b] == pytest.approx(old[a] / old[b], rel=1e-3)


def test_the_list_form_reads_like_the_object_form():
    as_list = parse_request(
        {"endpoint": "mlws-ab", "weights": [{"variant": "variant-a", "weight": 1}]}, PREFIX
    )
    as_object = parse_request({"endpoint": "mlws-ab", "weights": {"variant-a": 1}}, PREFIX)
    assert as_list == as_object
