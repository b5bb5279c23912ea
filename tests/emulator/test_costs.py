"""The rehearsal's bill applies the price pages' rules to what each call used."""

from __future__ import annotations

import json

import pytest

from lambdas.janitor.prices import PRICES_FILE
from workshopctl.emulator.costs import bill, usage_cost
from workshopctl.labs_parameters import shared_parameter

PRICES = json.loads(PRICES_FILE.read_text())


def test_an_athena_query_is_billed_at_least_ten_megabytes():
    tb = PRICES["usage_usd"]["athena-tb-scanned"]
    assert usage_cost({"athena_bytes_scanned": 1})[0] == pytest.approx(10 / 1024**2 * tb)
    one_gb = 1024**3
    assert usage_cost({"athena_bytes_scanned": one_gb})[0] == pytest.approx(tb / 1024)


def test_glue_bills_a_minute_at_least_and_comprehend_per_unit():
    dpu_hour = PRICES["usage_usd"]["glue-dpu-hour"]
    assert usage_cost({"glue_dpu_seconds": 2})[0] == pytest.approx(dpu_hour / 60)
    assert usage_cost({"comprehend_units": 30})[0] == pytest.approx(30 * 0.0001)


def test_an_instance_type_without_a_price_is_unknown_not_free():
    usd, unknown = usage_cost({"instance_seconds": [{"type": "ml.x9.huge", "seconds": 60}]})
    assert (usd, unknown) == (0.0, 1)
    priced = bill([{"instance_seconds": [{"type": "ml.m5.xlarge", "seconds": 3600}]}])
    assert priced.usd == pytest.approx(PRICES["hourly_usd"]["ml.m5.xlarge"])
    assert str(bill([{"instance_seconds": [{"type": "ml.x9.huge", "seconds": 1}]}])).endswith(
        "(+1 unpriced)"
    )


def test_the_rehearsal_records_what_athena_read(emulated, assembly):
    from tests.emulator.conftest import attendee_role_arn

    athena = emulated.client("athena", "test bill", attendee_role_arn(assembly))
    name = shared_parameter(assembly).name
    names = json.loads(emulated.client("ssm").get_parameter(Name=name)["Parameter"]["Value"])
    athena.start_query_execution(
        QueryString="SELECT COUNT(*) FROM bank_marketing",
        WorkGroup=names["athena_workgroup"],
        QueryExecutionContext={"Database": names["glue_database"]},
    )
    [started] = [c for c in emulated.log.calls("test bill") if c.operation == "StartQueryExecution"]
    assert started.usage["athena_bytes_scanned"] > 0
    assert bill([started.usage]).usd > 0
