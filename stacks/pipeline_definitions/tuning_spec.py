"""The shared tuning specification (``training_code/tuning/bank_xgboost_tuning.json``) as SDK
objects: the same file drives SageMaker's tuner here and the local tuner in the rehearsal."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from sagemaker.parameter import CategoricalParameter, ContinuousParameter, IntegerParameter

BANK_TUNING_SPEC = (
    Path(__file__).resolve().parents[2] / "training_code" / "tuning" / "bank_xgboost_tuning.json"
)


@dataclass(frozen=True)
class TuningSpecification:
    """The parts of the CreateHyperParameterTuningJob-shaped spec a TuningStep needs."""

    strategy: str
    objective_type: str
    objective_metric: str
    max_jobs: int
    max_parallel_jobs: int
    early_stopping_type: str
    ranges: dict
    static_hyperparameters: dict[str, str]
    algorithm_version: str
    content_type: str
    seed: int

    @classmethod
    def load(cls, path: Path = BANK_TUNING_SPEC) -> TuningSpecification:
        """Read the spec; ranges become the SDK's parameter-range objects."""
        raw = json.loads(Path(path).read_text(encoding="utf-8"))
        config = raw["HyperParameterTuningJobConfig"]
        job = raw["TrainingJobDefinition"]
        ranges: dict = {}
        for kind, range_class in (
            ("ContinuousParameterRanges", ContinuousParameter),
            ("IntegerParameterRanges", IntegerParameter),
        ):
            for item in config["ParameterRanges"].get(kind, []):
                low, high = float(item["MinValue"]), float(item["MaxValue"])
                if range_class is IntegerParameter:
                    low, high = int(low), int(high)
                ranges[item["Name"]] = range_class(
                    low, high, scaling_type=item.get("ScalingType", "Auto")
                )
        for item in config["ParameterRanges"].get("CategoricalParameterRanges", []):
            ranges[item["Name"]] = CategoricalParameter(item["Values"])
        return cls(
            strategy=config["Strategy"],
            objective_type=config["HyperParameterTuningJobObjective"]["Type"],
            objective_metric=config["HyperParameterTuningJobObjective"]["MetricName"],
            max_jobs=int(config["ResourceLimits"]["MaxNumberOfTrainingJobs"]),
            max_parallel_jobs=int(config["ResourceLimits"]["MaxParallelTrainingJobs"]),
            early_stopping_type=config.get("TrainingJobEarlyStoppingType", "Off"),
            ranges=ranges,
            static_hyperparameters=dict(job["StaticHyperParameters"]),
            algorithm_version=job["Algorithm"]["Version"],
            content_type=job.get("ContentType", "text/csv"),
            seed=int(raw.get("LocalTuner", {}).get("Seed", 0)),
        )
