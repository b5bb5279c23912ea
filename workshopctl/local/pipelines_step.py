"""The pipelines module locally: the three SageMaker pipeline definitions, run by the local
runner, with each step's status, time and outputs, and the models they registered.

:class:`PipelinesStep` runs the definitions synthesized into ``cdk.out`` (the ones `cdk deploy`
creates), read by :mod:`workshopctl.local.pipeline_loader`; nothing here builds a definition.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from workshop_spec.config import load_project_config
from workshopctl.local.ml_steps import stage_raw
from workshopctl.local.pipeline_loader import load_pipelines
from workshopctl.local.pipeline_models import headline_metrics
from workshopctl.local.pipeline_runner import PipelineRun, run_pipeline
from workshopctl.local.synth_step import CDK_OUT
from workshopctl.local.workspace import Log, Metric, StepReport, Workspace

DATASETS = {
    "bank-marketing": "bank-marketing/bank-additional-full.csv",
    "bike-sharing": "bike-sharing/hour.csv",
}
# The headline number each pipeline's gate compares, and the parameter it compares it with.
GATES = {
    "bank-marketing": ("auc", "AucThreshold", ">="),
    "bike-sharing": ("rmsle", "RmsleThreshold", "<="),
}


@dataclass(frozen=True)
class LocalPipeline:
    """A definition to run and what the runner must know about it."""

    key: str  # "bank-marketing", "bike-sharing", "byom"
    name: str
    definition: dict
    byom_image_uri: str | None = None


class PipelinesStep:
    """Run the bank-marketing, bike-sharing and BYOM pipelines through the local runner."""

    name = "pipelines"

    def __init__(
        self,
        parameters: Mapping[str, Mapping[str, Any]] | None = None,
        cdk_out: Path = CDK_OUT,
        prefix: str | None = None,
    ) -> None:
        """``parameters``: overrides per pipeline key, e.g. ``{"bank-marketing":
        {"MaxTuningJobs": 5}}``; ``cdk_out``: where the synth step wrote the templates."""
        self.parameters = dict(parameters or {})
        self.cdk_out = cdk_out
        self.prefix = prefix

    def run(self, workspace: Workspace, log: Log) -> StepReport:
        prefix = self.prefix or load_project_config().prefix
        stack = f"{prefix}-pipelines"
        log(f"pipelines: reading the definitions synthesized into {self.cdk_out}/{stack}")
        for key in DATASETS.values():
            stage_raw(workspace, key)
        pipelines = [
            LocalPipeline(p.key, p.name, p.definition, p.byom_image_uri)
            for p in load_pipelines(self.cdk_out, stack, workspace)
        ]
        runs = []
        for pipeline in pipelines:
            log(f"pipelines: running {pipeline.name}")
            runs.append(
                run_pipeline(
                    pipeline.definition,
                    pipeline_name=pipeline.name,
                    s3_root=workspace.root,
                    work_root=workspace.bucket("work") / "pipeline-jobs",
                    registry_root=registry_folder(workspace),
                    byom_image_uri=pipeline.byom_image_uri,
                    parameters=self.parameters.get(pipeline.key),
                    log=lambda line: log(f"  {line}"),
                )
            )
        report = pipelines_report(pipelines, runs, workspace)
        failures = [f"{run.pipeline}: {run.failure_reason}" for run in runs if run.failure_reason]
        if failures:
            raise RuntimeError("; ".join(failures))
        return report


def registry_folder(workspace: Workspace) -> Path:
    """The local model registry: ``<group>/<version>.json``."""
    return workspace.bucket("work") / "model-registry"


def pipelines_report(
    pipelines: list[LocalPipeline], runs: list[PipelineRun], workspace: Workspace
) -> StepReport:
    """Per pipeline: status and time; per step: status, time, outputs; registered models."""
    report = StepReport(title="SageMaker Pipelines (local runner over the same definitions)")
    for pipeline, run in zip(pipelines, runs, strict=True):
        report.lines.append(
            f"{run.pipeline}: {run.status} in {run.seconds:.1f} s (execution {run.execution_id})"
            + (f": {run.failure_reason}" if run.failure_reason else "")
        )
        report.tables[f"{run.pipeline} steps"] = [
            {"step": s.name, "type": s.type, "status": s.status, "seconds": round(s.seconds, 1),
             "outputs": _summary(s.outputs) or (s.failure_reason or "")}
            for s in run.steps
        ]  # fmt: skip
        if pipeline.key in GATES:
            report.metrics.append(_gate_metric(pipeline.key, run, workspace))
        for step in run.steps:
            if step.type == "Processing" and "evaluation" in step.outputs:
                folder = workspace.root / step.outputs["evaluation"][len("s3://") :]
                report.artifacts += sorted(folder.glob("*.png"))
                report.artifacts.append(folder / "evaluation.json")
            if step.type == "Transform" and step.status == "Succeeded":
                report.artifacts += [workspace.root / o[len("s3://") :]
                                     for o in step.outputs["outputs"]]  # fmt: skip
    registered = [model for run in runs for model in run.registered_models]
    report.tables["registered models"] = [
        {"group": m["model_package_group"], "version": m["version"],
         "approval": m["approval_status"],
         **{k: round(v, 4) for k, v in m["metrics"].items() if k in ("auc", "f1", "rmsle", "r2")},
         "model": m["model_uri"]}
        for m in registered
    ]  # fmt: skip
    report.artifacts += [
        registry_folder(workspace) / m["model_package_group"] / f"{m['version']}.json"
        for m in registered
    ]
    return report


def _gate_metric(key: str, run: PipelineRun, workspace: Workspace) -> Metric:
    """The evaluated metric against the threshold the run's gate used."""
    metric, parameter, sense = GATES[key]
    threshold = float(run.parameters[parameter])
    value = float("nan")
    for step in run.steps:
        if (
            step.type == "Processing"
            and step.status == "Succeeded"
            and "evaluation" in step.outputs
        ):
            report = workspace.root / step.outputs["evaluation"][len("s3://") :] / "evaluation.json"
            value = float(headline_metrics(report).get(metric, value))
    met = value >= threshold if sense == ">=" else value <= threshold  # False for NaN
    return Metric(
        f"{run.pipeline}: test {metric.upper()} (gate)", value, f"{sense} {threshold:g}", met
    )


def _summary(outputs: dict) -> str:
    """A short, readable line of a step's outputs."""
    shown = {k: v for k, v in outputs.items() if k not in ("metrics_uri", "image", "arn")}
    text = json.dumps(shown, default=str)
    return text if len(text) <= 160 else text[:157] + "…"
