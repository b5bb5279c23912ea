"""The expression language of a SageMaker pipeline definition, evaluated locally.

A definition refers to values it only knows at run time: ``{"Get": "Parameters.X"}``,
``{"Get": "Execution.PipelineExecutionId"}``, ``{"Get": "Steps.S.ProcessingOutputConfig.
Outputs['train'].S3Output.S3Uri"}``, ``{"Std:Join": {"On": "/", "Values": [...]}}`` and
``{"Std:JsonGet": {"PropertyFile": {"Get": "Steps.S.PropertyFiles.F"}, "Path": "a.b[0]"}}``;
condition steps compare such values. :class:`Scope` resolves them against what the run knows
so far; :func:`step_references` finds, without evaluating, which steps an expression reads.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

# One segment of a property path: `.Name`, `['key']`, `["key"]` or `[3]`.
_SEGMENT = re.compile(r"""\.?([A-Za-z0-9_:\-]+)|\[(?:'([^']*)'|"([^"]*)"|(-?\d+))\]""")
_STEP_REFERENCE = re.compile(r"^Steps\.([A-Za-z0-9_\-]+)")
# List items are found by these keys when a path indexes a list with a name.
_NAME_KEYS = ("OutputName", "InputName", "ChannelName", "Name", "MetricName")


class ExpressionError(ValueError):
    """A reference the run cannot resolve (unknown parameter, step property or JSON path)."""


def parse_path(path: str) -> list[str | int]:
    """``"Steps.S.Outputs['train'].S3Uri"`` → ``["Steps", "S", "Outputs", "train", "S3Uri"]``."""
    segments: list[str | int] = []
    position = 0
    while position < len(path):
        match = _SEGMENT.match(path, position)
        if not match or match.end() == position:
            raise ExpressionError(f"cannot parse {path!r} at {path[position:]!r}")
        name, single, double, index = match.groups()
        if index is not None:
            segments.append(int(index))
        else:
            segments.append(next(v for v in (name, single, double) if v is not None))
        position = match.end()
    return segments


def walk(node: Any, segments: list[str | int], shown: str) -> Any:
    """Follow ``segments`` into dicts and lists; a name on a list matches an item's *Name key."""
    for segment in segments:
        if _holds(node, segment):
            node = node[segment]
        elif isinstance(node, list) and isinstance(segment, str):
            named = [
                item for item in node
                if isinstance(item, Mapping) and segment in (item.get(k) for k in _NAME_KEYS)
            ]  # fmt: skip
            if not named:
                raise ExpressionError(f"{shown}: no item named {segment!r}")
            node = named[0]
        else:
            raise ExpressionError(f"{shown}: {segment!r} not found")
    return node


def _holds(node: Any, segment: str | int) -> bool:
    if isinstance(node, Mapping):
        return segment in node
    return isinstance(node, list) and isinstance(segment, int) and -len(node) <= segment < len(node)


def json_get(document: Any, path: str, shown: str) -> Any:
    """JsonGet's path (``a.b[0].c``) into a parsed JSON document."""
    return walk(document, parse_path(path), shown)


@dataclass
class Scope:
    """What a running pipeline knows: parameters, execution variables, finished steps."""

    parameters: dict[str, Any]
    execution: dict[str, Any]
    steps: dict[str, dict] = field(default_factory=dict)  # step name → its properties
    # step name → property file name → local JSON file (set when the step has run)
    property_files: dict[str, dict[str, Path]] = field(default_factory=dict)

    def get(self, reference: str) -> Any:
        """The value of a ``Get`` reference."""
        segments = parse_path(reference)
        root, rest = segments[0], segments[1:]
        if root == "Parameters":
            if len(rest) != 1 or rest[0] not in self.parameters:
                raise ExpressionError(f"{reference}: no such parameter")
            return self.parameters[rest[0]]
        if root == "Execution":
            if len(rest) != 1 or rest[0] not in self.execution:
                raise ExpressionError(f"{reference}: unknown execution variable")
            return self.execution[rest[0]]
        if root == "Steps" and rest:
            step = str(rest[0])
            if step not in self.steps:
                raise ExpressionError(f"{reference}: step {step} has not run")
            return walk(self.steps[step], rest[1:], reference)
        raise ExpressionError(f"{reference}: unsupported reference")

    def property_file(self, reference: str) -> Any:
        """The parsed JSON of ``Steps.S.PropertyFiles.F``."""
        segments = parse_path(reference)
        if len(segments) != 4 or segments[0] != "Steps" or segments[2] != "PropertyFiles":
            raise ExpressionError(f"{reference}: not a property file reference")
        step, name = str(segments[1]), str(segments[3])
        path = self.property_files.get(step, {}).get(name)
        if path is None:
            raise ExpressionError(f"{reference}: step {step} declared no property file {name}")
        if not path.is_file():
            raise ExpressionError(f"{reference}: {path} was not written by step {step}")
        return json.loads(path.read_text(encoding="utf-8"))

    def value(self, expression: Any) -> Any:
        """Evaluate an expression; plain values (and containers of them) evaluate to themselves."""
        if isinstance(expression, dict):
            if set(expression) == {"Get"}:
                return self.get(expression["Get"])
            if set(expression) == {"Std:Join"}:
                join = expression["Std:Join"]
                return str(join.get("On", "")).join(
                    _as_text(self.value(v)) for v in join.get("Values", [])
                )
            if set(expression) == {"Std:JsonGet"}:
                spec = expression["Std:JsonGet"]
                reference = spec["PropertyFile"]["Get"]
                return json_get(self.property_file(reference), spec["Path"], reference)
            return {key: self.value(item) for key, item in expression.items()}
        if isinstance(expression, list):
            return [self.value(item) for item in expression]
        return expression

    def condition(self, condition: dict) -> bool:
        """Evaluate one entry of a condition step's ``Conditions``."""
        kind = condition["Type"]
        if kind == "Not":
            return not self.condition(condition["Expression"])
        if kind == "Or":
            return any(self.condition(c) for c in condition["Conditions"])
        if kind == "In":
            query = self.value(condition["QueryValue"])
            return any(_equal(query, self.value(v)) for v in condition["Values"])
        left, right = self.value(condition["LeftValue"]), self.value(condition["RightValue"])
        compare: dict[str, Callable[[Any, Any], bool]] = {
            "Equals": _equal,
            "GreaterThan": lambda a, b: a > b,
            "GreaterThanOrEqualTo": lambda a, b: a >= b,
            "LessThan": lambda a, b: a < b,
            "LessThanOrEqualTo": lambda a, b: a <= b,
        }
        if kind not in compare:
            raise ExpressionError(f"condition type {kind!r} is not supported")
        try:
            return compare[kind](left, right)
        except TypeError:
            raise ExpressionError(f"{kind}: cannot compare {left!r} with {right!r}") from None


def _as_text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _equal(left: Any, right: Any) -> bool:
    numbers = (int, float)
    if isinstance(left, numbers) and isinstance(right, numbers):
        return float(left) == float(right)
    return left == right


def step_references(node: Any) -> set[str]:
    """Names of the steps an expression tree reads (``Get: Steps.X...`` anywhere in it)."""
    found: set[str] = set()
    if isinstance(node, dict):
        reference = node.get("Get")
        if isinstance(reference, str) and (match := _STEP_REFERENCE.match(reference)):
            found.add(match.group(1))
        for item in node.values():
            found |= step_references(item)
    elif isinstance(node, list):
        for item in node:
            found |= step_references(item)
    return found
