"""What a SageMaker pipeline definition asks for, before anything runs: the steps in an order
their dependencies allow, and the parameters' values.

A step depends on the steps in its ``DependsOn`` and on every step its arguments read
(``{"Get": "Steps.X..."}``); a step inside a condition's branch also depends on the condition.
A definition the emulator cannot run (an unknown step type, a cycle, a reference to a step that
does not exist) is an :class:`UnsupportedDefinition` naming what is wrong.
Definition schema: https://aws-sagemaker-mlops.github.io/sagemaker-model-building-pipeline-definition-JSON-schema/
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from workshopctl.emulator.pipeline_expressions import step_references

# The step types whose semantics the emulator implements (the job steps run as jobs of the
# emulated account; Condition and Fail are evaluated by the execution itself).
JOB_STEP_TYPES = ("Processing", "Training", "Tuning", "Model", "Transform", "RegisterModel")
SUPPORTED_TYPES = (*JOB_STEP_TYPES, "Condition", "Fail")
PARAMETER_TYPES: dict[str, Callable[[Any], Any]] = {
    "String": str,
    "Integer": int,
    "Float": float,
    "Boolean": lambda v: v if isinstance(v, bool) else str(v).strip().lower() == "true",
}


class UnsupportedDefinition(ValueError):
    """The definition uses something the emulator cannot execute (named in the message)."""


@dataclass(frozen=True)
class PlannedStep:
    step: dict
    depends_on: frozenset[str]
    condition: str | None = None  # the condition step whose branch this step is in
    branch: bool | None = None  # True: IfSteps, False: ElseSteps

    @property
    def name(self) -> str:
        return self.step["Name"]

    @property
    def type(self) -> str:
        return self.step["Type"]


def plan(definition: Mapping) -> list[PlannedStep]:
    """Every step (branches included) in an order that respects its dependencies.

    Ties keep the definition's order, so the same definition always runs the same way.
    """
    flat: list[PlannedStep] = []

    def visit(steps: list[dict], condition: str | None, branch: bool | None) -> None:
        for step in steps:
            kind = step.get("Type")
            if kind not in SUPPORTED_TYPES:
                raise UnsupportedDefinition(
                    f"step {step.get('Name')!r} has type {kind!r}, which the emulator cannot "
                    f"execute (it runs {', '.join(SUPPORTED_TYPES)})"
                )
            arguments = step.get("Arguments", {})
            read = arguments.get("Conditions", []) if kind == "Condition" else arguments
            depends = set(step.get("DependsOn", [])) | step_references(read)
            if condition:
                depends.add(condition)
            flat.append(PlannedStep(step, frozenset(depends), condition, branch))
            if kind == "Condition":
                visit(arguments.get("IfSteps", []), step["Name"], True)
                visit(arguments.get("ElseSteps", []), step["Name"], False)

    visit(list(definition.get("Steps", [])), None, None)
    names = [p.name for p in flat]
    if len(set(names)) != len(names):
        raise UnsupportedDefinition(f"step names repeat: {names}")
    for planned in flat:
        unknown = planned.depends_on - set(names)
        if unknown:
            raise UnsupportedDefinition(
                f"step {planned.name} depends on unknown step(s) {sorted(unknown)}"
            )
    ordered: list[PlannedStep] = []
    done: set[str] = set()
    while len(ordered) < len(flat):
        ready = [p for p in flat if p.name not in done and p.depends_on <= done]
        if not ready:
            cycle = sorted(set(names) - done)
            raise UnsupportedDefinition(f"steps depend on each other in a cycle: {cycle}")
        ordered.append(ready[0])
        done.add(ready[0].name)
    return ordered


def resolve_parameters(definition: Mapping, overrides: Mapping[str, Any] | None) -> dict:
    """Defaults from the definition, overridden by name; values get the parameter's type.

    An unknown name, a missing value or a value of the wrong type is a ``ValueError`` naming
    the parameter (StartPipelineExecution answers it as a ValidationException)."""
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
