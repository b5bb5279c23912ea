"""The local runner executing the very definitions that deploy, on small slices of the data:
a full pass of each pipeline, the gate's false branch, a broken step, parameter overrides."""

from __future__ import annotations

import copy
import json

import pytest

from tests.pipelines.conftest import BANK_SAMPLE_URI, BIKE_SAMPLE_URI, QUICK_BANK
from workshopctl.local.pipeline_runner import UnsupportedDefinition, plan, run_pipeline


def statuses(run) -> dict[str, str]:
    return {step.name: step.status for step in run.steps}


def test_bank_full_pass_registers_and_transforms(bank_pass):
    run = bank_pass.run
    assert run.status == "Succeeded", run.failure_reason
    assert statuses(run) == {
        "PrepareData": "Succeeded",
        "TuneXGBoost": "Succeeded",
        "EvaluateBestModel": "Succeeded",
        "CheckAuc": "Succeeded",
        "TunedXGBoost-RegisterModel": "Succeeded",
        "TunedXGBoostForTransform-CreateModel": "Succeeded",
        "TransformTestSet": "Succeeded",
        "AucBelowThreshold": "NotExecuted",
    }
    assert run.step("CheckAuc").outputs["outcome"] is True
    (entry,) = run.registered_models
    stored = json.loads((bank_pass.registry / "mlws-bank-marketing" / "1.json").read_text())
    assert stored == entry
    assert entry["approval_status"] == "Approved"  # the parameter override reached the step
    report = json.loads(bank_pass.path(entry["metrics_uri"]).read_text())
    assert entry["metrics"]["auc"] == report["binary_classification_metrics"]["auc"]["value"]
    assert entry["metrics"]["auc"] >= 0.6
    assert bank_pass.path(entry["model_uri"]).is_file()
    assert (
        bank_pass.path(entry["model_uri"]).parent.parent.name
        == run.step("TuneXGBoost").outputs["best_job"]
    )


def test_tuning_runs_the_definitions_budget_and_ranges(bank_pass):
    tuning = bank_pass.run.step("TuneXGBoost").outputs
    assert tuning["jobs"] == 2 and tuning["failed_jobs"] == 0  # MaxTuningJobs override
    assert set(tuning["tuned_hyperparameters"]) == {"eta", "min_child_weight", "alpha", "max_depth"}
    assert 0.5 < tuning["validation:auc"] <= 1.0


def test_batch_transform_scores_every_test_row(bank_pass):
    run = bank_pass.run
    (output,) = run.step("TransformTestSet").outputs["outputs"]
    prepared = run.step("PrepareData").outputs["test"]
    test_rows = bank_pass.path(prepared).joinpath("test.csv").read_text().splitlines()
    lines = bank_pass.path(output).read_text().splitlines()
    assert len(lines) == len(test_rows) == run.step("TransformTestSet").outputs["records"]
    for line, row in zip(lines, test_rows, strict=True):
        label, probability = line.split(",")  # OutputFilter $[0,-1]: the label, the score
        assert label == row.split(",")[0]
        assert 0.0 <= float(probability) <= 1.0


def test_gate_false_runs_the_fail_step_with_the_auc(run_local):
    local = run_local("bank-marketing", **QUICK_BANK, AucThreshold=0.99)
    run = local.run
    assert run.status == "Failed"
    report = json.loads(
        local.path(run.step("EvaluateBestModel").outputs["evaluation"])
        .joinpath("evaluation.json")
        .read_text()
    )
    auc = report["binary_classification_metrics"]["auc"]["value"]
    assert run.failure_reason == f"AucBelowThreshold: Test AUC {auc} is below the threshold 0.99"
    assert statuses(run)["AucBelowThreshold"] == "Failed"
    for skipped in ("TunedXGBoost-RegisterModel", "TunedXGBoostForTransform-CreateModel",
                    "TransformTestSet"):  # fmt: skip
        assert statuses(run)[skipped] == "NotExecuted"
    assert not local.registry.exists() or not any(local.registry.rglob("*.json"))


def test_a_missing_input_stops_the_run_at_that_step(run_local):
    run = run_local("bank-marketing", InputDataUri="s3://raw/samples/missing.csv").run
    assert run.status == "Failed"
    assert run.step("PrepareData").status == "Failed"
    assert "no object under s3://raw/samples/missing.csv" in run.failure_reason
    assert run.failure_reason.startswith("PrepareData (Processing) failed")
    assert {s.status for s in run.steps[1:]} == {"NotStarted"}


def test_a_failing_program_reports_its_own_error(run_local):
    run = run_local("bank-marketing", InputDataUri=BANK_SAMPLE_URI, FeatureSet="everything").run
    assert run.step("PrepareData").status == "Failed"
    assert "invalid choice: 'everything'" in run.failure_reason


def test_bike_full_pass_with_the_model_type_overridden(run_local):
    local = run_local("bike-sharing", InputDataUri=BIKE_SAMPLE_URI, ModelType="tree",
                      RmsleThreshold=2.0)  # fmt: skip
    run = local.run
    assert run.status == "Succeeded", run.failure_reason
    training = run.step("TrainModel").outputs
    # The definition's metric definitions match what the program prints.
    assert set(training["metrics"]) == {"validation:rmsle", "validation:rmse", "validation:mae"}
    model_info = local.buckets / "work" / "pipeline-jobs" / "mlws-bike-sharing" / "test"
    assert (
        json.loads((model_info / "TrainModel" / "model" / "model.json").read_text())["model"]
        == "tree"
    )
    (entry,) = run.registered_models
    assert entry["model_package_group"] == "mlws-bike-sharing"
    assert 0 < entry["metrics"]["rmsle"] <= 2.0


def test_byom_full_pass_transforms_the_examples(run_local):
    local = run_local("byom", MaxLeafNodes=3)
    run = local.run
    assert run.status == "Succeeded", run.failure_reason
    assert run.step("TrainModel").outputs["metrics"]["train:accuracy"] > 0.9
    (output,) = run.step("TransformExamples").outputs["outputs"]
    pairs = [line.split(",") for line in local.path(output).read_text().splitlines()]
    assert len(pairs) == 150 and all(len(pair) == 2 for pair in pairs)  # species, predicted
    accuracy = sum(truth == predicted for truth, predicted in pairs) / len(pairs)
    assert accuracy > 0.9
    job_root = local.buckets / "work" / "pipeline-jobs" / "mlws-byom" / "test" / "TrainModel"
    hyperparameters = json.loads((job_root / "input/config/hyperparameters.json").read_text())
    assert hyperparameters == {"max_leaf_nodes": "3"}  # the override, as a string


@pytest.mark.parametrize(
    ("overrides", "message"),
    [({"MaxJobs": 2}, "unknown parameter"), ({"MaxTuningJobs": "many"}, r"\(Integer\): 'many'")],
)
def test_unknown_or_mistyped_parameters_are_refused(definitions, tmp_path, overrides, message):
    with pytest.raises(ValueError, match=message):
        run_pipeline(
            definitions["bank-marketing"],
            pipeline_name="p",
            s3_root=tmp_path,
            work_root=tmp_path,
            registry_root=tmp_path,
            parameters=overrides,
        )
    assert not any(tmp_path.iterdir())  # refused before anything ran


def test_an_unsupported_step_type_is_named_before_anything_runs(definitions, tmp_path):
    definition = copy.deepcopy(definitions["bank-marketing"])
    definition["Steps"].insert(0, {"Name": "Notify", "Type": "Lambda", "Arguments": {}})
    with pytest.raises(UnsupportedDefinition, match="'Notify' has type 'Lambda'"):
        run_pipeline(definition, pipeline_name="p", s3_root=tmp_path, work_root=tmp_path,
                     registry_root=tmp_path)  # fmt: skip
    assert not any(tmp_path.iterdir())


def test_steps_run_in_dependency_order_whatever_the_listing(definitions):
    definition = copy.deepcopy(definitions["bank-marketing"])
    definition["Steps"].reverse()
    order = [p.step["Name"] for p in plan(definition)]
    assert (
        order.index("PrepareData")
        < order.index("TuneXGBoost")
        < order.index("EvaluateBestModel")
        < order.index("CheckAuc")
        < order.index("TransformTestSet")
    )
    assert order.index("TunedXGBoostForTransform-CreateModel") < order.index("TransformTestSet")
