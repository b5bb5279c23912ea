"""The tuning spec, the local tuner and the analysis page."""

from __future__ import annotations

import json

import pandas as pd

from training_code.tuning.analysis import analyse
from training_code.tuning.spec import DEFAULT_SPEC, TuningSpec

from .conftest import run_job


def test_spec_holds_the_workshop_tuning_job():
    spec = TuningSpec.load(DEFAULT_SPEC)
    assert (spec.objective_metric, spec.objective_type) == ("validation:auc", "Maximize")
    assert (spec.max_jobs, spec.max_parallel_jobs) == (20, 3)
    ranges = {r.name: (r.kind, r.low, r.high) for r in spec.ranges}
    assert ranges == {
        "eta": ("Continuous", 0, 1),
        "min_child_weight": ("Continuous", 1, 10),
        "alpha": ("Continuous", 0, 2),
        "max_depth": ("Integer", 1, 10),
    }
    raw = json.loads(DEFAULT_SPEC.read_text())
    assert raw["HyperParameterTuningJobConfig"]["Strategy"] == "Bayesian"
    assert all(isinstance(v, str) for v in spec.static_hyperparameters.values())


def test_local_tuner_runs_the_budget_within_the_ranges(tmp_path, bank_prepared):
    spec = TuningSpec.load(DEFAULT_SPEC)
    out = tmp_path / "tuning"
    result = run_job("training_code.tuning.local_tuner", "--train", bank_prepared / "train",
                     "--validation", bank_prepared / "validation", "--output", out,
                     "--max-jobs", 4)  # fmt: skip
    assert result.returncode == 0, result.stderr
    results = pd.read_csv(out / "tuning_results.csv")
    assert len(results) == 4
    assert (results["TrainingJobStatus"] == "Completed").all()
    for r in spec.ranges:
        assert results[r.name].between(r.low, r.high).all(), r.name
    assert (results["max_depth"] == results["max_depth"].round()).all()
    best = json.loads((out / "best.json").read_text())
    assert best["best_objective_value"] == results["FinalObjectiveValue"].max()
    assert (out / "best" / "model.tar.gz").exists()
    # Each trial went through the contract: string hyperparameters in its own /opt/ml tree.
    hps = json.loads((out / "jobs" / "local-tuning-001" / "input/config/hyperparameters.json")
                     .read_text())  # fmt: skip
    assert all(isinstance(v, str) for v in hps.values())


def test_analysis_reads_a_sagemaker_analytics_dataframe(tmp_path):
    frame = pd.DataFrame(
        {
            "alpha": [0.5, 1.5, 1.0], "eta": [0.1, 0.3, 0.2], "max_depth": [3.0, 6.0, 5.0],
            "min_child_weight": [2.0, 8.0, 5.0],
            "TrainingJobName": ["job-001", "job-002", "job-003"],
            "TrainingJobStatus": ["Completed", "Completed", "Failed"],
            "FinalObjectiveValue": [0.77, 0.79, None],
            "TrainingStartTime": pd.to_datetime(
                ["2020-06-01 10:00", "2020-06-01 10:05", "2020-06-01 10:10"]).tz_localize("UTC"),
            "TrainingEndTime": pd.to_datetime(
                ["2020-06-01 10:03", "2020-06-01 10:08", "2020-06-01 10:12"]).tz_localize("UTC"),
            "TrainingElapsedTimeSeconds": [180.0, 180.0, 120.0],
        }
    )  # fmt: skip
    files = analyse(frame, tmp_path, maximize=True, name="validation:auc")
    trials = pd.read_csv(files["table"])
    assert trials["TrainingJobName"].tolist() == ["job-002", "job-001", "job-003"]
    for name in ("alpha", "eta", "max_depth", "min_child_weight"):
        assert (tmp_path / f"objective_vs_{name}.png").exists()
    page = files["html"].read_text()
    assert "data:image/png;base64," in page and "job-002" in page
    assert 'src="http' not in page  # self-contained
