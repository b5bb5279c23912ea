"""Runs a SageMaker pipeline definition (the JSON that deploys) on this machine.

    run = run_pipeline(definition, pipeline_name="mlws-bank-marketing",
                       s3_root=workspace.root, work_root=..., registry_root=...,
                       byom_image_uri=..., parameters={"MaxTuningJobs": 3})

The steps run one at a time in dependency order (``DependsOn`` and every ``Get:
Steps.X...`` they read); a condition step decides which of its branches run; a fail step
ends the run with its message. Parameters take their defaults unless overridden.
``s3://<bucket>/<key>`` is ``<s3_root>/<bucket>/<key>``. Jobs run as local processes (see
:mod:`workshopctl.local.pipeline_jobs`), models locally (:mod:`workshopctl.local.
pipeline_models`). A step type the runner cannot execute is an error naming it, raised before
anything runs; a step that fails stops the run with that step's error. No Docker, no network.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from workshopctl.emulator.pipeline_expressions import ExpressionError, Scope, step_references
from workshopctl.local.pipeline_jobs import (
    JobContext,
    JobFailed,
    LocalS3,
    run_processing,
    run_training,
    run_tuning,
)
from workshopctl.local.pipeline_models import create_model, register_model, transform

Log = Callable[[str], None]
JOB_STEPS = {
    "Processing": run_processing,
    "Training": run_training,
    "Tuning": run_tuning,
    "Model": create_model,
    "Transform": transform,
}
SUPPORTED_TYPES = (*JOB_STEPS, "RegisterModel", "Condition", "Fail")
PARAMETER_TYPES: dict[str, Callable[[Any], Any]] = {
    "String": str,
    "Integer": int,
    "Float": float,
    "Boolean": lambda v: v if isinstance(v, bool) else str(v).strip().lower() == "true",
}


class UnsupportedDefinition(ValueError):
    """The definition uses something the local runner cannot execute (named in the message)."""


@dataclass
class StepRun:
    """One step of a run: ``Succeeded``, ``Failed``, ``NotExecuted`` (its branch was not
    taken) or ``NotStarted`` (the run stopped first)."""

    name: str
    type: str
    status: str = "NotStarted"
    seconds: float = 0.0
    outputs: dict[str, Any] = field(default_factory=dict)
    failure_reason: str | None = None


@dataclass
class PipelineRun:
    """What a run did: overall status, each step, the failure reason, registered models."""

    pipeline: str
    execution_id: str
    parameters: dict[str, Any]
    status: str = "Executing"
    steps: list[StepRun] = field(default_factory=list)
    failure_reason: str | None = None
    seconds: float = 0.0

    def step(self, name: str) -> StepRun:
        return next(step for step in self.steps if step.name == name)

    @property
    def registered_models(self) -> list[dict]:
        return [
            s.outputs for s in self.steps if s.type == "RegisterModel" and s.status == "Succeeded"
        ]


@dataclass(frozen=True)
class _Planned:
    step: dict
    depends_on: frozenset[str]
    condition: str | None = None  # the condition step whose branch this step is in
    branch: bool | None = None  # True: IfSteps, False: ElseSteps


def plan(definition: Mapping) -> list[_Planned]:
    """Every step (branches included) in an order that respects its dependencies.

    Ties keep the definition's order, so the same definition always runs the same way.
    """
    flat: list[_Planned] = []

    def visit(steps: list[dict], condition: str | None, branch: bool | None) -> None:
        for step in steps:
            kind = step.get("Type")
            if kind not in SUPPORTED_TYPES:
                raise UnsupportedDefinition(
                    f"step {step.get('Name')!r} has type {kind!r}, which the local runner "
                    f"cannot execute (it runs {', '.join(SUPPORTED_TYPES)})"
                )
            arguments = step.get("Arguments", {})
            read = arguments.get("Conditions", []) if kind == "Condition" else arguments
            depends = set(step.get("DependsOn", [])) | step_references(read)
            if condition:
                depends.add(condition)
            flat.append(_Planned(step, frozenset(depends), condition, branch))
            if kind == "Condition":
                visit(arguments.get("IfSteps", []), step["Name"], True)
                visit(arguments.get("ElseSteps", []), step["Name"], False)

    visit(list(definition.get("Steps", [])), None, None)
    names = [p.step["Name"] for p in flat]
    if len(set(names)) != len(names):
        raise UnsupportedDefinition(f"step names repeat: {names}")
    for planned in flat:
        unknown = planned.depends_on - set(names)
        if unknown:
            raise UnsupportedDefinition(
                f"step {planned.step['Name']} depends on unknown step(s) {sorted(unknown)}"
            )
    ordered: list[_Planned] = []
    done: set[str] = set()
    while len(ordered) < len(flat):
        ready = [p for p in flat if p.step["Name"] not in done and p.depends_on <= done]
        if not ready:
            cycle = sorted(set(names) - done)
            raise UnsupportedDefinition(f"steps depend on each other in a cycle: {cycle}")
        ordered.append(ready[0])
        done.add(ready[0].step["Name"])
    return ordered


def resolve_parameters(definition: Mapping, overrides: Mapping[str, Any] | None) -> dict:
    """Defaults from the definition, overridden by name; values get the parameter's type."""
    declared = {p["Name"]: p for p in definition.get("Parameters", [])}
    unknown = set(overrides or {}) - set(declared)
    if unknown:
        raise ValueError(
            f"unknown parameter(s) {sorted(unknown)}; the pipeline has {sorted(declared)}"
        )
    values = {}
    for name, parameter in declared.items():
        if overrides and name in overrides:
            raw = overrides[name]
        elif "DefaultValue" in parameter:
            raw = parameter["DefaultValue"]
        else:
            raise ValueError(f"parameter {name} has no default; give it a value")
        try:
            values[name] = PARAMETER_TYPES[parameter.get("Type", "String")](raw)
        except (TypeError, ValueError):
            kind = parameter.get("Type", "String")
            raise ValueError(f"parameter {name} ({kind}): {raw!r} is not a valid value") from None
    return values


def run_pipeline(
    definition: Mapping,
    *,
    pipeline_name: str,
    s3_root: Path,
    work_root: Path,
    registry_root: Path,
    byom_image_uri: str | None = None,
    parameters: Mapping[str, Any] | None = None,
    execution_id: str | None = None,
    log: Log = print,
) -> PipelineRun:
    """Execute ``definition``; returns the run record (it does not raise when a step fails).

    ``s3_root`` holds one folder per bucket; ``work_root`` the jobs' ``/opt/ml`` stand-ins
    (``<work_root>/<pipeline>/<execution>/<step>``); ``registry_root`` the model registry
    (``<registry_root>/<group>/<version>.json``). ``byom_image_uri`` is the image the
    definition uses for the workshop's model image. Raises :class:`UnsupportedDefinition`
    (before running anything) for a step type it cannot execute, and ``ValueError`` for an
    unknown or mistyped parameter override.
    """
    ordered = plan(definition)
    values = resolve_parameters(definition, parameters)
    started_at = datetime.now(UTC)
    execution_id = execution_id or started_at.strftime("local-%Y%m%d-%H%M%S")
    scope = Scope(
        parameters=values,
        execution={
            "PipelineExecutionId": execution_id,
            "PipelineName": pipeline_name,
            "PipelineExecutionArn": f"local:pipeline/{pipeline_name}/execution/{execution_id}",
            "StartDateTime": started_at.isoformat(),
            "CurrentDateTime": started_at.isoformat(),
        },
    )
    ctx = JobContext(
        s3=LocalS3(Path(s3_root)),
        work=Path(work_root) / pipeline_name / execution_id,
        execution_id=execution_id,
        byom_image_uri=byom_image_uri,
        log=log,
    )
    run = PipelineRun(pipeline_name, execution_id, values)
    run.steps = [StepRun(p.step["Name"], p.step["Type"]) for p in ordered]
    outcome: dict[str, bool] = {}  # condition step → the branch it chose
    clock = time.perf_counter()
    for planned in ordered:
        step, record = planned.step, run.step(planned.step["Name"])
        skipped = any(run.step(name).status == "NotExecuted" for name in planned.depends_on)
        if skipped or (planned.condition and outcome.get(planned.condition) != planned.branch):
            record.status = "NotExecuted"
            continue
        log(f"{record.name} ({record.type})")
        started = time.perf_counter()
        try:
            record.outputs = _execute(step, scope, ctx, registry_root, outcome)
            record.status = "Succeeded"
        except _FailStep as fail:
            record.status, record.failure_reason = "Failed", str(fail)
            run.failure_reason = f"{record.name}: {fail}"
        except Exception as error:  # the run record must say which step broke and why
            record.status, record.failure_reason = "Failed", _reason(error)
            run.failure_reason = f"{record.name} ({record.type}) failed: {record.failure_reason}"
        record.seconds = time.perf_counter() - started
        log(f"{record.name}: {record.status} in {record.seconds:.1f} s")
        if record.status == "Failed":
            break
    run.status = "Failed" if run.failure_reason else "Succeeded"
    run.seconds = time.perf_counter() - clock
    return run


def _reason(error: Exception) -> str:
    """A job's own failure reason as it stands; anything else with its type."""
    if isinstance(error, JobFailed | ExpressionError):
        return str(error)
    return f"{type(error).__name__}: {error}"


class _FailStep(Exception):
    """A Fail step ran: the pipeline stops with its error message."""


def _execute(
    step: dict, scope: Scope, ctx: JobContext, registry_root: Path, outcome: dict[str, bool]
) -> dict:
    name, kind = step["Name"], step["Type"]
    if kind == "Condition":
        conditions = step["Arguments"]["Conditions"]
        results = [scope.condition(condition) for condition in conditions]
        outcome[name] = all(results)
        scope.steps[name] = {"Outcome": str(outcome[name]).lower()}
        return {"outcome": outcome[name], "conditions": [
            _shown_condition(scope, condition, result)
            for condition, result in zip(conditions, results, strict=True)
        ]}  # fmt: skip
    if kind == "Fail":
        raise _FailStep(scope.value(step.get("Arguments", {}).get("ErrorMessage", "")))
    arguments = scope.value(step.get("Arguments", {}))
    if kind == "RegisterModel":
        properties, outputs = register_model(name, arguments, ctx, Path(registry_root))
    else:
        properties, outputs = JOB_STEPS[kind](name, arguments, ctx)
    scope.steps[name] = properties
    files = {}
    for declared in step.get("PropertyFiles", []):
        destinations = {
            o["OutputName"]: o["S3Output"]["S3Uri"]
            for o in properties.get("ProcessingOutputConfig", {}).get("Outputs", [])
        }
        uri = f"{destinations[declared['OutputName']].rstrip('/')}/{declared['FilePath']}"
        local = ctx.work / "property-files" / name / declared["FilePath"]
        try:
            files[declared["PropertyFileName"]] = ctx.s3.fetch(uri, local)
        except JobFailed:  # reported when an expression reads it, as SageMaker does
            files[declared["PropertyFileName"]] = local
    scope.property_files[name] = files
    return outputs


def _shown_condition(scope: Scope, condition: dict, result: bool) -> str:
    if "LeftValue" in condition:
        left, right = scope.value(condition["LeftValue"]), scope.value(condition["RightValue"])
        return f"{left} {condition['Type']} {right}: {result}"
    return f"{condition['Type']}: {result}"
