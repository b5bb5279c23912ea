"""The tuning specification file, read once for both the SageMaker tuner and the local one."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

DEFAULT_SPEC = Path(__file__).with_name("bank_xgboost_tuning.json")


@dataclass(frozen=True)
class Range:
    """One hyperparameter range: ``kind`` is "Continuous", "Integer" or "Categorical"."""

    name: str
    kind: str
    low: float | None = None
    high: float | None = None
    values: tuple[str, ...] = ()
    scaling: str = "Auto"


@dataclass(frozen=True)
class TuningSpec:
    """The parts of the spec a tuner needs, typed."""

    objective_metric: str
    objective_type: str  # "Maximize" | "Minimize"
    max_jobs: int
    max_parallel_jobs: int
    ranges: tuple[Range, ...]
    static_hyperparameters: dict[str, str]
    seed: int
    objective_regex: str
    raw: dict

    @classmethod
    def load(cls, path: Path = DEFAULT_SPEC) -> TuningSpec:
        """Parse the JSON file (API shape; numbers as strings)."""
        raw = json.loads(Path(path).read_text(encoding="utf-8"))
        config = raw["HyperParameterTuningJobConfig"]
        ranges: list[Range] = []
        for kind in ("Continuous", "Integer"):
            for r in config["ParameterRanges"].get(f"{kind}ParameterRanges", []):
                ranges.append(Range(r["Name"], kind, float(r["MinValue"]), float(r["MaxValue"]),
                                    scaling=r.get("ScalingType", "Auto")))  # fmt: skip
        for r in config["ParameterRanges"].get("CategoricalParameterRanges", []):
            ranges.append(Range(r["Name"], "Categorical", values=tuple(r["Values"])))
        local = raw.get("LocalTuner", {})
        return cls(
            objective_metric=config["HyperParameterTuningJobObjective"]["MetricName"],
            objective_type=config["HyperParameterTuningJobObjective"]["Type"],
            max_jobs=int(config["ResourceLimits"]["MaxNumberOfTrainingJobs"]),
            max_parallel_jobs=int(config["ResourceLimits"]["MaxParallelTrainingJobs"]),
            ranges=tuple(ranges),
            static_hyperparameters=dict(raw["TrainingJobDefinition"]["StaticHyperParameters"]),
            seed=int(local.get("Seed", 0)),
            objective_regex=local["ObjectiveRegex"],
            raw=raw,
        )
