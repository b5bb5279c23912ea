"""Batch transform's CSV data processing (filters, join, mini-batches), as the emulator's
transform jobs apply it."""

from __future__ import annotations

import pytest

from workshopctl.local.pipeline_jobs import JobFailed
from workshopctl.local.pipeline_models import select_columns, transform_records

ROW = ["label", "f1", "f2", "f3"]


@pytest.mark.parametrize(
    ("expression", "expected"),
    [(None, ROW), ("$", ROW), ("$[1:]", ["f1", "f2", "f3"]), ("$[:2]", ["label", "f1"]),
     ("$[0,-1]", ["label", "f3"]), ("$[2]", ["f2"])],
)  # fmt: skip
def test_filters_pick_columns_like_sagemakers_jsonpath_subset(expression, expected):
    assert select_columns(ROW, expression) == expected


def test_unsupported_or_misfit_filters_are_errors():
    with pytest.raises(JobFailed, match="only"):
        select_columns(ROW, "$.features")
    with pytest.raises(JobFailed, match="does not fit"):
        select_columns(ROW, "$[0,9]")


def test_records_are_filtered_predicted_in_batches_joined_and_filtered():
    batches = []

    def predict(records: list[str]) -> list[str]:
        batches.append(records)
        return [str(sum(float(v) for v in r.split(","))) for r in records]

    records = ["1,2,3", "0,4,5", "", "1,6,7"]
    processing = {"InputFilter": "$[1:]", "JoinSource": "Input", "OutputFilter": "$[0,-1]"}
    assert transform_records(records, predict, processing, max_payload=8) == [
        "1,5.0", "0,9.0", "1,13.0"
    ]  # fmt: skip
    assert batches == [["2,3", "4,5"], ["6,7"]]  # no batch over 8 bytes
