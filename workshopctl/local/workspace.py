"""The local target's state and the contract every local step follows.

The workspace is one git-ignored folder laid out like the deployed buckets, so the same
relative keys (``bike-sharing/hour.csv``) work in S3 and here:

    .local/raw/        the raw bucket       (vendored datasets)
    .local/curated/    the curated bucket   (prepared features, models, reports)
    .local/results/    the Athena results bucket
    .local/work/       scratch for SageMaker-contract roots (/opt/ml/...)
"""

from __future__ import annotations

import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

BUCKETS = ("raw", "curated", "results", "work")


@dataclass(frozen=True)
class Workspace:
    root: Path

    def bucket(self, name: str) -> Path:
        """The local folder standing in for one of the workshop's buckets."""
        if name not in BUCKETS:
            raise ValueError(f"unknown bucket {name!r}; use one of {', '.join(BUCKETS)}")
        path = self.root / name
        path.mkdir(parents=True, exist_ok=True)
        return path

    def remove(self) -> None:
        if self.root.exists():
            shutil.rmtree(self.root)


@dataclass
class Metric:
    """A number a step measured, with the target it is held to (if any)."""

    name: str
    value: float | str  # a measurement, or an outcome such as "promoted"
    target: str = ""  # e.g. "<= 0.40"; empty when the metric is informative only
    met: bool | None = None  # None when there is no target


@dataclass
class StepReport:
    """What one step tells the organiser: a few lines, metrics, and files worth opening."""

    title: str
    lines: list[str] = field(default_factory=list)
    metrics: list[Metric] = field(default_factory=list)
    artifacts: list[Path] = field(default_factory=list)  # plots (PNG), reports (JSON/HTML)
    tables: dict[str, list[dict]] = field(default_factory=dict)  # name -> rows
    seconds: float = 0.0


Log = Callable[[str], None]


class Step(Protocol):
    """One module of the workshop, run locally. ``run`` raises on failure."""

    name: str

    def run(self, workspace: Workspace, log: Log) -> StepReport: ...


def timed(step: Step, workspace: Workspace, log: Log) -> StepReport:
    started = time.perf_counter()
    report = step.run(workspace, log)
    report.seconds = time.perf_counter() - started
    return report
