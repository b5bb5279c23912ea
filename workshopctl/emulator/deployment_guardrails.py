"""An UpdateEndpoint's DeploymentConfig as the stages of its blue/green traffic shift.

SageMaker's deployment guardrails (https://docs.aws.amazon.com/sagemaker/latest/dg/deployment-guardrails-blue-green.html,
https://docs.aws.amazon.com/sagemaker/latest/APIReference/API_DeploymentConfig.html): the new
(green) fleet starts beside the old (blue) one; traffic moves to it in stages, each followed by a
baking period (``WaitIntervalInSeconds``) while the ``AutoRollbackConfiguration`` alarms are
watched; an alarm in ``ALARM`` during any baking period sends all traffic back to the blue fleet.

* ``ALL_AT_ONCE``: all traffic to green, then bake; the blue fleet goes after the bake;
* ``CANARY``: ``CanarySize`` of the green capacity takes that share of traffic for the bake, then
  the rest shifts (deployment-guardrails-blue-green-canary.html);
* ``LINEAR``: ``LinearStepSize`` more of the capacity at each step, each step baked
  (deployment-guardrails-blue-green-linear.html).

The rehearsal cannot wait AWS's minutes: each bake lasts at most ``$WORKSHOP_EMULATOR_MAX_BAKE_
SECONDS`` (default 5 s), long enough to see the stages and trip an alarm, short enough for a lab.
"""

from __future__ import annotations

import math
import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

BAKE_CAP_VARIABLE = "WORKSHOP_EMULATOR_MAX_BAKE_SECONDS"
DEFAULT_BAKE_CAP_SECONDS = 5.0
ROUTINGS = ("ALL_AT_ONCE", "CANARY", "LINEAR")
SIZE_TYPES = ("INSTANCE_COUNT", "CAPACITY_PERCENT")


class InvalidDeploymentConfig(ValueError):
    """The DeploymentConfig cannot be run; the message names the field and allowed values."""


@dataclass(frozen=True)
class Stage:
    """Send ``share`` of the traffic to the green fleet, then bake (or not) for ``bake``."""

    share: float
    bake_seconds: float


@dataclass(frozen=True)
class Guardrails:
    routing: str
    stages: tuple[Stage, ...]
    alarms: tuple[str, ...]


def bake_cap(environ: Mapping[str, str] = os.environ) -> float:
    text = environ.get(BAKE_CAP_VARIABLE, "").strip()
    if not text:
        return DEFAULT_BAKE_CAP_SECONDS
    try:
        cap = float(text)
    except ValueError:
        raise InvalidDeploymentConfig(f"{BAKE_CAP_VARIABLE}={text!r} is not a number") from None
    if not (math.isfinite(cap) and cap >= 0):
        raise InvalidDeploymentConfig(f"{BAKE_CAP_VARIABLE}={text!r} must be >= 0 seconds")
    return cap


def _share(size: Mapping[str, Any], field: str, green_instances: int) -> float:
    kind, value = size.get("Type"), size.get("Value")
    if kind not in SIZE_TYPES:
        raise InvalidDeploymentConfig(f"{field}.Type={kind!r}: allowed {', '.join(SIZE_TYPES)}")
    if not isinstance(value, int) or value < 1:
        raise InvalidDeploymentConfig(f"{field}.Value={value!r} must be a positive integer")
    if kind == "CAPACITY_PERCENT":
        return min(value / 100, 1.0)
    return min(value / max(green_instances, 1), 1.0)


def guardrails_of(
    deployment: Mapping[str, Any] | None, green_instances: int, cap: float | None = None
) -> Guardrails | None:
    """The stages of ``deployment`` (UpdateEndpoint's DeploymentConfig) for a green fleet of
    ``green_instances``; None without a blue/green policy (then the update swaps at once)."""
    policy = (deployment or {}).get("BlueGreenUpdatePolicy")
    if not policy:
        return None
    cap = bake_cap() if cap is None else cap
    routing = policy.get("TrafficRoutingConfiguration") or {}
    kind = routing.get("Type")
    if kind not in ROUTINGS:
        raise InvalidDeploymentConfig(
            f"TrafficRoutingConfiguration.Type={kind!r}: allowed {', '.join(ROUTINGS)}"
        )
    bake = min(float(routing.get("WaitIntervalInSeconds", 0)), cap)
    if kind == "ALL_AT_ONCE":
        stages = (Stage(1.0, bake),)
    elif kind == "CANARY":
        share = _share(routing.get("CanarySize") or {}, "CanarySize", green_instances)
        stages = (Stage(share, bake), Stage(1.0, 0.0))
    else:
        step = _share(routing.get("LinearStepSize") or {}, "LinearStepSize", green_instances)
        count = math.ceil(1 / step - 1e-9)
        stages = tuple(Stage(min(step * (i + 1), 1.0), bake) for i in range(count))
    alarms = tuple(
        alarm["AlarmName"]
        for alarm in ((deployment or {}).get("AutoRollbackConfiguration") or {}).get("Alarms", [])
    )
    return Guardrails(kind, stages, alarms)
