"""The pipeline definitions: valid against the published schema, deterministic, built without
the network, and wired as the workshop needs (tune after prepare, the gate reads the
evaluation report, register and transform only when the gate passes)."""

from __future__ import annotations

import copy
import json
import re
import socket

import pytest

from tests.pipelines.conftest import REPO, TARBALL_URI, build_definitions
from tests.pipelines.pipeline_schema import schema_errors
from workshopctl.emulator.pipeline_expressions import step_references

KEYS = ["bank-marketing", "bike-sharing", "byom"]
SPEC = json.loads((REPO / "training_code/tuning/bank_xgboost_tuning.json").read_text())


def all_steps(definition: dict) -> dict[str, dict]:
    """Every step by name, condition branches included."""
    found = {}
    for step in definition["Steps"]:
        found[step["Name"]] = step
        for branch in ("IfSteps", "ElseSteps"):
            for inner in step["Arguments"].get(branch, []):
                found[inner["Name"]] = inner
    return found


@pytest.fixture(scope="module")
def bank(definitions) -> dict[str, dict]:
    return all_steps(definitions["bank-marketing"])


@pytest.mark.parametrize("key", KEYS)
def test_definition_validates_against_the_published_schema(definitions, key):
    assert schema_errors(definitions[key]) == []


def test_the_schema_still_rejects_malformed_definitions(definitions):
    broken = copy.deepcopy(definitions["bank-marketing"])
    broken["Steps"][0]["Arguments"]["ProcessingInputs"][0]["S3Input"]["S3Url"] = "s3://a/b"
    del broken["Steps"][1]["Arguments"]["HyperParameterTuningJobConfig"]["Strategy"]
    broken["Steps"][3]["Arguments"]["Conditions"][0]["Type"] = "Approximately"
    errors = "\n".join(schema_errors(broken))
    assert "'S3Url' was unexpected" in errors
    assert "'Strategy' is a required property" in errors
    assert "'Approximately' is not one of" in errors


def test_two_builds_are_identical_as_parsed_json(definitions):
    assert build_definitions() == definitions


def test_no_volatile_value_survives(definitions):
    text = json.dumps(definitions)
    assert "sagemaker_job_name" not in text
    assert not re.search(r"\d{4}-\d{2}-\d{2}-\d{2}-\d{2}-\d{2}", text), "an SDK timestamp"


def test_nothing_depends_on_the_sessions_placeholder_bucket(definitions):
    from stacks.pipeline_definitions.offline_session import PLACEHOLDER_BUCKET

    assert PLACEHOLDER_BUCKET not in json.dumps(definitions)  # every URI came from the inputs


def test_strip_volatile_removes_the_job_name_the_tuner_injects():
    from stacks.pipeline_definitions import strip_volatile

    static = {"eta": "0.2", "sagemaker_job_name": '"sagemaker-xgboost-2026-01-02-03-04-05-678"'}
    definition = {"Steps": [{"Arguments": {"StaticHyperParameters": static, "Other": static}}]}
    cleaned = strip_volatile(definition)
    assert cleaned["Steps"][0]["Arguments"]["StaticHyperParameters"] == {"eta": "0.2"}
    assert cleaned["Steps"][0]["Arguments"]["Other"] == static  # only hyperparameters
    assert "sagemaker_job_name" in static  # the input is left alone


def test_substitute_puts_values_where_the_placeholders_were(definitions):
    from stacks.pipeline_definitions import ROLE_ARN_PLACEHOLDER, substitute

    definition = definitions["bank-marketing"]
    tokens = {ROLE_ARN_PLACEHOLDER: "${Token[Role.Arn]}", "s3://curated/": "s3://${Token[B]}/"}
    replaced = json.dumps(substitute(definition, tokens))
    assert ROLE_ARN_PLACEHOLDER not in replaced and "s3://curated/" not in replaced
    assert replaced.count("${Token[Role.Arn]}") == json.dumps(definition).count(
        ROLE_ARN_PLACEHOLDER
    )
    assert substitute(definition, {}) == definition


def test_definitions_build_without_any_network_access(monkeypatch):
    attempts = []

    def refuse(*args, **kwargs):
        attempts.append(args)
        raise OSError("network is off in this test")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "getaddrinfo", refuse)
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:9")
    assert sorted(build_definitions()) == KEYS
    assert attempts == []  # the SDK swallows some failures (telemetry): count, don't rely on it


def test_tuning_trains_on_the_prepared_splits(bank):
    tune = bank["TuneXGBoost"]
    assert step_references(tune["Arguments"]) == {"PrepareData"}
    channels = {
        c["ChannelName"]: c["DataSource"]["S3DataSource"]["S3Uri"]["Get"]
        for c in tune["Arguments"]["TrainingJobDefinition"]["InputDataConfig"]
    }
    assert channels == {
        split: f"Steps.PrepareData.ProcessingOutputConfig.Outputs['{split}'].S3Output.S3Uri"
        for split in ("train", "validation")
    }


def test_tuning_follows_the_shared_specification(bank):
    arguments = bank["TuneXGBoost"]["Arguments"]
    config, spec = arguments["HyperParameterTuningJobConfig"], SPEC["HyperParameterTuningJobConfig"]
    assert config["Strategy"] == spec["Strategy"] == "Bayesian"
    assert config["HyperParameterTuningJobObjective"] == spec["HyperParameterTuningJobObjective"]

    def ranges(parameter_ranges: dict) -> dict:
        return {
            (kind, r["Name"]): (float(r["MinValue"]), float(r["MaxValue"]), r["ScalingType"])
            for kind, items in parameter_ranges.items()
            for r in items
        }

    assert ranges(config["ParameterRanges"]) == ranges(spec["ParameterRanges"])
    job = arguments["TrainingJobDefinition"]
    assert job["StaticHyperParameters"] == SPEC["TrainingJobDefinition"]["StaticHyperParameters"]
    version = SPEC["TrainingJobDefinition"]["Algorithm"]["Version"]
    assert job["AlgorithmSpecification"]["TrainingImage"].endswith(f"/sagemaker-xgboost:{version}")
    assert config["ResourceLimits"] == {
        "MaxNumberOfTrainingJobs": {"Get": "Parameters.MaxTuningJobs"},
        "MaxParallelTrainingJobs": {"Get": "Parameters.MaxParallelTuningJobs"},
    }


def test_bank_parameters_default_to_the_workshop_setup(definitions, bank):
    from training_code.bank.features import FEATURE_SETS

    defaults = {p["Name"]: p["DefaultValue"] for p in definitions["bank-marketing"]["Parameters"]}
    limits = SPEC["HyperParameterTuningJobConfig"]["ResourceLimits"]
    assert defaults["MaxTuningJobs"] == limits["MaxNumberOfTrainingJobs"]
    assert defaults["MaxParallelTuningJobs"] == limits["MaxParallelTrainingJobs"]
    assert defaults["TrainingInstanceCount"] == 2  # the workshop trained on two instances
    assert defaults["FeatureSet"] in FEATURE_SETS
    resources = bank["TuneXGBoost"]["Arguments"]["TrainingJobDefinition"][
        "HyperParameterTuningResourceConfig"
    ]
    assert resources["InstanceCount"] == {"Get": "Parameters.TrainingInstanceCount"}


def test_the_gate_reads_the_evaluation_report(bank):
    evaluate = bank["EvaluateBestModel"]
    assert evaluate["PropertyFiles"] == [
        {"PropertyFileName": "EvaluationReport", "OutputName": "evaluation",
         "FilePath": "evaluation.json"}
    ]  # fmt: skip
    assert step_references(evaluate["Arguments"]) == {"PrepareData", "TuneXGBoost"}
    (condition,) = bank["CheckAuc"]["Arguments"]["Conditions"]
    assert condition["Type"] == "GreaterThanOrEqualTo"
    assert condition["LeftValue"] == {
        "Std:JsonGet": {
            "PropertyFile": {"Get": "Steps.EvaluateBestModel.PropertyFiles.EvaluationReport"},
            "Path": "binary_classification_metrics.auc.value",
        }
    }
    assert condition["RightValue"] == {"Get": "Parameters.AucThreshold"}


def test_register_and_transform_only_when_the_gate_passes(definitions):
    top = {step["Type"] for step in definitions["bank-marketing"]["Steps"]}
    assert top == {"Processing", "Tuning", "Condition"}
    gate = definitions["bank-marketing"]["Steps"][-1]["Arguments"]
    assert [s["Type"] for s in gate["IfSteps"]] == ["RegisterModel", "Model", "Transform"]
    assert [s["Type"] for s in gate["ElseSteps"]] == ["Fail"]
    message = json.dumps(gate["ElseSteps"][0]["Arguments"]["ErrorMessage"])
    assert "binary_classification_metrics.auc.value" in message
    assert "Parameters.AucThreshold" in message


def test_the_registered_model_carries_its_evaluation_report(definitions):
    for key, evaluate_name in (("bank-marketing", "EvaluateBestModel"),
                               ("bike-sharing", "EvaluateModel")):  # fmt: skip
        steps = all_steps(definitions[key])
        (output,) = steps[evaluate_name]["Arguments"]["ProcessingOutputConfig"]["Outputs"]
        report_prefix = output["S3Output"]["S3Uri"]["Std:Join"]["Values"]
        register = next(s for s in steps.values() if s["Type"] == "RegisterModel")
        statistics = register["Arguments"]["ModelMetrics"]["ModelQuality"]["Statistics"]
        assert statistics["S3Uri"]["Std:Join"]["Values"] == [*report_prefix, "evaluation.json"]
        assert statistics["ContentType"] == "application/json"
        assert register["Arguments"]["ModelApprovalStatus"] == {
            "Get": "Parameters.ModelApprovalStatus"
        }


def test_evaluation_reports_land_beside_the_models(definitions):
    bank_steps, bike_steps = (all_steps(definitions[k]) for k in ("bank-marketing", "bike-sharing"))
    model_prefixes = [
        bank_steps["TuneXGBoost"]["Arguments"]["TrainingJobDefinition"]["OutputDataConfig"],
        bike_steps["TrainModel"]["Arguments"]["OutputDataConfig"],
    ]
    report_prefixes = [
        steps[name]["Arguments"]["ProcessingOutputConfig"]["Outputs"][0]["S3Output"]["S3Uri"]
        for steps, name in ((bank_steps, "EvaluateBestModel"), (bike_steps, "EvaluateModel"))
    ]
    for model, report in zip(model_prefixes, report_prefixes, strict=True):
        models = model["S3OutputPath"]["Std:Join"]["Values"]
        assert report["Std:Join"]["Values"][: len(models)] == models  # <execution>/models/...


def test_code_comes_from_the_source_tarball_and_names_real_programs(definitions):
    for key in ("bank-marketing", "bike-sharing"):
        for step in all_steps(definitions[key]).values():
            if step["Type"] == "Processing":
                code = step["Arguments"]["ProcessingInputs"][0]
                assert (code["InputName"], code["S3Input"]["S3Uri"]) == ("code", TARBALL_URI)
                module = step["Arguments"]["AppSpecification"]["ContainerEntrypoint"][-1]
                assert (REPO / (module.replace(".", "/") + ".py")).is_file(), module
            if step["Type"] == "Training":
                hyperparameters = step["Arguments"]["HyperParameters"]
                assert json.loads(hyperparameters["sagemaker_submit_directory"]) == TARBALL_URI
                assert (REPO / json.loads(hyperparameters["sagemaker_program"])).is_file()


def test_every_training_job_declares_metric_definitions(definitions):
    for key in ("bike-sharing", "byom"):
        training = [s for s in all_steps(definitions[key]).values() if s["Type"] == "Training"]
        assert training
        for step in training:
            metrics = step["Arguments"]["AlgorithmSpecification"]["MetricDefinitions"]
            assert metrics and all(re.compile(m["Regex"]).groups == 1 for m in metrics)
    # The built-in XGBoost publishes its own metrics; SageMaker refuses definitions for it.
    tune = definitions["bank-marketing"]["Steps"][1]["Arguments"]["TrainingJobDefinition"]
    assert "MetricDefinitions" not in tune["AlgorithmSpecification"]


def test_byom_pipeline_uses_the_workshop_image_throughout(definitions):
    from stacks.pipeline_definitions import BYOM_IMAGE_PLACEHOLDER

    steps = all_steps(definitions["byom"])
    assert [s["Type"] for s in steps.values()] == ["Processing", "Training", "Model", "Transform"]
    images = {
        steps["MakeExampleData"]["Arguments"]["AppSpecification"]["ImageUri"],
        steps["TrainModel"]["Arguments"]["AlgorithmSpecification"]["TrainingImage"],
        steps["IrisTree-CreateModel"]["Arguments"]["PrimaryContainer"]["Image"],
    }
    assert images == {BYOM_IMAGE_PLACEHOLDER}
    transform = steps["TransformExamples"]["Arguments"]
    assert transform["ModelName"] == {"Get": "Steps.IrisTree-CreateModel.ModelName"}
    assert transform["DataProcessing"] == {
        "InputFilter": "$[1:]", "JoinSource": "Input", "OutputFilter": "$[0,-1]"
    }  # fmt: skip


def test_inputs_are_checked_before_the_sdk_runs():
    from stacks.pipeline_definitions import PipelineInputs, bank_marketing_definition

    with pytest.raises(ValueError, match="s3:// URI"):
        PipelineInputs("p", "us-east-1", output_uri="s3://b/o", data_uri="data/local.csv")
    with pytest.raises(ValueError, match="longer than 82"):
        PipelineInputs("p" * 83, "us-east-1", output_uri="s3://b/o")
    with pytest.raises(ValueError, match="set data_uri, source_tarball_uri"):
        bank_marketing_definition(PipelineInputs("p", "us-east-1", output_uri="s3://b/o"))
