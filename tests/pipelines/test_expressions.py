"""The definition's expression language, evaluated locally: Get, Std:Join, Std:JsonGet and
conditions, and the step references the runner orders steps by."""

from __future__ import annotations

import json

import pytest

from workshopctl.emulator.pipeline_expressions import (
    ExpressionError,
    Scope,
    parse_path,
    step_references,
)

OUTPUTS = "Steps.Prep.ProcessingOutputConfig.Outputs['train'].S3Output.S3Uri"


@pytest.fixture
def scope(tmp_path) -> Scope:
    report = tmp_path / "evaluation.json"
    report.write_text(json.dumps({"metrics": {"auc": {"value": 0.81}, "curve": [0.1, 0.7]}}))
    scope = Scope(
        parameters={"Threshold": 0.8, "Kind": "gbm", "Jobs": 3},
        execution={"PipelineExecutionId": "exec-1"},
    )
    scope.steps["Prep"] = {
        "ProcessingOutputConfig": {
            "Outputs": [
                {"OutputName": "test", "S3Output": {"S3Uri": "s3://b/test"}},
                {"OutputName": "train", "S3Output": {"S3Uri": "s3://b/train"}},
            ]
        }
    }
    scope.property_files["Eval"] = {"Report": report}
    return scope


def json_get(path: str) -> dict:
    return {"Std:JsonGet": {"PropertyFile": {"Get": "Steps.Eval.PropertyFiles.Report"},
                            "Path": path}}  # fmt: skip


def test_paths_parse_names_quoted_keys_and_indexes():
    assert parse_path(OUTPUTS) == [
        "Steps", "Prep", "ProcessingOutputConfig", "Outputs", "train", "S3Output", "S3Uri"
    ]  # fmt: skip
    assert parse_path('Steps.A-B.TrainingJobSummaries[0]["Name"]') == [
        "Steps", "A-B", "TrainingJobSummaries", 0, "Name"
    ]  # fmt: skip
    with pytest.raises(ExpressionError):
        parse_path("Steps..x")


def test_get_reads_parameters_execution_and_step_properties(scope):
    assert scope.value({"Get": "Parameters.Kind"}) == "gbm"
    assert scope.value({"Get": "Execution.PipelineExecutionId"}) == "exec-1"
    assert scope.value({"Get": OUTPUTS}) == "s3://b/train"  # a list item found by its name
    with pytest.raises(ExpressionError, match="no such parameter"):
        scope.value({"Get": "Parameters.Nope"})
    with pytest.raises(ExpressionError, match="has not run"):
        scope.value({"Get": "Steps.Later.ModelName"})


def test_join_renders_every_kind_of_value(scope):
    join = {"Std:Join": {"On": "/", "Values": [
        "s3://b", {"Get": "Execution.PipelineExecutionId"}, {"Get": "Parameters.Jobs"},
        json_get("metrics.auc.value"), True,
    ]}}  # fmt: skip
    assert scope.value(join) == "s3://b/exec-1/3/0.81/true"


def test_json_get_follows_dots_and_indexes(scope):
    assert scope.value(json_get("metrics.curve[1]")) == 0.7
    with pytest.raises(ExpressionError, match="not found"):
        scope.value(json_get("metrics.precision.value"))


def test_plain_values_and_containers_evaluate_inside(scope):
    arguments = {"A": [{"Get": "Parameters.Jobs"}, 1], "B": {"C": {"Get": "Parameters.Kind"}}}
    assert scope.value(arguments) == {"A": [3, 1], "B": {"C": "gbm"}}


@pytest.mark.parametrize(
    ("condition", "expected"),
    [
        ({"Type": "GreaterThanOrEqualTo", "LeftValue": json_get("metrics.auc.value"),
          "RightValue": {"Get": "Parameters.Threshold"}}, True),
        ({"Type": "LessThan", "LeftValue": 0.81, "RightValue": 0.8}, False),
        ({"Type": "Equals", "LeftValue": 3, "RightValue": 3.0}, True),
        ({"Type": "Not", "Expression": {"Type": "Equals", "LeftValue": 1, "RightValue": 2}},
         True),
        ({"Type": "Or", "Conditions": [
            {"Type": "GreaterThan", "LeftValue": 1, "RightValue": 2},
            {"Type": "LessThanOrEqualTo", "LeftValue": 1, "RightValue": 1}]}, True),
        ({"Type": "In", "QueryValue": {"Get": "Parameters.Kind"},
          "Values": ["tree", "gbm"]}, True),
    ],
)  # fmt: skip
def test_conditions(scope, condition, expected):
    assert scope.condition(condition) is expected


def test_an_unknown_condition_or_incomparable_values_are_errors(scope):
    with pytest.raises(ExpressionError, match="not supported"):
        scope.condition({"Type": "Approximately", "LeftValue": 1, "RightValue": 1})
    with pytest.raises(ExpressionError, match="cannot compare"):
        scope.condition({"Type": "GreaterThan", "LeftValue": "a", "RightValue": 1})


def test_step_references_find_every_step_read():
    arguments = {
        "Inputs": [{"S3Uri": {"Get": OUTPUTS}}],
        "Message": {"Std:Join": {"Values": [json_get("a"), {"Get": "Parameters.X"}]}},
        "Model": {"Get": "Steps.Tune-Model.BestTrainingJob.TrainingJobName"},
    }
    assert step_references(arguments) == {"Prep", "Eval", "Tune-Model"}
