"""Batch transform's CSV data processing (filters, join, mini-batches) and the local model
registry, as the runner applies them."""

from __future__ import annotations

import json

import pytest

from workshopctl.local.pipeline_jobs import JobContext, JobFailed, LocalS3
from workshopctl.local.pipeline_models import register_model, select_columns, transform_records

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


def test_registry_versions_count_up_and_carry_the_reports_metrics(tmp_path):
    report = tmp_path / "b" / "eval" / "evaluation.json"
    report.parent.mkdir(parents=True)
    report.write_text(json.dumps({"regression_metrics": {"rmsle": {"value": 0.4}}}))
    ctx = JobContext(LocalS3(tmp_path), tmp_path / "work", "e1", None, log=lambda line: None)
    arguments = {
        "ModelPackageGroupName": "group",
        "ModelApprovalStatus": "Approved",
        "InferenceSpecification": {"Containers": [{"Image": "i", "ModelDataUrl": "s3://b/m"}]},
        "ModelMetrics": {"ModelQuality": {"Statistics": {"S3Uri": "s3://b/eval/evaluation.json"}}},
    }
    registry = tmp_path / "registry"
    first = register_model("Register", arguments, ctx, registry)
    second = register_model("Register", arguments, ctx, registry)
    assert [first[1]["version"], second[1]["version"]] == [1, 2]
    assert second[0]["ModelPackageArn"] == "local:model-package/group/2"
    entry = json.loads((registry / "group" / "2.json").read_text())
    assert entry["metrics"] == {"rmsle": 0.4}
    assert (entry["approval_status"], entry["model_uri"]) == ("Approved", "s3://b/m")
